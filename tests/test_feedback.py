"""Feedback (search/feedback.py, webapp/feedback.py) end to end: two page
processes writing at once, one killed mid-write; the store surviving
rebuilds; the page's buttons recording what was clicked; the setting off
drawing and writing nothing; the documents view's counts for editors."""

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
from kb.labels import label
from kb.settings import PROJECT_ROOT
from search.feedback import FeedbackStore, Verdict, store_path

STALL_AT = 15


def _writer(store: Path, name: str, tmp: Path, stall_at: int = -1) -> subprocess.Popen:
    out = (tmp / f"{name}.out").open("w")
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **{SIGNAL_ENV: str(tmp / f"{name}.sig")})
    args = [str(store), name, str(tmp / "start"), str(tmp / "stop")]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.feedbackwriter", *args, *([str(stall_at)] * (stall_at >= 0))],
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


# ---------------------------------------------------------------- the page

QUESTION = "Miten hankintayksiköt edistävät innovaatioita?"


@pytest.fixture
def page_index(settings, real_embedder):
    from tests.test_app import HOSTILE, SOURCES, SWEDISH

    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    (settings.corpus_dir / "sida.sv.md").write_text(SWEDISH, encoding="utf-8")
    (settings.corpus_dir / "sources.toml").write_text(SOURCES, encoding="utf-8")
    from ingest.pipeline import build_index

    build_index(settings, embedder=real_embedder)
    return settings


def _verdict_buttons(at, ui: str) -> list:
    names = {label(ui, "feedback_yes"), label(ui, "feedback_no")}
    return [b for b in at.button if b.label in names]


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_the_buttons_record_the_verdict_on_a_card_and_on_the_answer(page_index, ui):
    from search import Searcher
    from tests.test_app import _run, _values

    settings = page_index
    at = _run(q=QUESTION, ui=ui, lang="fi")
    assert not at.exception, at.exception
    buttons = _verdict_buttons(at, ui)
    searcher = Searcher.load(settings.index_dir, settings)
    hits = searcher.search(QUESTION, languages=["fi"])
    generation = searcher.generation.name
    assert len(buttons) == 2 * (len(hits) + 1)  # each card and the answer box
    assert not store_path(settings.index_dir).exists()  # nothing written before a click

    card = next(b for b in buttons if b.key.endswith(f"{hits[0].chunk_id}:answered"))
    card.click().run()
    assert not at.exception, at.exception
    assert label(ui, "feedback_thanks") in _values(at, "caption")
    answer_no = next(b for b in _verdict_buttons(at, ui) if b.key.endswith(":answer:did-not"))
    answer_no.click().run()
    assert not at.exception, at.exception
    assert _values(at, "caption").count(label(ui, "feedback_thanks")) == 2
    assert len(_verdict_buttons(at, ui)) == 2 * (len(hits) - 1)  # the judged pairs are gone

    records = FeedbackStore.beside(settings.index_dir).records()
    assert [(r.verdict, r.doc_id) for r in records] == [
        (Verdict.ANSWERED, hits[0].doc_id),
        (Verdict.DID_NOT, None),
    ]
    first = records[0]
    assert (first.question, first.lang, first.generation) == (QUESTION, ui, generation)
    assert (first.group, first.section) == (hits[0].group, hits[0].section)
    at.run()  # a rerun records nothing again
    assert len(FeedbackStore.beside(settings.index_dir).records()) == 2


@pytest.mark.model
def test_a_search_with_no_relevant_passage_is_noted_once_and_counted_for_editors(page_index):
    from tests.test_app import _run

    settings = page_index
    at = _run(q="🙂🙂🙂", ui="en")
    assert not at.exception, at.exception
    at.run()  # reruns (any click) note it no second time
    records = FeedbackStore.beside(settings.index_dir).records()
    assert [(r.question, r.verdict, r.doc_id) for r in records] == [
        ("🙂🙂🙂", Verdict.NO_PASSAGE, None)
    ]
    again = _run(q="🙂🙂🙂", ui="en")  # another session asks it too
    assert not again.exception
    at.radio(key="view").set_value("docs").run()  # the operator on loopback: an editor
    assert not at.exception, at.exception
    panel = next(e for e in at.expander if e.label == label("en", "unanswered"))
    table = panel.dataframe[0].value
    assert list(table.columns) == [
        label("en", f"unanswered_{c}") for c in ("question", "lang", "did_not", "no_passage")
    ]
    assert table.values.tolist() == [["🙂🙂🙂", "en", 0, 2]]


@pytest.mark.model
def test_readers_do_not_see_the_unanswered_questions(page_index, monkeypatch):
    from streamlit import config

    from tests.test_app import _run

    monkeypatch.setenv("KB_LOCAL_OPERATOR", "off")
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = _run(view="docs", ui="en")
        assert not at.exception, at.exception
        assert at.dataframe  # the documents table
        assert label("en", "unanswered") not in [e.label for e in at.expander]
    finally:
        config.set_option("server.address", before)


@pytest.mark.model
def test_feedback_off_draws_no_button_and_writes_nothing(page_index, monkeypatch):
    from tests.test_app import _run

    monkeypatch.setenv("KB_FEEDBACK", "off")
    settings = page_index
    at = _run(q=QUESTION, ui="en")
    assert not at.exception, at.exception
    assert at.html and not _verdict_buttons(at, "en")
    flagged = _run(q="🙂🙂🙂", ui="en")  # not even the search that found nothing
    assert not flagged.exception
    flagged.radio(key="view").set_value("docs").run()
    assert label("en", "unanswered") not in [e.label for e in flagged.expander]
    assert not store_path(settings.index_dir).exists()
