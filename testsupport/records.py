"""Records made with defaults for the tests: a ``Chunk``, and a ``Hit``
holding one, without an index."""

from __future__ import annotations

from kb.records import Chunk, DocumentMeta, Heading, IndexedDocument, Page
from search.hits import Hit


def chunk(
    doc_id: str = "d",
    section: tuple[str, ...] = ("S",),
    text: str = "text",
    ordinal: int = 0,
    lang: str = "en",
    group: str = "",
) -> Chunk:
    """A one-page chunk of ``doc_id`` whose text is ``text``."""
    return Chunk(
        chunk_id=f"{doc_id}#{ordinal}",
        doc_id=doc_id,
        title=doc_id,
        lang=lang,
        kind="other",
        group=group,
        page_start=1,
        page_end=1,
        label_start="1",
        label_end="1",
        section=section,
        text=text,
        char_start=0,
        char_end=len(text),
        ordinal=ordinal,
    )


def hit(**kw) -> Hit:
    """A hit on a passage of the 2020 strategy (rank 1), with ``kw`` changed:
    the chunk's fields and the hit's own (score, rank, row, ranks, highlights)."""
    base = dict(
        chunk_id="strategy-2020-fi:0007",
        doc_id="strategy-2020-fi",
        title="Kansallinen julkisten hankintojen strategia 2020",
        lang="fi",
        kind="strategy",
        group="strategy-2020",
        page_start=9,
        label_start="7",
        page_end=9,
        label_end="7",
        section=("3 Tavoitteet", "3.2 Innovaatiot"),
        text="Hankinnoilla edistetään innovaatioita.",
        score=0.91234,
        rank=1,
        row=7,
        char_start=0,
        char_end=40,
    )
    base.update(kw)
    hit_fields = ("score", "rank", "row", "dense_rank", "bm25_rank", "highlights")
    found = {k: base.pop(k) for k in hit_fields if k in base}
    return Hit(Chunk(**base), **found)


# A two-page Act-like document for the chunker (tests/unit/test_chunk.py).
def document(doc_id: str = "doc", **fields) -> IndexedDocument:
    """An index's record of a document (Searcher.document), with only the
    fields a test names."""
    return IndexedDocument(**{"id": doc_id, "title": "", "lang": "fi", **fields})


META = DocumentMeta(id="doc", title="Doc", lang="fi", kind="strategy", group="g")


def two_pages(words: int = 300) -> list[Page]:
    body = " ".join(f"sana{i}" for i in range(words))
    p1 = f"1 luku Yleistä\n1 § Tarkoitus\n{body}"
    p2 = f"jatkuu {body}\n2 § Tavoitteet\nLyhyt pykälä."
    return [
        Page(1, "i", p1, (Heading(0, 2, "1 luku Yleistä"), Heading(15, 3, "1 § Tarkoitus"))),
        Page(2, "ii", p2, (Heading(p2.index("2 §"), 3, "2 § Tavoitteet"),)),
    ]
