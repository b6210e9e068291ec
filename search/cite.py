"""What a hit is cited by: the document, the section, the printed page for
a PDF, or the address and retrieval date for a web page. One record, and
its wording in the page's language, that the cards, the answer box, "copy
citation" and both exports use (webapp/cards.py, search/export.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.labels import label
from kb.records import DocumentMeta
from search.hits import Hit

WEB_KIND = "web page"


@dataclass(frozen=True)
class Citation:
    title: str
    section: str  # the deepest heading, "" if none
    pages: str  # the printed page label(s); "" where pages mean nothing (a web page)
    pdf_page: int | None  # the physical page a PDF viewer opens; None without pages
    url: str
    identifier: str
    retrieved: str  # YYYY-MM-DD for a web page, if sources.toml records it
    lang: str
    web: bool  # cited by its address, not by a page
    file: str = ""  # its file in the corpus folder: where a citation without address points

    @property
    def where_kept(self) -> str:
        """The file name, for a citation that has neither an address nor an
        identifier (a file no sources.toml entry describes); "" otherwise."""
        return "" if self.url or self.identifier else self.file


def paged(doc: DocumentMeta) -> bool:
    """Whether a document has pages worth citing: a PDF (or a document the
    manifest does not describe, as before). A web page, Markdown or text
    file is one "page" only because the reader gives it one."""
    if doc.kind == WEB_KIND:
        return False
    return not doc.path or doc.path.lower().endswith(".pdf")


def cite(hit: Hit, doc: DocumentMeta) -> Citation:
    """The citation of ``hit``; ``doc`` is the index's record of its
    document (Searcher.document; IndexedDocument.unknown when unknown)."""
    has_pages = paged(doc)
    return Citation(
        title=hit.title,
        section=hit.section[-1] if hit.section else "",
        pages=hit.pages if has_pages else "",
        pdf_page=hit.page_start if has_pages else None,
        url=doc.url,
        identifier=doc.identifier,
        retrieved=doc.retrieved,
        lang=hit.lang,
        web=doc.kind == WEB_KIND,
        file=doc.path,
    )


def format_date(value: str, ui: str) -> str:
    """An ISO date (YYYY-MM-DD) as the page's language writes it: 1.5.2024
    in Finnish, 2024-05-01 in Swedish and English; anything else as it is."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if m and ui == "fi":
        return f"{int(m[3])}.{int(m[2])}.{m[1]}"
    return value.strip()


def where_text(c: Citation, ui: str) -> str:
    """Where in the document: "s. 12" for a PDF; for a web page its address
    and the date it was retrieved (when known), never a page."""
    if c.pages:
        return f"{label(ui, 'page')} {c.pages}"
    parts = [c.url] if c.url else []
    if c.retrieved:
        parts.append(f"({label(ui, 'retrieved')} {format_date(c.retrieved, ui)})")
    return " ".join(parts)


def short_citation(c: Citation, ui: str) -> str:
    """Title, section, page or address: the answer box's reference."""
    parts = [c.title] + ([c.section] if c.section else [])
    where = where_text(c, ui)
    return ", ".join(parts + ([where] if where else []))


def citation_text(c: Citation, ui: str) -> str:
    """The full citation a person pastes: title, section, page, then the
    address (and retrieval date) or identifier, else the file's name. Plain text, unescaped: the
    page shows it in st.code, which renders nothing."""
    parts = [c.title] + ([c.section] if c.section else [])
    if c.pages:
        parts.append(f"{label(ui, 'page')} {c.pages}")
    text = ", ".join(parts)
    if c.web:
        where = where_text(c, ui) or c.where_kept
        return f"{text}. {where}" if where else text
    tail = " ".join(x for x in (c.url, f"({c.identifier})" if c.identifier else "") if x)
    tail = tail or c.where_kept
    return f"{text}. {tail}" if tail else text
