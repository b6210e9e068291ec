"""Chunking: token budget, sections, pages, offsets."""

from __future__ import annotations

from ingest.chunk import Chunker
from testsupport.fakes import FakeEmbedder
from testsupport.records import META, two_pages


def test_chunks_respect_budget_pages_offsets_and_sections():
    fake = FakeEmbedder()
    chunker = Chunker(fake.count_tokens, max_tokens=64, overlap=8, overhead=fake.passage_overhead)
    pages = two_pages()
    chunks = chunker.chunk(META, pages)
    assert len(chunks) > 5
    by_number = {p.number: p for p in pages}
    for c in chunks:
        assert fake.count_tokens(c.text) + fake.passage_overhead <= 64
        assert c.doc_id == "doc" and c.lang == "fi"
        first = by_number[c.page_start]
        if c.page_start == c.page_end:
            assert first.text[c.char_start : c.char_end] == c.text
        else:
            assert first.text[c.char_start :] == c.text[: len(first.text) - c.char_start]
            assert c.text.endswith(by_number[c.page_end].text[: c.char_end])
        assert c.label_start == first.label
    # the chapter title alone does not make a chunk; it joins its first section
    assert chunks[0].text.startswith("1 luku Yleistä\n1 § Tarkoitus")
    assert chunks[0].section == ("1 luku Yleistä", "1 § Tarkoitus")
    last = chunks[-1]
    assert last.section == ("1 luku Yleistä", "2 § Tavoitteet")
    assert last.text == "2 § Tavoitteet\nLyhyt pykälä."
    assert (last.page_start, last.label_start) == (2, "ii")
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_a_section_spanning_pages_has_bothtwo_pages():
    fake = FakeEmbedder()
    chunker = Chunker(fake.count_tokens, max_tokens=512, overlap=0, overhead=4)
    chunks = chunker.chunk(META, two_pages(words=100))
    spanning = [c for c in chunks if c.page_start != c.page_end]
    assert len(spanning) == 1
    c = spanning[0]
    assert c.section[-1] == "1 § Tarkoitus"
    assert (c.page_start, c.page_end, c.label_start, c.label_end) == (1, 2, "i", "ii")


def test_overlap_repeats_text_between_neighbours():
    fake = FakeEmbedder()
    chunker = Chunker(fake.count_tokens, max_tokens=64, overlap=12, overhead=4)
    chunks = [c for c in chunker.chunk(META, two_pages()) if c.section[-1] == "1 § Tarkoitus"]
    a, b = chunks[1], chunks[2]
    assert a.text.split()[-1] in b.text.split()[:14]
