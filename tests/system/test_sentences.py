"""Sentence vectors stored at build time (kb/text/sentences.py) and used by
the highlighter: the same best sentence as embedding at query time, reuse
in incremental builds, and indexes built before them still highlight."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import build_index
from kb.errors import IndexCorruptError
from kb.index.folder import load_generation, write_generation
from kb.index.sentences import SENTENCES_DIR, SentencesUnreadable, SentenceVectors, load_sentences
from kb.model.bars import CosineBars
from kb.text.sentences import choice_spans
from search import Searcher
from testsupport.fakes import FakeEmbedder
from testsupport.pdfgen import make_pdf

DOC_FI = [
    [
        "1 Innovaatiokumppanuus",
        "Hankintayksikkö voi käyttää innovaatiokumppanuutta. Tavoitteena on kehittää "
        "uusi tuote tai palvelu. Kumppanuus jaetaan vaiheisiin.",
    ],
    [
        "2 Kynnysarvot",
        "Kansalliset kynnysarvot ovat pienempiä. EU-kynnysarvot tarkistetaan kahden "
        "vuoden välein. Hankinnan arvo lasketaan ilman arvonlisäveroa.",
    ],
]
DOC_SV = [
    [
        "1 Innovationspartnerskap",
        "En upphandlande enhet får använda innovationspartnerskap. Målet är att utveckla "
        "en ny vara eller tjänst. Partnerskapet delas in i etapper.",
    ]
]


@pytest.fixture
def built(settings, monkeypatch):
    # The fake embedder's cosines are not e5's: its searches would fall under
    # the "no relevant passage" bar, which marks no best sentence.
    monkeypatch.setattr("search.relevance.BASE_BARS", CosineBars(-1.0, -1.0))
    c = settings.corpus_dir
    make_pdf(c / "laki.fi.pdf", DOC_FI, title="Hankintalaki")
    make_pdf(c / "lag.sv.pdf", DOC_SV, title="Upphandlingslag")
    build_index(settings, embedder=FakeEmbedder())
    return settings


def _sentence_marks(hits) -> list[list[tuple[int, int]]]:
    return [[(x.start, x.end) for x in h.highlights if x.kind == "sentence"] for h in hits]


def test_stored_vectors_are_the_sentences_of_each_passage(built):
    gen = load_generation(built.index_dir)
    assert gen.sentences is not None and gen.sentences.chunks == len(gen.chunks)
    fake = FakeEmbedder()
    with_rows = 0
    for row, chunk in enumerate(gen.chunks):
        spans = choice_spans(chunk)
        assert gen.sentences.spans_of(row) == spans
        if spans:
            with_rows += 1
            stored = gen.sentences.matching(row, spans)
            fresh = fake.embed_passages([chunk.text[s:e] for s, e in spans])
            assert np.allclose(stored, fresh, atol=2e-3)  # float16
    assert with_rows >= 2
    assert isinstance(gen.sentences.vectors, np.memmap)  # not read into memory


def test_stored_vectors_give_the_best_sentence_embedding_would(built):
    """A Swedish question on the Finnish passages (no shared word): the
    best sentence comes from the stored vectors, without embedding any
    sentence, and is the one embedding them now finds."""
    gen = load_generation(built.index_dir)
    query = "Vad är ett innovationspartnerskap och vad är målet?"
    stored_fake = FakeEmbedder()
    stored = Searcher(gen, stored_fake).search(query, k=5, languages=["fi"])
    fresh_fake = FakeEmbedder()
    fresh = Searcher(replace(gen, sentences=None), fresh_fake).search(query, k=5, languages=["fi"])
    assert [h.chunk_id for h in stored] == [h.chunk_id for h in fresh]
    assert _sentence_marks(stored) == _sentence_marks(fresh)
    assert any(_sentence_marks(stored))
    assert stored_fake.embedded == []  # nothing embedded at query time
    assert fresh_fake.embedded  # the fallback embedded the sentences


def test_index_built_before_sentence_vectors_loads_and_highlights(built):
    """A generation written without sentences/ (as before this change):
    it loads, highlights by embedding at query time, and the next build
    that writes a generation adds the vectors."""
    gen = load_generation(built.index_dir)
    vectors = gen.vectors(list(range(gen.index.ntotal)))
    manifest = {k: v for k, v in gen.manifest.items() if k != "checksums"}
    write_generation(built.index_dir, vectors, gen.chunks, manifest)
    old = load_generation(built.index_dir)
    assert old.sentences is None and not (old.path / SENTENCES_DIR).exists()
    fake = FakeEmbedder()
    hits = Searcher(old, fake).search("Vad är målet?", k=3, languages=["fi"])
    assert any(_sentence_marks(hits)) and fake.embedded
    (built.corpus_dir / "notes.md").write_text("# Notes\n\nOne. Two words here.\n")
    build_index(built, embedder=FakeEmbedder())
    assert load_generation(built.index_dir).sentences is not None


def test_unchanged_documents_keep_their_sentence_vectors(built):
    before = load_generation(built.index_dir)
    make_pdf(built.corpus_dir / "lag.sv.pdf", DOC_SV + [["2 Tröskelvärden", "Nya. Värden."]])
    fake = FakeEmbedder()
    build_index(built, embedder=fake)
    after = load_generation(built.index_dir)
    fi_before = [r for r, c in enumerate(before.chunks) if c.doc_id == "laki-fi"]
    fi_after = [r for r, c in enumerate(after.chunks) if c.doc_id == "laki-fi"]
    assert np.array_equal(
        before.sentences.take(fi_before).vectors, after.sentences.take(fi_after).vectors
    )
    fi_texts = {c.text for c in after.chunks if c.doc_id == "laki-fi"}
    assert not any(t in text for t in fake.embedded for text in fi_texts)
    assert after.sentences.chunks == len(after.chunks)


def test_sentences_that_do_not_fit_the_chunks_are_refused(tmp_path: Path):
    sv = SentenceVectors(
        np.zeros((3, 4), np.float16),
        np.array([[0, 2], [3, 5], [0, 4]], np.int32),
        np.array([0, 2, 3], np.int64),
    )
    sv.save(tmp_path / SENTENCES_DIR)
    assert load_sentences(tmp_path, 2, 4).chunks == 2
    with pytest.raises(SentencesUnreadable):
        load_sentences(tmp_path, 3, 4)  # another number of chunks
    with pytest.raises(SentencesUnreadable):
        load_sentences(tmp_path, 2, 8)  # another dimension
    assert load_sentences(tmp_path / "nothing", 2, 4) is None


def test_a_damaged_sentences_file_fails_loading(built):
    gen = load_generation(built.index_dir)
    path = gen.path / SENTENCES_DIR / "offsets.npy"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(IndexCorruptError):
        load_generation(built.index_dir)


@pytest.mark.model
@pytest.mark.quality  # the Act's real-model index: second lane
def test_real_index_stored_and_query_time_vectors_choose_the_same_sentence(finlex_index):
    """The Act's index built with the real model: for English questions
    (best sentences found by embedding), the stored vectors and the
    sentences embedded at query time by the same model mark the same
    sentence."""
    from kb.model.embedder import load_embedder

    embedder = load_embedder(finlex_index)
    gen = load_generation(finlex_index.index_dir)
    assert gen.sentences is not None
    stored, fresh = Searcher(gen, embedder), Searcher(replace(gen, sentences=None), embedder)
    for query in (
        "What is an innovation partnership?",
        "When may a contracting entity exclude a tenderer?",
        "How is the value of a procurement calculated?",
    ):
        a, b = stored.search(query, k=10), fresh.search(query, k=10)
        assert [h.chunk_id for h in a] == [h.chunk_id for h in b]
        assert _sentence_marks(a) == _sentence_marks(b), query
