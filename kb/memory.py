"""Memory the process has freed, handed back to the system."""

from __future__ import annotations

_M_MMAP_THRESHOLD = -3  # from <malloc.h>


def trim_heap() -> None:
    """glibc's malloc_trim (a few ms at most): after work that freed much
    memory in many small pieces, which the allocator would otherwise keep
    for the process. Nothing where the C library has no such call."""
    _glibc("malloc_trim", 0)


def return_large_blocks() -> None:
    """Make glibc's malloc serve blocks of 256 KB and more by mmap, so they
    go back to the system when freed. By default the threshold rises after
    each large free, and the tensors of one query then stay with the
    process (about 75 MB more after a few searches). Elsewhere nothing."""
    _glibc("mallopt", _M_MMAP_THRESHOLD, 256 * 1024)


def _glibc(call: str, *args: int) -> None:
    """glibc's ``call``, or nothing where there is no glibc or no such call."""
    import ctypes

    try:
        getattr(ctypes.CDLL("libc.so.6"), call)(*args)
    except (OSError, AttributeError):
        pass
