"""Test helper: the processes below a process, from /proc (Linux), and what
a child writes to a pseudo-terminal."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a process, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    return fields[0], int(fields[1]), fields[19]


def descendants(pid: int) -> dict[int, str]:
    """Every living process below ``pid``: pid → start time (which tells a
    process from a later one that reuses its pid)."""
    if not PROC.is_dir():
        pytest.skip("needs /proc to follow processes")
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[0] != "Z":
            children.setdefault(stat[1], []).append(int(entry.name))
            started[int(entry.name)] = stat[2]
    found, todo = {}, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found[child] = started[child]
        todo.extend(children.get(child, []))
    return found


def alive(procs: dict[int, str]) -> list[int]:
    """The processes of ``procs`` still running (a zombie is not)."""
    out = []
    for pid, start in procs.items():
        stat = _stat(pid)
        if stat is not None and stat[2] == start and stat[0] != "Z":
            out.append(pid)
    return out


def wait_gone(procs: dict[int, str], seconds: float) -> list[int]:
    """Wait up to ``seconds`` for ``procs`` to end; those still running."""
    deadline = time.monotonic() + seconds
    while (left := alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def read_pty(fd: int, proc: subprocess.Popen, limit: float) -> list[tuple[float, bytes]]:
    """(seconds since start, bytes) as the child writes them to the pty."""
    start, out = time.monotonic(), []
    while time.monotonic() - start < limit:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # the child closed its end
                break
            if not data:
                break
            out.append((time.monotonic() - start, data))
        elif proc.poll() is not None:
            break
    return out
