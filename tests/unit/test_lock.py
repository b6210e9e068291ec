"""ingest/fetching/lock.py: corpus/sources.lock, read, written and refused."""

from __future__ import annotations

import json

import pytest

from ingest.fetching.httpread import FetchError
from ingest.fetching.lock import (
    LOCK_VERSION,
    LockFileError,
    atomic_write,
    locked_entry,
    read_lock,
    write_lock,
)
from kb.errors import KBError

SHA = "ab" * 32


def test_no_lock_file_reads_as_empty(tmp_path):
    assert read_lock(tmp_path / "sources.lock") == {}


def test_written_entries_read_back_sorted_by_id(tmp_path):
    folder = tmp_path / "lock"
    folder.mkdir()
    path = folder / "sources.lock"
    files = {"b-doc": {"file": "b.pdf", "sha256": SHA}, "a-doc": {"file": "ä.pdf", "sha256": SHA}}
    write_lock(path, files)
    assert read_lock(path) == files
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == LOCK_VERSION and list(data["files"]) == ["a-doc", "b-doc"]
    assert "ä.pdf" in path.read_text(encoding="utf-8")  # written as UTF-8, not escaped
    write_lock(path, {})
    assert read_lock(path) == {}
    assert [p.name for p in folder.iterdir()] == ["sources.lock"]  # no temporaries left


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "not a readable lock file"),
        (b"\xff\xfe\x00", "not a readable lock file"),
        (b"[]", "found list version None"),
        (b'{"version": 2, "files": {}}', "found dict version 2"),
        (b'{"files": {}}', "found dict version None"),
        (b'{"version": 1, "files": []}', '"files" is not an object'),
        (b'{"version": 1}', '"files" is not an object'),
    ],
)
def test_a_malformed_lock_file_is_refused_by_name(tmp_path, content, why):
    path = tmp_path / "sources.lock"
    path.write_bytes(content)
    with pytest.raises(LockFileError, match="fix or delete it") as caught:
        read_lock(path)
    assert str(path) in str(caught.value) and why in str(caught.value)
    assert path.read_bytes() == content  # left as it is


def test_a_dangling_symlink_is_refused_not_taken_for_no_lock(tmp_path):
    path = tmp_path / "sources.lock"
    path.symlink_to(tmp_path / "nowhere")
    with pytest.raises(LockFileError):
        read_lock(path)


def test_lock_file_error_is_a_fetch_error_and_a_kb_error():
    assert issubclass(LockFileError, FetchError) and issubclass(LockFileError, KBError)


def test_locked_entry_returns_a_good_entry_or_none():
    lock = {"a": {"sha256": SHA, "file": "a.pdf"}}
    assert locked_entry(lock, "a", "sources.lock") == lock["a"]
    assert locked_entry(lock, "b", "sources.lock") is None


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("a.pdf", "an object was expected, found str"),
        ({"file": "a.pdf"}, "sha256 is missing"),
        ({"sha256": SHA.upper()}, "not 64 hex digits"),
        ({"sha256": SHA[:-1]}, "not 64 hex digits"),
        ({"sha256": SHA + "\n"}, "not 64 hex digits"),
        ({"sha256": 5}, "sha256 is missing"),
    ],
)
def test_a_malformed_entry_is_refused_naming_it(entry, why):
    with pytest.raises(LockFileError, match="entry 'a' of sources.lock is malformed") as caught:
        locked_entry({"a": entry}, "a", "sources.lock")
    assert why in str(caught.value)


def test_atomic_write_replaces_the_whole_file(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    path = folder / "f"
    path.write_bytes(b"old content, longer")
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in folder.iterdir()] == ["f"]


def test_a_failed_atomic_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    folder = tmp_path / "w"
    folder.mkdir()
    path = folder / "f"
    path.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("ingest.fetching.lock.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["f"]
