"""A damaged index gives a clear, typed error that says to rebuild: never
wrong results, never a traceback in the app; and the next build recovers."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest.pipeline import build_index
from kb.errors import IndexCorruptError, IndexError_, IndexMismatchError, IndexMissingError
from kb.index.folder import CHUNKS_FILE, FAISS_FILE, MANIFEST_FILE, load_generation
from kb.settings import PROJECT_ROOT
from search import Searcher
from testsupport.fakes import FakeEmbedder

pytestmark = (
    pytest.mark.slow
)  # second lane: damaged indexes rebuilt and shown on the page, real model


@pytest.fixture
def built(settings) -> Path:
    """A small index; returns its live generation folder."""
    c = settings.corpus_dir
    (c / "a.fi.md").write_text("# Hankinnat\n\nInnovaatiot ja hankinnat.\n\n## Osa\n\nLisää.\n")
    (c / "b.sv.md").write_text("# Upphandling\n\nInnovationer och upphandling.\n")
    (c / "c.en.md").write_text("# Procurement\n\nInnovation in public procurement.\n")
    build_index(settings, embedder=FakeEmbedder())
    return load_generation(settings.index_dir).path


def _manifest(gen: Path) -> dict:
    return json.loads((gen / MANIFEST_FILE).read_text())


def _write_manifest(gen: Path, manifest: dict) -> None:
    (gen / MANIFEST_FILE).write_text(json.dumps(manifest))


def truncate_faiss(gen: Path) -> None:
    data = (gen / FAISS_FILE).read_bytes()
    (gen / FAISS_FILE).write_bytes(data[: len(data) // 2])


def delete_faiss(gen: Path) -> None:
    (gen / FAISS_FILE).unlink()


def edit_a_chunk_record(gen: Path) -> None:
    """Valid JSON, same count: only a checksum can tell."""
    lines = (gen / CHUNKS_FILE).read_text().splitlines()
    record = json.loads(lines[0])
    record["text"] = record["text"].replace("Innovaatiot", "Tuhoaminen")
    record["page_start"] = 7
    lines[0] = json.dumps(record, ensure_ascii=False)
    (gen / CHUNKS_FILE).write_text("\n".join(lines) + "\n")


def drop_a_chunk_record(gen: Path) -> None:
    lines = (gen / CHUNKS_FILE).read_text().splitlines()
    (gen / CHUNKS_FILE).write_text("\n".join(lines[1:]) + "\n")


def delete_chunk_records(gen: Path) -> None:
    (gen / CHUNKS_FILE).unlink()


def garble_chunk_records(gen: Path) -> None:
    (gen / CHUNKS_FILE).write_bytes(b'{"chunk_id": "x", \xff\xfe\n')


def vector_count_mismatch(gen: Path) -> None:
    """One vector fewer than records, the checksum made to agree, so the
    count check is what catches it."""
    import faiss

    from kb.index.folder import file_digests

    index = faiss.read_index(str(gen / FAISS_FILE))
    vectors = index.reconstruct_n(0, index.ntotal)[:-1]
    smaller = faiss.IndexFlatIP(index.d)
    smaller.add(vectors)
    faiss.write_index(smaller, str(gen / FAISS_FILE))
    manifest = _manifest(gen)
    manifest["checksums"] = file_digests(gen)
    _write_manifest(gen, manifest)


def other_model(gen: Path) -> None:
    manifest = _manifest(gen)
    manifest["model"]["fingerprint"] = "0123456789abcdef"
    manifest["model"]["name"] = "some/other-model"
    _write_manifest(gen, manifest)


def other_format(gen: Path) -> None:
    manifest = _manifest(gen)
    manifest["format_version"] = 99
    _write_manifest(gen, manifest)


def garble_manifest(gen: Path) -> None:
    (gen / MANIFEST_FILE).write_text('{"format_version": 2, "model": ')


def delete_manifest(gen: Path) -> None:
    (gen / MANIFEST_FILE).unlink()


def truncate_bm25(gen: Path) -> None:
    target = max(
        (p for p in (gen / "bm25").iterdir() if p.is_file()), key=lambda p: p.stat().st_size
    )
    target.write_bytes(target.read_bytes()[:10])


def current_names_nothing(gen: Path) -> None:
    (gen.parent / "CURRENT").write_text("gen-that-does-not-exist\n")


def delete_current(gen: Path) -> None:
    (gen.parent / "CURRENT").unlink()


CASES: list[tuple[Callable[[Path], None], type[IndexError_], str]] = [
    (truncate_faiss, IndexCorruptError, "index.faiss"),
    (delete_faiss, IndexCorruptError, "index.faiss"),
    (edit_a_chunk_record, IndexCorruptError, "chunks.jsonl"),
    (drop_a_chunk_record, IndexCorruptError, "chunks.jsonl"),
    (delete_chunk_records, IndexCorruptError, "chunks.jsonl"),
    (garble_chunk_records, IndexCorruptError, "chunks.jsonl"),
    (vector_count_mismatch, IndexCorruptError, "vectors"),
    (other_model, IndexMismatchError, "some/other-model"),
    (other_format, IndexMismatchError, "format version 99"),
    (garble_manifest, IndexCorruptError, "manifest.json"),
    (delete_manifest, IndexCorruptError, "manifest.json"),
    (truncate_bm25, IndexCorruptError, "bm25"),
    (current_names_nothing, IndexCorruptError, "gen-that-does-not-exist"),
    (delete_current, IndexMissingError, "no index"),
]
IDS = [case[0].__name__ for case in CASES]


@pytest.mark.parametrize(("damage", "error", "names"), CASES, ids=IDS)
def test_damage_gives_a_typed_error_with_advice(built, settings, damage, error, names):
    damage(built)
    with pytest.raises(error) as exc:
        Searcher.load(settings.index_dir, settings, embedder=FakeEmbedder())
    message = str(exc.value)
    assert names in message, message
    assert "python -m ingest" in message  # the advice: rebuild (or build)


@pytest.mark.parametrize(("damage", "error", "names"), CASES, ids=IDS)
def test_the_next_build_recovers(built, settings, damage, error, names):
    damage(built)
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.written and not report.failed
    searcher = Searcher.load(settings.index_dir, settings, embedder=FakeEmbedder())
    hits = searcher.search("Innovaatiot hankinnat", k=3)
    assert hits and hits[0].title == "Hankinnat"
    assert all("Tuhoaminen" not in h.text for h in hits)


PAGE_CASES = [
    CASES[IDS.index(name)]
    for name in ("truncate_faiss", "edit_a_chunk_record", "other_model", "garble_manifest")
]


@pytest.mark.model
@pytest.mark.parametrize(
    ("damage", "error", "names"), PAGE_CASES, ids=lambda x: getattr(x, "__name__", "")
)
def test_the_page_shows_the_error_not_a_traceback(settings, real_embedder, damage, error, names):
    (settings.corpus_dir / "a.fi.md").write_text("# Hankinnat\n\nInnovaatiot ja hankinnat.\n")
    build_index(settings, embedder=real_embedder)

    def page() -> AppTest:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
        at.query_params["q"] = "innovaatiot"
        return at.run()

    at = page()
    assert not at.exception and not at.error
    assert [m for m in at.html if m.value.startswith("<div ")]  # results while healthy

    # A running page keeps serving the generation it loaded while healthy
    # (correct results from memory); a page started now must load from disk.
    damage(load_generation(settings.index_dir).path)
    import streamlit as st

    st.cache_resource.clear()
    at = page()
    assert not at.exception
    assert at.error
    shown = html.unescape(at.error[0].value)  # the browser renders the references
    assert names in shown and "python -m ingest" in shown
    assert not [m for m in at.html if m.value.startswith("<div ")]  # no results
