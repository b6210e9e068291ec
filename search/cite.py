"""What a hit is cited by: the document, the section, the printed page for
a PDF, or the address and retrieval date for a web page. One record that
the cards, the answer box, "copy citation" and both exports format in the
page's language (search/ui.py, search/export.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .hits import Hit

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


def paged(doc: dict) -> bool:
    """Whether a document has pages worth citing: a PDF (or a document the
    manifest does not describe, as before). A web page, Markdown or text
    file is one "page" only because the reader gives it one."""
    if doc.get("kind") == WEB_KIND:
        return False
    path = str(doc.get("path", ""))
    return not path or path.lower().endswith(".pdf")


def cite(hit: Hit, doc: dict) -> Citation:
    """The citation of ``hit``; ``doc`` is the manifest's record of its
    document (Searcher.document), {} when unknown."""
    has_pages = paged(doc)
    return Citation(
        title=hit.title,
        section=hit.section[-1] if hit.section else "",
        pages=hit.pages if has_pages else "",
        pdf_page=hit.page if has_pages else None,
        url=str(doc.get("url", "")),
        identifier=str(doc.get("identifier", "")),
        retrieved=str(doc.get("retrieved", "")),
        lang=hit.lang,
        web=doc.get("kind") == WEB_KIND,
    )
