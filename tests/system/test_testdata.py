"""Real input from ../shared/testdata: PDFs from many producers, and the
bilingual Public Procurement Act with running headers and page footers."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata

import pytest

from ingest import __main__ as cli
from ingest.pipeline import build_index, read_pages
from kb.index.folder import load_generation
from kb.settings import Settings
from testsupport.fakes import FakeEmbedder
from testsupport.testdata import finlex_corpus, needs_testdata

# Reading the Act's 175 pages and 40 sample PDFs takes minutes: second lane.
pytestmark = pytest.mark.quality

CLEAR_REASONS = ("encrypted", "no text layer", "corrupt")


def test_pdf_samples_indexed_with_their_page_counts_or_rejected_clearly(tmp_path):
    samples = needs_testdata("pdf-samples")
    listed = json.loads((samples / "files.json").read_text())["data"]
    # files.json also lists a file or two that the folder does not hold
    expected = {d["path"]: d for d in listed if (samples / d["path"]).is_file()}
    assert len(expected) >= 25
    corpus = tmp_path / "samples"
    shutil.copytree(samples, corpus, ignore=shutil.ignore_patterns("*.json", "*.md", "LICENSE"))
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "idx")
    report = build_index(settings, embedder=FakeEmbedder())
    results = {f.path: f for f in report.files}
    assert set(results) == set(expected)
    for path, info in expected.items():
        r = results[path]
        if info["encrypted"]:
            assert r.status == "failed" and "encrypted" in r.error, (path, r)
        elif r.status == "indexed":
            assert r.pages == info["pages"], (path, r.pages, info["pages"])
            assert r.chunks > 0
        else:
            assert r.status == "failed", (path, r)
            assert any(reason in r.error for reason in CLEAR_REASONS), (path, r.error)
    indexed = [r for r in results.values() if r.status == "indexed"]
    assert len(indexed) >= 20, [(r.path, r.error) for r in results.values()]


@pytest.fixture(scope="module")
def finlex(tmp_path_factory) -> tuple[Settings, dict]:
    root = tmp_path_factory.mktemp("finlex")
    corpus = finlex_corpus(root)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    build_index(settings, embedder=FakeEmbedder())
    pages = {
        lang: read_pages(corpus / f"hankintalaki-1397-2016.{lang}.pdf", settings)[1]
        for lang in ("fi", "sv")
    }
    return settings, pages


def _chunks(settings: Settings, lang: str):
    return [c for c in load_generation(settings.index_dir).chunks if c.lang == lang]


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_finlex_no_running_headers_or_page_footers_in_chunks(finlex, lang):
    import pypdf

    settings, _ = finlex
    raw = pypdf.PdfReader(settings.corpus_dir / f"hankintalaki-1397-2016.{lang}.pdf")
    header = raw.pages[1].extract_text().split("\n")[0].strip()
    assert "1397/2016" in header  # the running header, as printed
    chunks = _chunks(settings, lang)
    assert chunks
    for c in chunks:
        assert header not in c.text
        assert not re.search(r"(?m)^\d{1,3} \(\d{2}\)$", c.text), c.text


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_finlex_chunk_pages_and_offsets_are_right(finlex, lang):
    import pypdf

    settings, pages = finlex
    raw = pypdf.PdfReader(settings.corpus_dir / f"hankintalaki-1397-2016.{lang}.pdf")
    # NFKC only: the PDF has ligatures ("sertiﬁkaatit") that cleaning splits
    raw_text = [
        " ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in raw.pages
    ]
    for c in _chunks(settings, lang):
        first = pages[lang][c.page_start - 1]
        assert first.number == c.page_start and first.label == c.label_start
        head = first.text[c.char_start :][: min(80, len(c.text))]
        assert c.text.startswith(head), (c.chunk_id, head)
        last = pages[lang][c.page_end - 1]
        assert c.text.endswith(last.text[: c.char_end][-80:])
        # independent of our cleaning: the chunk's opening words are on that printed page
        on_first_page = c.text[: len(first.text) - c.char_start]
        opening = " ".join(on_first_page.split()[:6])
        assert opening in raw_text[c.page_start - 1], (c.chunk_id, opening)


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_finlex_every_section_heading_is_in_its_chunks_path(finlex, lang):
    settings, _ = finlex
    sections = json.loads(
        needs_testdata("finlex", f"hankintalaki-1397-2016.{lang}.sections.json").read_text()
    )
    chunks = _chunks(settings, lang)
    for s in sections:
        heading = f"{s['section']} {s['heading']}"
        holding = [c for c in chunks if heading in " ".join(c.text.split())]
        assert holding, heading
        assert any(p.startswith(heading) for p in holding[0].section), (heading, holding[0].section)
    if lang == "fi":
        innovation = [c for c in chunks if "38 § Innovaatiokumppanuus" in c.text]
        assert innovation and "38 § Innovaatiokumppanuus" in innovation[0].section


def test_finlex_status_reports_two_documents_with_their_pages(finlex, monkeypatch, capsys):
    settings, _ = finlex
    code = cli.main(
        [
            "status",
            "--json",
            "--index",
            str(settings.index_dir),
            "--corpus",
            str(settings.corpus_dir),
        ]
    )
    assert code == 0
    docs = json.loads(capsys.readouterr().out)["documents"]
    assert sorted((d["lang"], d["pages"], d["status"]) for d in docs) == [
        ("fi", 85, "indexed"),
        ("sv", 90, "indexed"),
    ]
