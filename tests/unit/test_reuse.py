"""ingest/reuse.py: what a build takes over from the live generation."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from ingest.corpus.sources import Source
from ingest.reuse import Prior, kept_document, prior_index, reusable_entries, unchanged
from ingest.storage.stores import FileStore
from kb.index.folder import CHUNKS_FILE, current_name
from kb.index.manifest import EntryStatus, FileEntry
from kb.records import DocumentMeta


@pytest.fixture
def store(tiny, tmp_path) -> FileStore:
    """A copy of the tiny index (prior_index may clean the folder)."""
    shutil.copytree(tiny.index_dir, tmp_path / "index")
    return FileStore(tmp_path / "index")


def chunking(store: FileStore) -> dict:
    return store.previous().manifest.chunking


def test_same_model_and_chunking_make_the_live_generation_reusable(tiny, store):
    prior = prior_index(store, tiny.embedder.fingerprint, chunking(store))
    assert prior.reusable and prior.index.name == current_name(store.index_dir)
    assert set(prior.files) == {"laki.fi.md", "lag.sv.md", "notes.txt"}
    assert set(prior.rows) == {"laki-fi", "lag-sv", "notes-en"}
    for doc, rows in prior.rows.items():
        assert [prior.index.chunks[r].doc_id for r in rows] == [doc] * len(rows)
    assert sum(map(len, prior.rows.values())) == 7


def test_another_model_or_chunking_reuses_nothing(tiny, store):
    other_model = prior_index(store, "another-model", chunking(store))
    assert not other_model.reusable and other_model.files == {} and other_model.rows == {}
    assert other_model.index is not None  # still the live generation, to replace
    other_chunks = dict(chunking(store), size=chunking(store).get("size", 0) + 1)
    assert not prior_index(store, tiny.embedder.fingerprint, other_chunks).reusable


def test_no_index_is_a_fresh_build(tmp_path):
    prior = prior_index(FileStore(tmp_path / "none"), "fake-v1", {})
    assert prior == Prior()


def test_an_unreadable_index_is_rebuilt_with_a_warning(tiny, store, caplog):
    (store.index_dir / current_name(store.index_dir) / CHUNKS_FILE).write_text("{}\n")
    with caplog.at_level(logging.WARNING, logger="ingest.reuse"):
        prior = prior_index(store, tiny.embedder.fingerprint, {})
    assert prior == Prior()
    assert "rebuilding everything" in caplog.text


def test_leftovers_of_an_interrupted_build_are_removed_first(tiny, store):
    (store.index_dir / ".tmp-gen-x").mkdir()
    prior_index(store, tiny.embedder.fingerprint, chunking(store))
    assert not (store.index_dir / ".tmp-gen-x").exists()


def entry(doc_id: str, sha: str = "1", status: str = "indexed", **more) -> FileEntry:
    doc = DocumentMeta(id=doc_id, title="", lang="fi")
    return FileEntry(sha, status=EntryStatus(status), doc=doc, **more)


def test_unchanged_needs_the_same_digest_and_no_failure():
    assert unchanged(entry("a", "x"), "x")
    assert not unchanged(entry("a", "x"), "y")
    assert not unchanged(entry("a", "x", status="failed"), "x")
    assert not unchanged(None, "x")


def test_reusable_entries_are_the_unchanged_files_still_there():
    prev = {"a.md": entry("a", "1"), "b.md": entry("b", "2"), "gone.md": entry("g", "3")}
    digests = {"a.md": "1", "b.md": "changed"}
    assert reusable_entries(prev, digests, {"a.md", "b.md"}) == {"a.md": prev["a.md"]}


def test_an_id_two_files_shared_is_not_trusted():
    prev = {"a.md": entry("same"), "b.md": entry("same"), "c.md": entry("c")}
    digests = dict.fromkeys(prev, "1")
    assert list(reusable_entries(prev, digests, set(prev))) == ["c.md"]


def test_a_file_whose_sources_entry_was_removed_is_read_again():
    prev = {
        "described.md": entry("d", described=True),
        "plain.md": entry("p", described=False),
        "old.md": FileEntry.from_json(  # from before entries were marked: read again once
            {"sha256": "1", "status": "indexed", "doc": {"id": "o", "title": "", "lang": "fi"}}
        ),
    }
    digests = dict.fromkeys(prev, "1")
    assert list(reusable_entries(prev, digests, set())) == ["plain.md"]
    assert set(reusable_entries(prev, digests, set(prev))) == set(prev)


@pytest.fixture
def prior(tiny, store) -> Prior:
    return prior_index(store, tiny.embedder.fingerprint, chunking(store))


def test_a_kept_document_keeps_its_chunks_and_vectors(prior):
    kept = kept_document(prior, prior.files["laki.fi.md"], None, "laki-fi")
    rows = prior.rows["laki-fi"]
    assert not kept.edited and kept.meta.id == "laki-fi"
    assert kept.chunks == [prior.index.chunks[r] for r in rows]
    assert np.array_equal(kept.vectors, prior.index.vectors(rows))


def test_edited_metadata_applies_without_re_embedding(prior):
    src = Source(id="laki-fi", title="Uusi nimi", lang="fi", kind="strategy", group="")
    kept = kept_document(prior, prior.files["laki.fi.md"], src, "laki-fi")
    assert kept.edited
    assert kept.meta.title == "Uusi nimi" and kept.meta.kind == "strategy" and kept.meta.group == ""
    assert {(c.title, c.kind, c.group) for c in kept.chunks} == {("Uusi nimi", "strategy", "")}
    rows = prior.rows["laki-fi"]
    assert [c.text for c in kept.chunks] == [prior.index.chunks[r].text for r in rows]
    assert np.array_equal(kept.vectors, prior.index.vectors(rows))


def test_a_new_id_renames_every_chunk(prior):
    kept = kept_document(prior, prior.files["laki.fi.md"], None, "laki-2")
    assert kept.edited and kept.meta.id == "laki-2"
    assert [c.chunk_id for c in kept.chunks] == [f"laki-2#{c.ordinal}" for c in kept.chunks]
    assert {c.doc_id for c in kept.chunks} == {"laki-2"}
    assert len(kept.chunks) == len(prior.rows["laki-fi"])


def test_an_empty_title_in_sources_keeps_the_old_one(prior):
    src = Source(id="lag-sv", kind="report", group="laki")
    kept = kept_document(prior, prior.files["lag.sv.md"], src, "lag-sv")
    assert kept.meta.title == "Upphandlingslag" and kept.meta.lang == "sv"
    assert not kept.edited  # nothing the entry gives differs
