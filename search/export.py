"""Search results as CSV and Markdown, each row with a full citation:
title, section, page (printed label and PDF page) or, for a web page, its
address and retrieval date; official URL. Results are numbered by rank:
the fusion score means nothing to a reader."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from kb.labels import label
from kb.records import DocumentMeta
from search.cite import cite, format_date, where_text
from search.searcher import Hit

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
    "doc_id",
    "chunk_id",
    "retrieved",
    "text",
    "file",
)

DocLookup = Callable[[str], DocumentMeta]  # Searcher.document


def _row(hit: Hit, doc: DocumentMeta) -> dict:
    c = cite(hit, doc)
    return {
        "rank": hit.rank,
        "title": hit.title,
        "lang": hit.lang,
        "kind": hit.kind,
        "page": c.pages,
        "pdf_page": c.pdf_page or "",
        "section": " › ".join(hit.section),
        "url": c.url,
        "identifier": c.identifier,
        "doc_id": hit.doc_id,
        "chunk_id": hit.chunk_id,
        "retrieved": c.retrieved,
        "text": " ".join(hit.text.split()),
        "file": c.where_kept,  # a file without address or identifier: its name
    }


def to_csv(hits: list[Hit], document: DocLookup, ui: str = "en") -> str:
    """CSV text (RFC 4180 quoting by the csv module), one row per hit in
    rank order; the column names are the same in every language. Cells that a
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


def to_markdown(query: str, hits: list[Hit], document: DocLookup, ui: str = "en") -> str:
    """A Markdown list in rank order: the citation of each hit (its page as
    the page's language writes it, or a web page's address and retrieval
    date), then its text as a quote. Untrusted text is escaped only where
    Markdown could read it as markup (md_text), so it pastes as written."""
    lines = [f"# {md_text(' '.join(query.split()))}", ""]  # after "# " nothing opens a block
    for hit in hits:
        doc = document(hit.doc_id)
        c = cite(hit, doc)
        link = c.url.startswith(("https://", "http://")) and not _URL_UNSAFE.search(c.url)
        title = md_text(hit.title, line_start=not link)  # else it opens the list item
        head = f"[{title}](<{c.url}>)" if link else title
        ident = f" ({md_text(c.identifier)})" if c.identifier else ""
        if c.where_kept:  # no address, no identifier: the file's name
            ident = f" ({md_text(c.where_kept)})"
        section = f", {md_text(c.section)}" if c.section else ""
        where = md_text(where_text(c, ui)) if c.pages else _web_where(c, ui, link)
        where = f", {where}" if where else ""
        lines.append(f"{hit.rank}. {head}{ident}{section}{where} \\[{md_text(hit.lang)}\\]")
        lines.append("")
        lines.append("   > " + md_text(" ".join(hit.text.split()), line_start=True))
        lines.append("")
    return "\n".join(lines)


_URL_UNSAFE = re.compile(r"[\s<>]")


def _web_where(c, ui: str, linked: bool) -> str:
    """A web page's retrieval date (its address is already the title's link)."""
    parts = [] if linked or not c.url else [md_text(c.url)]
    if c.retrieved:
        parts.append(f"{label(ui, 'retrieved')} {md_text(format_date(c.retrieved, ui))}")
    return " ".join(parts)


# Characters that form Markdown anywhere in a line (emphasis, code, links,
# images, HTML, autolinks, tables, strikethrough, math, escapes, entities).
_INLINE = set("\\`*_[]<>|~$")
# What forms a block at the start of a line: a heading, a list item, a
# quote, a rule, a fence.
_LINE_START = re.compile(r"^(\s*\d{0,9})(>|(?<!\d)[#+-](?=[\s-]|$)|(?<=\d)[.)](?=\s|$))")


def md_text(text: str, line_start: bool = False) -> str:
    """``text`` safe inside a Markdown line: the characters that could form
    markup get a backslash, ordinary punctuation (full stops, commas,
    hyphens, parentheses, "!") stays as written; an entity (``&amp;``)
    loses its ampersand's meaning. ``line_start``: the text opens a line
    (or a list item), where "#", ">", "-", "+", "=" or "12." would start a
    block; that mark is escaped too."""
    out = "".join("\\" + ch if ch in _INLINE else ch for ch in text)
    out = re.sub(r"&(?=#?\w+;)", "&amp;", out)
    if line_start:
        out = _LINE_START.sub(lambda m: m[1] + "\\" + m[2], out, count=1)
    return out
