"""Limits for code that reads untrusted bytes: a memory limit for a reader
process (``RLIMIT_AS``), and :func:`call_limited`, which runs one function in
such a process with a time limit (how a fetched web page's main text is read:
ingest/webfetch.py; files are read the same way by ingest/readers.py).

The limit is on address space *added* to what the forked child inherits: a
process that has loaded torch or a model maps gigabytes it never touches,
and a fixed ``RLIMIT_AS`` below that would fail every allocation.
"""

from __future__ import annotations

import logging
import os
import resource
from collections.abc import Callable
from multiprocessing import connection as mp_connection

from .errors import KBError

logger = logging.getLogger(__name__)


class LimitError(KBError):
    """A limited call ran out of time or memory, or died; ``reason`` says which."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


def _mapped_bytes() -> int:
    """This process's address space now (VmSize), or 0 where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def limit_memory(mb: int) -> None:
    """Let this process map at most ``mb`` MB more than it maps now (0: no limit)."""
    if mb <= 0:
        return
    soft = _mapped_bytes() + mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError) as exc:  # a platform without RLIMIT_AS
        logger.warning("no memory limit for the reader: %s", exc)


def _child(conn, func: Callable, args: tuple, memory_mb: int, parent: int) -> None:
    from .readers import die_with_parent

    die_with_parent(parent)
    limit_memory(memory_mb)
    try:
        result = ("ok", func(*args))
    except MemoryError:
        result = ("error", f"needs more than {memory_mb} MB of memory (KB_READER_MB)")
    except RecursionError:
        result = ("error", "nested too deeply")
    except Exception as exc:  # noqa: BLE001 - any reader error is this call's failure
        result = ("error", f"could not be read ({type(exc).__name__})")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("error", f"needs more than {memory_mb} MB of memory (KB_READER_MB)"))
    finally:
        conn.close()


def call_limited(func: Callable, *args, timeout: float, memory_mb: int):
    """``func(*args)`` in a forked reader process with ``timeout`` seconds
    and ``memory_mb`` MB; its result (picklable). LimitError otherwise."""
    from .readers import _context

    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, func, args, memory_mb, os.getpid()), daemon=True)
    proc.start()
    send.close()
    try:
        if not mp_connection.wait([receive], timeout if timeout > 0 else None):
            raise LimitError(f"took longer than {timeout:g} s (KB_FILE_TIMEOUT)", timed_out=True)
        try:
            status, value = receive.recv()
        except (EOFError, OSError):
            proc.join()
            raise LimitError(f"the reader died (exit code {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receive.close()
    if status != "ok":
        raise LimitError(value)
    return value
