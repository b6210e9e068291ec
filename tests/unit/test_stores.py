"""ingest/storage/stores.py: which store a build writes to; kb/index/live.py:
the live generation's manifest."""

from __future__ import annotations

import pytest

from ingest.storage.stores import FileStore, live_name, open_store
from kb.errors import BackendUnavailableError, IndexMissingError
from kb.index.folder import current_name, read_manifest
from kb.index.live import live_manifest
from kb.settings import Settings


def test_open_store_is_the_index_folder_without_a_postgres_setting(tmp_path):
    store = open_store(Settings(index_dir=tmp_path / "ix"))
    assert isinstance(store, FileStore) and store.index_dir == tmp_path / "ix"
    assert store.keeps_sentences and not store.has_index()


def test_open_store_is_postgres_with_an_address(tmp_path):
    # Port 1 on loopback refuses at once: the error shows PgStore tried to
    # connect, and names the address without its password.
    url = "postgresql://kb:s3cret@127.0.0.1:1/kb"
    with pytest.raises(BackendUnavailableError) as caught:
        open_store(Settings(index_dir=tmp_path, backend=url))
    assert "127.0.0.1" in str(caught.value) and "s3cret" not in str(caught.value)


def test_live_manifest_of_the_tiny_index(tiny):
    name, manifest = live_manifest(tiny.index_dir)
    assert name == current_name(tiny.index_dir) and name.startswith("gen-")
    assert manifest == read_manifest(tiny.index_dir)
    assert manifest.model.fingerprint == tiny.embedder.fingerprint
    assert set(manifest.files) == {"laki.fi.md", "lag.sv.md", "notes.txt"}
    assert live_name(tiny.settings) == name


def test_without_an_index_there_is_no_live_manifest(tmp_path):
    with pytest.raises(IndexMissingError):
        live_manifest(tmp_path / "empty")
    assert live_name(Settings(index_dir=tmp_path / "empty")) is None


def test_file_store_reads_the_live_generation(tiny):
    store = FileStore(tiny.index_dir)
    assert store.has_index()
    previous = store.previous()
    assert previous.name == current_name(tiny.index_dir) and len(previous.chunks) == 7
    assert previous.vectors([0, 6]).shape == (2, tiny.embedder.dim)


def test_the_hnsw_build_memory_follows_the_graph_within_bounds():
    from ingest.storage.pgstore import HNSW_BUILD_MEMORY_MAX_MB, hnsw_build_memory_mb

    assert hnsw_build_memory_mb(100, 384) == 64  # a small corpus: the floor
    at_100k = hnsw_build_memory_mb(100_000, 384)
    assert 64 < at_100k < hnsw_build_memory_mb(1_000_000, 384) <= HNSW_BUILD_MEMORY_MAX_MB
    assert at_100k * 2**20 > 100_000 * 384 * 4  # at least the vectors themselves
    assert hnsw_build_memory_mb(10**8, 384) == HNSW_BUILD_MEMORY_MAX_MB
