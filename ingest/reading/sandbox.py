"""Limits for code that reads untrusted bytes: a memory limit for a reader
process (``RLIMIT_AS``), and :func:`call_limited`, which runs one function in
such a process with a time limit (how a fetched web page's main text is read:
ingest/fetching/webfetch.py; files are read the same way by ingest/reading/readers.py).

The limit is on address space *added* to what the forked child inherits: a
process that has loaded torch or a model maps gigabytes it never touches,
and a fixed ``RLIMIT_AS`` below that would fail every allocation.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import connection as mp_connection

from kb.errors import KBError

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
USE_PRCTL = sys.platform.startswith("linux")
PARENT_POLL_SECONDS = 0.5  # how often a reader checks its parent where prctl is missing


def context():
    # fork where there is one: spawn and forkserver children re-import the
    # parent's __main__, which under Streamlit (or its AppTest) is the page
    # script. The children only read files, never run torch.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def die_with_parent(parent: int) -> None:
    """Make this (child) process end when ``parent`` does.

    On Linux the kernel sends SIGKILL when the parent dies; the parent may
    have died before the request, so the parent id is checked after it.
    Elsewhere a daemon thread polls the parent id. (The kernel's signal
    follows the thread that forked; the build's thread waits for its
    readers, so it outlives them.)"""
    armed = False
    if USE_PRCTL:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


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
    ctx = context()
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
