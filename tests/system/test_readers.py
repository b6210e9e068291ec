"""Reader processes die with their build, and no forked process holds the
build lock: a build killed mid-read leaves nothing behind that blocks the
next one. (tests/system/test_kill.py does the same with a real `python -m ingest`.)"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.reading import readers, sandbox
from kb.errors import BuildLockedError
from kb.index.folder import build_lock
from testsupport.procs import alive, descendants, wait_gone

FORK = multiprocessing.get_context("fork")


def _lock_fork_and_die(index_dir: Path, pid_file: Path) -> None:
    """A build's process: takes the lock, forks a child that lingers, and
    is SIGKILLed without letting go of the lock."""
    with build_lock(index_dir):
        child = FORK.Process(target=time.sleep, args=(60,))
        child.start()
        pid_file.write_text(str(child.pid))
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_forked_child_does_not_hold_the_build_lock(tmp_path):
    index_dir, pid_file = tmp_path / "index", tmp_path / "child.pid"
    build = FORK.Process(target=_lock_fork_and_die, args=(index_dir, pid_file))
    build.start()
    # not join(): the lingering child holds the end of the pipe it waits on
    deadline = time.monotonic() + 30
    while build.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert build.exitcode == -signal.SIGKILL
    child = int(pid_file.read_text())
    try:
        os.kill(child, 0)  # the child outlived the build
        with build_lock(index_dir):  # and yet the next build starts at once
            pass
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_concurrent_build_is_still_refused(tmp_path):
    with build_lock(tmp_path / "index"):
        with pytest.raises(BuildLockedError, match="another build of .* is running"):
            with build_lock(tmp_path / "index"):
                pass


def _build_reading(settings) -> None:
    """A build's process, reading one file whose reader never finishes."""
    readers.extract_many([settings.corpus_dir / "slow.pdf"], settings)


@pytest.mark.parametrize("prctl", [True, False], ids=["prctl", "polling"])
def test_a_reader_dies_with_its_build(settings, tmp_path, monkeypatch, prctl):
    monkeypatch.setattr(sandbox, "USE_PRCTL", prctl)
    monkeypatch.setattr(sandbox, "PARENT_POLL_SECONDS", 0.1)
    pid_file = tmp_path / "reader.pid"

    def read_pages(path, settings):  # what the forked reader runs
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    monkeypatch.setattr(readers, "read_pages", read_pages)
    (settings.corpus_dir / "slow.pdf").write_bytes(b"%PDF-1.4 (read_pages is patched)")
    build = FORK.Process(target=_build_reading, args=(replace(settings, file_timeout=600),))
    build.start()
    deadline = time.monotonic() + 30
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the reader did not start"
        time.sleep(0.02)
    below = descendants(build.pid)
    assert int(pid_file.read_text()) in below
    os.kill(build.pid, signal.SIGKILL)
    build.join()
    try:
        assert wait_gone(below, 5) == [], "the reader outlived its build"
    finally:
        for pid in alive(below):
            os.kill(pid, signal.SIGKILL)
