"""Search results as CSV and Markdown, each row with a full citation:
title, page (printed label and PDF page), section, official URL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from .searcher import Hit

CSV_FIELDS = (
    "rank",
    "title",
    "lang",
    "kind",
    "page",
    "pdf_page",
    "section",
    "url",
    "identifier",
    "retrieved",
    "doc_id",
    "chunk_id",
    "score",
    "text",
)

DocLookup = Callable[[str], dict]


def citation(hit: Hit, doc: dict) -> str:
    """ "Title, p. 12, 38 § Innovaatiokumppanuus. URL" in one line; a web
    page's snapshot adds the day it was retrieved: "URL (retrieved 2026-11-30)"."""
    where = doc.get("url") or doc.get("identifier") or ""
    if where and doc.get("retrieved"):
        where += f" (retrieved {doc['retrieved'][:10]})"
    text = hit.citation
    return f"{text}. {where}" if where else text


def _row(hit: Hit, doc: dict) -> dict:
    return {
        "rank": hit.rank,
        "title": hit.title,
        "lang": hit.lang,
        "kind": hit.kind,
        "page": hit.pages,
        "pdf_page": hit.page,
        "section": " › ".join(hit.section),
        "url": doc.get("url", ""),
        "identifier": doc.get("identifier", ""),
        "retrieved": doc.get("retrieved", ""),  # a web page's snapshot
        "doc_id": hit.doc_id,
        "chunk_id": hit.chunk_id,
        "score": f"{hit.score:.4f}",
        "text": " ".join(hit.text.split()),
    }


def to_csv(hits: list[Hit], document: DocLookup) -> str:
    """CSV text (RFC 4180 quoting by the csv module). Cells that a
    spreadsheet would run as a formula (=, +, -, @ first) get a leading
    apostrophe, since document text is untrusted."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for hit in hits:
        writer.writerow({k: _defuse(v) for k, v in _row(hit, document(hit.doc_id)).items()})
    return out.getvalue()


def _defuse(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_markdown(query: str, hits: list[Hit], document: DocLookup) -> str:
    """A Markdown list: the citation of each hit, then its text as a quote.
    Document text is escaped so that it cannot form links or markup."""
    lines = [f"# {_md(query)}", ""]
    for hit in hits:
        doc = document(hit.doc_id)
        url = doc.get("url", "")
        title = _md(hit.title)
        head = f"[{title}](<{url}>)" if url.startswith(("https://", "http://")) else title
        section = f", {_md(hit.section[-1])}" if hit.section else ""
        ident = f" ({_md(doc['identifier'])})" if doc.get("identifier") else ""
        if doc.get("retrieved"):
            ident += f" (retrieved {_md(doc['retrieved'][:10])})"
        lines.append(f"{hit.rank}. {head}{ident}, p. {_md(hit.pages)}{section} [{hit.lang}]")
        lines.append("")
        lines.append("   > " + _md(" ".join(hit.text.split())))
        lines.append("")
    return "\n".join(lines)


_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~&")


def _md(text: str) -> str:
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
