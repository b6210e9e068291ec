"""The page's example questions, asked of the corpus a fresh clone has
offline (the Act in Finnish and Swedish, the Swedish theme page), each
answered by its first card. Builds the default corpus with the real
model (about 90 s on a quiet machine): the second lane (make test-all)."""

from __future__ import annotations

import shutil

import pytest

from kb.labels import EXAMPLES
from kb.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.model, pytest.mark.quality]

# The first card each example must get: (document, the section's own heading).
EXPECTED = {
    "Mikä on innovaatiokumppanuus?": (
        "procurement-act-1397-2016-fi",
        "38 § Innovaatiokumppanuus",
    ),
    "Hur ökar vi andelen innovativa upphandlingar?": ("temagruppen-innovationer-sv", "Mål"),
    "How can I join a theme group?": (
        "temagruppen-innovationer-sv",
        "Din sakkunskap behövs – kom med",
    ),
}


@pytest.fixture(scope="module")
def default_searcher(tmp_path_factory, real_embedder):
    from ingest.pipeline import build_index
    from search.searcher import Searcher

    root = tmp_path_factory.mktemp("default-corpus")
    corpus = root / "corpus"
    shutil.copytree(
        PROJECT_ROOT / "corpus",
        corpus,
        ignore=shutil.ignore_patterns(".*", "official", "added", "sources.lock"),
    )
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    report = build_index(settings, embedder=real_embedder)
    assert not report.failed, report.failed
    return Searcher.load(settings.index_dir, settings, real_embedder)


def test_every_example_is_checked():
    assert set(EXAMPLES) == set(EXPECTED)


@pytest.mark.parametrize("question", EXAMPLES)
def test_the_first_card_answers_the_example(default_searcher, question):
    results = default_searcher.search(question, k=5)
    assert not results.no_relevant_passage
    first = results[0]
    doc, heading = EXPECTED[question]
    assert (first.doc_id, first.section[-1]) == (doc, heading), [
        (h.doc_id, h.section[-1:]) for h in results
    ]
