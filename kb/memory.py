"""Memory the process has freed, handed back to the system."""

from __future__ import annotations


def trim_heap() -> None:
    """glibc's malloc_trim (a few ms at most): after work that freed much
    memory in many small pieces, which the allocator would otherwise keep
    for the process. Nothing where the C library has no such call."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD = -3  # from <malloc.h>


def return_large_blocks() -> None:
    """Make glibc's malloc serve blocks of 256 KB and more by mmap, so they
    go back to the system when freed. By default the threshold rises after
    each large free, and the tensors of one query then stay with the
    process (about 75 MB more after a few searches). Elsewhere nothing."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 256 * 1024)
    except (OSError, AttributeError):
        pass
