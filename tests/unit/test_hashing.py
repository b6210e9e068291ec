"""kb/hashing.py: the sha256 of a file, read in blocks."""

from __future__ import annotations

import hashlib

import pytest

from kb.hashing import sha256_file


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 1000])
def test_sha256_of_a_file_read_in_small_blocks(tmp_path, size):
    data = bytes(range(256)) * 4
    data = data[:size]
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk=8) == expected
    assert sha256_file(path) == expected


def test_one_changed_byte_changes_the_digest(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"hankinta")
    b.write_bytes(b"hankintA")
    assert sha256_file(a) != sha256_file(b)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        sha256_file(tmp_path / "none")
