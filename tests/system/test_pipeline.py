"""The ingestion pipeline end to end, with the fake embedder."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ingest import __main__ as cli
from ingest import pipeline
from ingest.pipeline import build_index
from kb.errors import BuildLockedError, IndexWriteError
from kb.index.folder import CURRENT, build_lock, load_generation
from testsupport.fakes import FakeEmbedder
from testsupport.pdfgen import encrypt_pdf, make_image_only_pdf, make_pdf

FI_PAGES = [
    [
        "1 Johdanto",
        "Julkisten hankintojen strategia ohjaa hankintoja.",
        "Hankintayksiköt edistävät innovaatioita ja kestävyyttä.",
    ],
    [
        "2 Tavoitteet",
        "Hankinnat ovat vaikuttavia ja vastuullisia.",
        "Innovatiivisten hankintojen osuus kasvaa.",
    ],
    ["3 Toimeenpano", "Teemaryhmät toteuttavat strategiaa yhdessä."],
]
SV_PAGES = [
    [
        "1 Inledning",
        "Strategin för offentlig upphandling styr upphandlingar.",
        "Upphandlande enheter främjar innovationer och hållbarhet.",
    ],
    ["2 Mål", "Upphandlingarna är verkningsfulla och ansvarsfulla."],
    ["3 Genomförande", "Temagrupperna genomför strategin tillsammans."],
]


@pytest.fixture
def corpus(settings) -> Path:
    c = settings.corpus_dir
    make_pdf(c / "strategia.fi.pdf", FI_PAGES, title="Hankintastrategia", footer=True)
    make_pdf(c / "strategi.sv.pdf", SV_PAGES, title="Upphandlingsstrategi", footer=True)
    (c / "notes.md").write_text(
        "# Notes on procurement\n\nInnovation partnerships are "
        "a procedure for developing new solutions.\n",
        encoding="utf-8",
    )
    (c / "page.html").write_text(
        "<html><head><title>Theme group</title><script>var x = 1;</script></head><body>"
        "<h1>Theme group innovations</h1><p>The theme group promotes innovative "
        "procurement across the public sector.</p></body></html>",
        encoding="utf-8",
    )
    return c


def test_build_indexes_every_format(settings, corpus, fake):
    report = build_index(settings, embedder=fake)
    assert {f.path: f.status for f in report.files} == {
        "notes.md": "indexed",
        "page.html": "indexed",
        "strategi.sv.pdf": "indexed",
        "strategia.fi.pdf": "indexed",
    }
    gen = load_generation(settings.index_dir)
    assert gen.index.ntotal == len(gen.chunks) == gen.manifest["counts"]["chunks"]
    files = gen.manifest["files"]
    assert files["strategia.fi.pdf"]["pages"] == 3
    assert files["strategia.fi.pdf"]["doc"]["title"] == "Hankintastrategia"  # from PDF metadata
    assert files["strategia.fi.pdf"]["doc"]["lang"] == "fi"  # detected
    assert files["strategi.sv.pdf"]["doc"]["lang"] == "sv"
    assert files["notes.md"]["doc"]["title"] == "Notes on procurement"
    assert files["page.html"]["doc"]["title"] == "Theme group"
    assert len(files["strategia.fi.pdf"]["sha256"]) == 64
    assert not any("var x" in c.text for c in gen.chunks)
    fi = [c for c in gen.chunks if c.doc_id == "strategia-fi"]
    assert [c.section for c in fi][-1] == ("3 Toimeenpano",)
    assert not any("(3)" in c.text for c in fi)  # page-number footers dropped
    # vectors are normalised and row-aligned with the records
    vecs = gen.vectors(list(range(gen.index.ntotal)))
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vecs[0], fake.embed_passages([gen.chunks[0].indexed_text])[0], atol=1e-6)
    assert gen.chunks[0].context.startswith(gen.chunks[0].title)  # title and headings embedded


def test_rerun_with_nothing_changed_embeds_nothing(settings, corpus):
    build_index(settings, embedder=FakeEmbedder())
    name = (settings.index_dir / CURRENT).read_text()
    again = FakeEmbedder()
    report = build_index(settings, embedder=again)
    assert again.embedded == []
    assert not report.written
    assert {f.status for f in report.files} == {"unchanged"}
    assert (settings.index_dir / CURRENT).read_text() == name


def test_changed_file_is_re_embedded_and_removed_file_leaves(settings, corpus):
    build_index(settings, embedder=FakeEmbedder())
    before = load_generation(settings.index_dir)
    (corpus / "notes.md").write_text("# Notes\n\nDynamic purchasing systems are open.\n")
    (corpus / "page.html").unlink()
    fake = FakeEmbedder()
    report = build_index(settings, embedder=fake)
    statuses = {f.path: f.status for f in report.files}
    assert statuses == {
        "notes.md": "indexed",
        "page.html": "removed",
        "strategi.sv.pdf": "unchanged",
        "strategia.fi.pdf": "unchanged",
    }
    assert fake.embedded == ["Notes\n\nNotes\n\nDynamic purchasing systems are open."]
    after = load_generation(settings.index_dir)
    assert "page" not in {c.doc_id for c in after.chunks}
    # unchanged documents keep exactly their vectors
    old_rows = [i for i, c in enumerate(before.chunks) if c.doc_id == "strategia-fi"]
    new_rows = [i for i, c in enumerate(after.chunks) if c.doc_id == "strategia-fi"]
    assert np.array_equal(before.vectors(old_rows), after.vectors(new_rows))


def test_model_change_forces_full_rebuild(settings, corpus):
    build_index(settings, embedder=FakeEmbedder())
    other = FakeEmbedder()
    other.fingerprint = "another-model"
    report = build_index(settings, embedder=other)
    assert report.full_rebuild
    assert {f.status for f in report.files} == {"indexed"}
    assert load_generation(settings.index_dir).manifest["model"]["fingerprint"] == "another-model"


def test_chunk_settings_change_forces_full_rebuild(settings, corpus):
    build_index(settings, embedder=FakeEmbedder())
    fake = FakeEmbedder()
    report = build_index(replace(settings, chunk_tokens=64, chunk_overlap=8), embedder=fake)
    assert report.full_rebuild and report.embedded == report.chunks
    # every passage embedded again (the rest are its sentences, kb/text/sentences.py)
    chunks = load_generation(settings.index_dir).chunks
    assert {c.indexed_text for c in chunks} <= set(fake.embedded)


def test_metadata_edit_applies_without_re_embedding(settings, corpus):
    build_index(settings, embedder=FakeEmbedder())
    (corpus / "sources.toml").write_text(
        '[[document]]\nid = "strategy-fi"\nfile = "strategia.fi.pdf"\ntitle = "Strategia"\n'
        'lang = "fi"\nkind = "strategy"\ngroup = "strategy"\n',
        encoding="utf-8",
    )
    fake = FakeEmbedder()
    report = build_index(settings, embedder=fake)
    assert fake.embedded == [] and report.written
    gen = load_generation(settings.index_dir)
    fi = [c for c in gen.chunks if c.doc_id == "strategy-fi"]
    assert fi and {c.title for c in fi} == {"Strategia"} and {c.kind for c in fi} == {"strategy"}
    assert fi[0].chunk_id == "strategy-fi#0"
    # the entry removed again: the file's metadata is what it alone gives, as
    # in a fresh build, not the entry's left behind
    (corpus / "sources.toml").unlink()
    build_index(settings, embedder=FakeEmbedder())
    after = {c.doc_id: c for c in load_generation(settings.index_dir).chunks}
    fresh = replace(settings, index_dir=settings.index_dir.parent / "fresh")
    build_index(fresh, embedder=FakeEmbedder())
    expected = {c.doc_id: c for c in load_generation(fresh.index_dir).chunks}
    assert "strategy-fi" not in after and after.keys() == expected.keys()
    assert {(c.title, c.kind, c.group) for c in after.values()} == {
        (c.title, c.kind, c.group) for c in expected.values()
    }


def test_an_index_from_before_entries_were_marked_forgets_a_removed_entry(settings, corpus):
    (corpus / "sources.toml").write_text(
        '[[document]]\nid = "strategy-fi"\nfile = "strategia.fi.pdf"\ntitle = "Strategia"\n'
        'lang = "fi"\nkind = "strategy"\n',
        encoding="utf-8",
    )
    build_index(settings, embedder=FakeEmbedder())
    # the manifest as builds wrote it before files were marked "described"
    live = (settings.index_dir / CURRENT).read_text().strip()
    manifest_path = settings.index_dir / live / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["files"].values():
        entry.pop("described")
    manifest_path.write_text(json.dumps(manifest))
    (corpus / "sources.toml").unlink()
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.written
    chunks = load_generation(settings.index_dir).chunks
    assert "strategy-fi" not in {c.doc_id for c in chunks}
    assert "strategy" not in {c.kind for c in chunks}
    # and once marked, a re-run with nothing changed embeds nothing
    again = FakeEmbedder()
    build_index(settings, embedder=again)
    assert again.embedded == []


def _bad_files(c: Path) -> dict[str, str]:
    """Each bad file, and the words its error must contain."""
    (c / "empty.pdf").write_bytes(b"")
    make_pdf(c / "plain.pdf", [["Salainen asiakirja hankinnoista."]])
    encrypt_pdf(c / "plain.pdf", c / "encrypted.pdf")
    (c / "plain.pdf").unlink()
    make_pdf(c / "whole.pdf", FI_PAGES)
    data = (c / "whole.pdf").read_bytes()
    (c / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (c / "whole.pdf").unlink()
    (c / "webpage.pdf").write_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>")
    (c / "garbage.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    make_image_only_pdf(c / "scan.pdf")
    (c / "latin1.txt").write_bytes("Hankintalaki ja hyvä hallinto".encode("latin-1"))
    return {
        "empty.pdf": "empty file",
        "encrypted.pdf": "encrypted",
        "truncated.pdf": "corrupt",
        "webpage.pdf": "not a PDF",
        "garbage.pdf": "corrupt",
        "scan.pdf": "no text layer",
        "latin1.txt": "not UTF-8",
    }


def test_bad_files_are_named_and_the_rest_indexed(settings, corpus):
    expected = _bad_files(corpus)
    report = build_index(settings, embedder=FakeEmbedder())
    failed = {f.path: f.error for f in report.failed}
    assert set(failed) == set(expected)
    for name, words in expected.items():
        assert words in failed[name], (name, failed[name])
    ok = {f.path for f in report.files if f.status == "indexed"}
    assert ok == {"notes.md", "page.html", "strategi.sv.pdf", "strategia.fi.pdf"}
    manifest = load_generation(settings.index_dir).manifest
    assert manifest["files"]["scan.pdf"]["status"] == "failed"
    assert manifest["counts"]["failed"] == len(expected)


def test_cli_reports_each_bad_file_and_exits_1(settings, corpus, monkeypatch, capsys):
    expected = _bad_files(corpus)
    monkeypatch.setattr(pipeline, "load_embedder", lambda s: FakeEmbedder())
    monkeypatch.setattr(pipeline, "resolve_model", lambda s: ("fake", "fake", "fake-v1"))
    code = cli.main([])
    out, err = capsys.readouterr()
    assert code == 1
    for name in expected:
        lines = [line for line in err.splitlines() if line.startswith(f"FAILED  {name}:")]
        assert len(lines) == 1, (name, err)
    assert "4 files" in out and f"{len(expected)} file(s) skipped" in out

    code = cli.main(["status", "--json"])
    status = json.loads(capsys.readouterr().out)
    assert code == 0
    docs = {d["path"]: d for d in status["documents"]}
    assert docs["strategia.fi.pdf"]["pages"] == 3 and docs["strategia.fi.pdf"]["lang"] == "fi"
    assert docs["encrypted.pdf"]["status"] == "failed"


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    assert cli.main(["--corpus", str(tmp_path / "nope")]) == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["--no-such-option"])
    assert exc.value.code == 2


def test_interrupted_build_leaves_previous_index(settings, corpus, monkeypatch):
    build_index(settings, embedder=FakeEmbedder())
    before = load_generation(settings.index_dir)
    (corpus / "notes.md").write_text("# Changed\n\nNew text here.\n")

    class Interrupting(FakeEmbedder):
        def embed_passages(self, texts, progress=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(settings, embedder=Interrupting())
    after = load_generation(settings.index_dir)
    assert after.name == before.name and after.chunks == before.chunks

    import faiss

    def broken_write(index, path):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken_write)
    with pytest.raises(IndexWriteError, match="disk full"):
        build_index(settings, embedder=FakeEmbedder())
    assert load_generation(settings.index_dir).name == before.name
    assert not list(settings.index_dir.glob(".tmp-*"))


def test_stale_temporary_folders_are_removed(settings, corpus):
    build_index(settings, embedder=FakeEmbedder())
    stale = settings.index_dir / ".tmp-deadbeef"
    stale.mkdir()
    (stale / "index.faiss").write_bytes(b"partial")
    (corpus / "notes.md").write_text("# Changed\n\nNew text.\n")
    build_index(settings, embedder=FakeEmbedder())
    assert not stale.exists()


def test_a_second_build_is_refused_while_one_runs(settings, corpus):
    with build_lock(settings.index_dir):
        with pytest.raises(BuildLockedError, match="another build"):
            build_index(settings, embedder=FakeEmbedder())


def test_symlink_out_of_corpus_is_not_followed(settings, corpus, tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nOutside the corpus.\n")
    (corpus / "link.md").symlink_to(outside)
    report = build_index(settings, embedder=FakeEmbedder())
    assert "link.md" not in {f.path for f in report.files}


@pytest.mark.slow
def test_parallel_reading_gives_the_same_index(settings, corpus):
    _bad_files(corpus)
    serial = build_index(settings, embedder=FakeEmbedder())
    serial_chunks = load_generation(settings.index_dir).chunks
    parallel_settings = replace(settings, workers=2, index_dir=settings.index_dir.with_name("p"))
    parallel = build_index(parallel_settings, embedder=FakeEmbedder())
    assert [(f.path, f.status, f.error) for f in parallel.files] == [
        (f.path, f.status, f.error) for f in serial.files
    ]
    assert load_generation(parallel_settings.index_dir).chunks == serial_chunks


def test_declared_ids_are_kept_and_derived_ids_never_clash(settings, corpus):
    (corpus / "sources.toml").write_text(
        '[[document]]\nid = "notes"\nfile = "page.html"\n', encoding="utf-8"
    )
    build_index(settings, embedder=FakeEmbedder())
    ids = {c.doc_id for c in load_generation(settings.index_dir).chunks}
    assert "notes" in ids and "notes-2" in ids  # notes.md's derived id steps aside
