"""Typed records that flow through the pipeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DocumentMeta:
    """What we know about one document: from corpus/sources.toml or defaults."""

    id: str
    title: str
    lang: str
    kind: str = "other"
    group: str = ""
    url: str = ""
    identifier: str = ""
    path: str = ""  # relative to the corpus folder; "" when not present locally
    retrieved: str = ""  # YYYY-MM-DD a web page was taken from its address, if known


@dataclass(frozen=True)
class IndexedDocument(DocumentMeta):
    """A document as an index holds it: its metadata, ``path`` its file in
    the corpus folder, and that file's sha256 and number of pages."""

    sha256: str = ""
    pages: int = 0

    @classmethod
    def unknown(cls, doc_id: str) -> IndexedDocument:
        """A document the index does not describe: cited by its passages alone."""
        return cls(id=doc_id, title="", lang="")


@dataclass(frozen=True)
class Heading:
    """A heading found in a page's text, at a character offset into that page."""

    offset: int
    level: int
    title: str


@dataclass(frozen=True)
class Page:
    """One page of cleaned text. ``number`` is 1-based; ``label`` is the printed label."""

    number: int
    label: str
    text: str
    headings: tuple[Heading, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A piece of one document, with everything needed to cite it."""

    chunk_id: str
    doc_id: str
    title: str
    lang: str
    kind: str
    group: str
    page_start: int
    page_end: int
    label_start: str
    label_end: str
    section: tuple[str, ...]
    text: str
    # Offsets: char_start into page_start's text, char_end into page_end's text.
    char_start: int
    char_end: int
    ordinal: int = 0  # position of the chunk within its document
    # What the passage is part of (document title, heading path): embedded
    # and BM25-indexed with the text, never shown as part of it.
    context: str = ""

    @property
    def indexed_text(self) -> str:
        """The text that is embedded and BM25-indexed: context, then passage."""
        return f"{self.context}\n\n{self.text}" if self.context else self.text

    def to_json(self) -> dict:
        d = asdict(self)
        d["section"] = list(self.section)
        return d

    @classmethod
    def from_json(cls, d: dict) -> Chunk:
        d = dict(d)
        d["section"] = tuple(d.get("section", ()))
        return cls(**d)
