"""The feedback store (search/feedback.py) end to end: two page processes
writing at once, one killed mid-write; the store surviving rebuilds. The
page's buttons: tests/page/test_feedback_page.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kb.failpoints import SIGNAL_ENV
from kb.settings import PROJECT_ROOT
from search.feedback import FeedbackStore, Verdict, store_path

STALL_AT = 15


def _writer(store: Path, name: str, tmp: Path, stall_at: int = -1) -> subprocess.Popen:
    out = (tmp / f"{name}.out").open("w")
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **{SIGNAL_ENV: str(tmp / f"{name}.sig")})
    args = [str(store), name, str(tmp / "start"), str(tmp / "stop")]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testsupport.feedbackwriter",
            *args,
            *([str(stall_at)] * (stall_at >= 0)),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.PIPE,
    )


def _committed(tmp: Path, name: str) -> list[int]:
    return [int(n) for n in (tmp / f"{name}.out").read_text().split()]


def _wait(check, proc: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert proc.poll() is None, f"{what}: writer ended ({proc.stderr.read()})"
        assert time.monotonic() < deadline, f"{what}: timed out"
        time.sleep(0.02)


@pytest.mark.kill
def test_two_processes_one_killed_mid_write_keep_every_committed_record_once(tmp_path):
    store_file = tmp_path / "index" / "feedback.sqlite3"
    a = _writer(store_file, "a", tmp_path, stall_at=STALL_AT)
    b = _writer(store_file, "b", tmp_path)
    try:
        (tmp_path / "start").touch()  # both write at once from here
        _wait((tmp_path / "a.sig").exists, a, "a reaching its failpoint")
        # a holds the write lock mid-transaction: b waits, commits nothing
        time.sleep(0.3)  # (b may still be printing a commit made just before)
        held = len(_committed(tmp_path, "b"))
        time.sleep(0.5)
        assert len(_committed(tmp_path, "b")) == held
        assert b.poll() is None  # waiting (busy_timeout), not failed
        a.send_signal(signal.SIGKILL)
        assert a.wait() == -signal.SIGKILL
        _wait(lambda: len(_committed(tmp_path, "b")) >= held + 20, b, "b resuming")
        (tmp_path / "stop").touch()
        assert b.wait(timeout=60) == 0, b.stderr.read()
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    a_done, b_done = _committed(tmp_path, "a"), _committed(tmp_path, "b")
    assert a_done == list(range(STALL_AT))  # killed in record STALL_AT, before its commit
    assert b_done == list(range(len(b_done))) and len(b_done) >= held + 20
    stored = Counter(r.question for r in FeedbackStore(store_file).records())
    expected = {f"a-{n}" for n in a_done} | {f"b-{n}" for n in b_done}
    assert set(stored) == expected  # every completed record; nothing of a-STALL_AT
    assert set(stored.values()) == {1}  # each exactly once
    for record in FeedbackStore(store_file).records():  # whole records, none torn
        n = int(record.question.split("-")[1])
        assert record.verdict is (Verdict.ANSWERED if n % 2 else Verdict.DID_NOT)
        assert record.section == (("1 luku Yleiset", f"{n} § Pykälä") if n % 3 else ())


def test_the_store_survives_rebuilds_and_a_dead_builds_cleanup(settings, fake):
    from ingest.pipeline import build_index
    from kb.index.folder import build_lock, current_name, remove_stale
    from search.feedback import Feedback

    (settings.corpus_dir / "a.fi.md").write_text("# Otsikko\n\nHankinnat.\n", encoding="utf-8")
    build_index(settings, embedder=fake)
    store = FeedbackStore.beside(settings.index_dir)
    first = current_name(settings.index_dir)
    store.add(Feedback("Mitä hankinnat ovat?", "fi", Verdict.ANSWERED, first, "a-fi"))
    for n in range(3):  # more generations than are kept: the oldest are pruned
        (settings.corpus_dir / "a.fi.md").write_text(f"# Otsikko\n\nMuutos {n}.\n", "utf-8")
        build_index(settings, embedder=fake)
    with build_lock(settings.index_dir):
        remove_stale(settings.index_dir)
    assert not (settings.index_dir / first).exists()
    assert [r.generation for r in store.records()] == [first]
    assert store_path(settings.index_dir).parent == settings.index_dir
