"""kb/memory.py: the calls that hand freed memory back to the system."""

import ctypes

from kb import memory


class _Libc:
    def __init__(self):
        self.calls = []

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))


def test_trim_heap_asks_glibc_to_trim_all_it_can(monkeypatch):
    libc = _Libc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    memory.trim_heap()
    memory.return_large_blocks()
    assert libc.calls == [("malloc_trim", 0), ("mallopt", -3, 256 * 1024)]


def test_without_glibc_nothing_happens(monkeypatch):
    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    memory.trim_heap()
    memory.return_large_blocks()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: object())  # a libc without them
    memory.trim_heap()
    memory.return_large_blocks()
