"""Test helper: the processes below a process, from /proc (Linux)."""

from __future__ import annotations

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
