"""kb/index/manifest.py: the manifest as a typed record, read from the JSON
builds wrote before it existed (fixtures below, written by the code of
674c481 over the tiny corpus plus an unreadable PDF) and migrated from
what earlier builds of the same format left out."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from ingest.pipeline import build_index
from ingest.status import index_status
from kb.errors import IndexCorruptError, IndexMismatchError
from kb.index.folder import CURRENT, MANIFEST_FILE, file_digests, load_generation
from kb.index.manifest import EntryStatus, Manifest, ManifestError, migrate
from kb.index.pgschema import LiveGeneration
from kb.settings import Settings
from kb.text.morphology import analysis
from search.view import IndexView
from testsupport.fakes import FakeEmbedder


def _doc(doc_id: str, title: str, lang: str, kind: str, group: str, path: str) -> dict:
    return {
        "id": doc_id, "title": title, "lang": lang, "kind": kind, "group": group,
        "url": "", "identifier": "", "path": path, "retrieved": "",
    }  # fmt: skip


def _entry(sha256: str, size: int, chunks: int, doc: dict) -> dict:
    return {
        "sha256": sha256, "size": size, "status": "indexed", "error": "", "pages": 1,
        "chunks": chunks, "indexed_at": "2026-12-06T17:16:21+00:00", "doc": doc,
        "described": True,
    }  # fmt: skip


# manifest.json as the code before the record (674c481) wrote it.
WRITTEN_BEFORE = {
    "format_version": 2,
    "created": "2026-12-06T17:16:21+00:00",
    "model": {"name": "fake-bag-of-words", "fingerprint": "fake-v1", "dim": 64},
    "chunking": {
        "chunk_tokens": 160,
        "chunk_overlap": 32,
        "splitter": "langchain RecursiveCharacterTextSplitter (token-sized)",
        "passages": 2,
    },
    "corpus": "/tmp/house_old/work/corpus",
    "versions": [],
    "counts": {"documents": 3, "pages": 3, "chunks": 7, "failed": 1},
    "files": {
        "broken.pdf": {
            "sha256": "366ce16daa6b29e59815d07cd8edd2e559241647c36b0520a3aa2ce754d32899",
            "size": 19,
            "status": "failed",
            "error": "corrupt or truncated PDF (Stream has ended unexpectedly)",
            "pages": 0,
            "chunks": 0,
            "indexed_at": "2026-12-06T17:16:21+00:00",
            "doc": None,
            "described": False,
        },
        "lag.sv.md": _entry(
            "4b8e1ed7c2bd3d4a664c2ddf32bab77938a9990f60953ad8ee86dece7cc07888",
            278,
            3,
            _doc("lag-sv", "Upphandlingslag", "sv", "report", "laki", "lag.sv.md"),
        ),
        "laki.fi.md": _entry(
            "1eafb42003cc3eaae569fc332865a3e5991cf0d68e0ea3b0bdf3795dca8ba590",
            261,
            3,
            _doc("laki-fi", "Hankintalaki", "fi", "report", "laki", "laki.fi.md"),
        ),
        "notes.txt": _entry(
            "cfad075e71903016bb2f56f4bfab488e69cef50796447a60f03f1e36d49569a7",
            78,
            1,
            _doc("notes-en", "Notes on procurement", "en", "web page", "", "notes.txt"),
        ),
    },
    "checksums": {
        "chunks.jsonl": "6c25a98474b3fac57f31fa594741deefda424dc39001c450d0bb91703e173a9a",
        "index.faiss": "fcc7750a67703f062e7caf0904777aa21fbc528c217787b942ca3177bf130508",
    },
}


def older_build() -> dict:
    """The same, as format-2 builds wrote it before the corpus folder, the
    version links, "described" and a document's "retrieved" were recorded;
    with a document field this program does not know."""
    old = copy.deepcopy(WRITTEN_BEFORE)
    for key in ("corpus", "versions"):
        del old[key]
    for entry in old["files"].values():
        del entry["described"]
        if entry["doc"]:
            del entry["doc"]["retrieved"]
            entry["doc"]["shelf"] = "B12"
    return old


def test_the_json_written_before_reads_and_writes_back_the_same():
    manifest = Manifest.from_json(WRITTEN_BEFORE)
    assert manifest.to_json() == WRITTEN_BEFORE
    assert json.loads(json.dumps(manifest.to_json())) == WRITTEN_BEFORE


def test_fields_are_typed():
    m = Manifest.from_json(WRITTEN_BEFORE)
    assert (m.model.name, m.model.fingerprint, m.model.dim) == ("fake-bag-of-words", "fake-v1", 64)
    assert m.counts.chunks == 7 and m.counts.failed == 1
    broken, laki = m.files["broken.pdf"], m.files["laki.fi.md"]
    assert broken.failed and broken.status is EntryStatus.FAILED and broken.doc is None
    assert broken.doc_id == "" and not broken.described
    assert (
        laki.status == "indexed" and laki.doc.title == "Hankintalaki" and laki.doc_id == "laki-fi"
    )
    assert [rel for rel, _ in m.documents()] == ["lag.sv.md", "laki.fi.md", "notes.txt"]


def test_it_still_reads_as_the_json_mapping():
    m = Manifest.from_json(WRITTEN_BEFORE)
    assert m["files"]["notes.txt"]["doc"]["id"] == "notes-en"
    assert dict(m) == WRITTEN_BEFORE
    assert m == Manifest.from_json(WRITTEN_BEFORE) and m != WRITTEN_BEFORE


def test_an_older_build_is_migrated():
    old = older_build()
    before = copy.deepcopy(old)
    m = Manifest.from_json(old)
    assert old == before  # migrate works on a copy
    assert m.corpus == "" and m.versions == []
    assert all(e.described for e in m.files.values())  # read again once if not described now
    assert m.files["laki.fi.md"].doc.retrieved == ""
    assert "shelf" not in m.to_json()["files"]["laki.fi.md"]["doc"]


def test_migrate_counts_what_an_older_build_did_not():
    old = older_build()
    del old["counts"]
    assert migrate(old)["counts"] == WRITTEN_BEFORE["counts"]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["model"].pop("dim"),
        lambda d: d["model"].update(dim="wide"),
        lambda d: d.update(files=[]),
        lambda d: d["files"]["notes.txt"].update(status="lost"),
        lambda d: d["files"]["notes.txt"].pop("sha256"),
        lambda d: d["files"]["notes.txt"]["doc"].pop("id"),
        lambda d: d.update(counts={"chunks": "many"}),
    ],
)
def test_a_manifest_of_another_shape_is_refused_by_name(spoil):
    d = copy.deepcopy(WRITTEN_BEFORE)
    spoil(d)
    with pytest.raises(ManifestError, match="does not fit"):
        Manifest.from_json(d)
    with pytest.raises(ManifestError):
        Manifest.from_json([d])


@pytest.fixture
def old_index(tiny, tmp_path) -> Settings:
    """A copy of the tiny index and corpus whose live manifest is the one
    written before (its checksums those of the copy's files)."""
    root = tmp_path / "old"
    shutil.copytree(tiny.settings.corpus_dir, root / "corpus")
    shutil.copytree(tiny.index_dir, root / "index")
    index = root / "index"
    gen = index / (index / CURRENT).read_text().strip()
    manifest = dict(copy.deepcopy(WRITTEN_BEFORE), checksums=file_digests(gen))
    (gen / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Settings(corpus_dir=root / "corpus", index_dir=index)


def test_an_index_built_before_loads_and_searches(old_index):
    gen = load_generation(old_index.index_dir, "fake-v1")
    assert gen.manifest == Manifest.from_json(
        dict(WRITTEN_BEFORE, checksums=gen.manifest.checksums)
    )
    view = IndexView(gen)
    assert set(view.doc_meta) == {"laki-fi", "lag-sv", "notes-en"}
    assert view.doc_meta["laki-fi"].path == "laki.fi.md"


def test_a_build_over_an_index_built_before_reuses_its_files(old_index):
    embedder = FakeEmbedder()
    report = build_index(old_index, embedder=embedder)
    assert embedder.embedded == []  # the three files unchanged: nothing read again
    assert {f.path: str(f.status) for f in report.files} == {
        "lag.sv.md": "unchanged",
        "laki.fi.md": "unchanged",
        "notes.txt": "unchanged",
        "broken.pdf": "removed",
    }
    written = json.loads(
        (
            old_index.index_dir
            / (old_index.index_dir / CURRENT).read_text().strip()
            / MANIFEST_FILE
        ).read_text(encoding="utf-8")
    )
    # The same format on disk, and two keys more: when the build began (the
    # "Built" time is when it finished), and the analysis BM25's terms were
    # made with (a build before it did not record one, so this build wrote
    # the terms anew, reading no file); a reader that does not know them skips them.
    assert written.keys() == WRITTEN_BEFORE.keys() | {"started", "lexical"}
    assert written["lexical"] == analysis()
    assert written["files"]["laki.fi.md"].keys() == WRITTEN_BEFORE["files"]["laki.fi.md"].keys()


def test_another_format_version_is_a_mismatch_and_a_broken_one_corrupt(old_index):
    gen = old_index.index_dir / (old_index.index_dir / CURRENT).read_text().strip()
    data = json.loads((gen / MANIFEST_FILE).read_text(encoding="utf-8"))
    (gen / MANIFEST_FILE).write_text(json.dumps(dict(data, format_version=1)), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="format version 1"):
        load_generation(old_index.index_dir)
    data["files"]["notes.txt"]["status"] = "lost"
    (gen / MANIFEST_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        load_generation(old_index.index_dir)


def test_status_facts_are_the_manifest_but_its_files(old_index):
    facts, rows = index_status(old_index.index_dir, old_index.corpus_dir)
    data = facts.to_json()
    assert data["generation"] == (old_index.index_dir / CURRENT).read_text().strip()
    assert "dictionaries" in data and "files" not in data
    expected = {k: v for k, v in WRITTEN_BEFORE.items() if k not in ("files", "checksums")}
    assert {k: data[k] for k in expected} == expected
    assert facts.manifest.counts.failed == 1 and "broken.pdf" in {r.path for r in rows}


def test_a_database_generation_whose_manifest_does_not_fit_is_corrupt():
    url = "postgresql://kb:secret@127.0.0.1:5/kb"
    live = LiveGeneration(7, "gen-x", {"model": {"name": "m"}}, url)
    with pytest.raises(IndexCorruptError, match="gen-x") as caught:
        live.manifest  # noqa: B018 - read when first asked for
    assert "secret" not in str(caught.value)
    good = LiveGeneration(7, "gen-y", copy.deepcopy(WRITTEN_BEFORE), url)
    assert good.manifest == Manifest.from_json(WRITTEN_BEFORE)
