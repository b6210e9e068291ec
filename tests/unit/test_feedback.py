"""search/feedback.py, the store, and search/feedbackcli.py, its export
(read back by evaluation/heldout.py's reader) and its command line."""

from __future__ import annotations

import json
import sqlite3

import pytest

from evaluation.heldout import load_questions
from kb.choices import ChoiceError
from kb.errors import KBError
from search.__main__ import main as search_main
from search.feedback import (
    SCHEMA_VERSION,
    Feedback,
    FeedbackInvalidError,
    FeedbackStore,
    FeedbackUnreadableError,
    FeedbackWriteError,
    Verdict,
    store_path,
)
from search.feedbackcli import qrels_lines, qrels_section

GEN = "gen-20261206T120000000000-abcd1234"
ACT = ("5 luku Hankintamenettelyt", "38 § Innovaatiokumppanuus")
ACT_SV = ("5 kap. Upphandlingsförfaranden", "38 § Innovationspartnerskap")


def _card(question: str, verdict: Verdict, doc="hankintalaki-fi", section=ACT, lang="fi"):
    return Feedback(question, lang, verdict, GEN, doc, "hankintalaki", section)


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore.beside(tmp_path / "index")


def test_a_record_is_stored_whole_in_a_wal_file_beside_the_index(store, tmp_path):
    assert store.records() == [] and not store.path.exists()  # reading creates nothing
    stored = store.add(_card("  Mikä on\ninnovaatiokumppanuus? ", Verdict.ANSWERED))
    assert store.path == tmp_path / "index" / "feedback.sqlite3" == store_path(tmp_path / "index")
    assert stored.question == "Mikä on innovaatiokumppanuus?"  # spaces as one
    assert (stored.lang, stored.verdict, stored.generation) == ("fi", Verdict.ANSWERED, GEN)
    assert (stored.doc_id, stored.group, stored.section) == ("hankintalaki-fi", "hankintalaki", ACT)
    assert stored.id == 1 and len(stored.created) == len("2026-12-06T12:00Z")
    box = store.add(Feedback("Mikä on innovaatiokumppanuus?", "en", "did-not", GEN))
    assert (box.doc_id, box.section, box.verdict) == (None, (), Verdict.DID_NOT)
    assert store.records() == [stored, box]
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_record_holds_nothing_that_identifies_a_person(store):
    store.add(_card("q", Verdict.ANSWERED))
    with sqlite3.connect(store.path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}
    # rid: a random id per record (its retries insert it once), never per person
    assert columns == {
        "id", "rid", "question", "qkey", "lang", "verdict", "doc_id", "grp", "section",
        "generation", "created",
    }  # fmt: skip


def test_a_retried_record_is_stored_once(store):
    record = _card("q", Verdict.ANSWERED)
    assert store.add(record) == store.add(record)
    assert len(store.records()) == 1


@pytest.mark.parametrize(
    "record",
    [
        Feedback(" \n", "fi", Verdict.ANSWERED, GEN),
        Feedback("x" * 2001, "fi", Verdict.ANSWERED, GEN),
        Feedback("q", "", Verdict.ANSWERED, GEN),
        Feedback("q", "fi", Verdict.ANSWERED, ""),
        Feedback("q", "fi", Verdict.NO_PASSAGE, GEN, "doc"),
        Feedback("q", "fi", Verdict.ANSWERED, GEN, "doc", "", ("x" * 501,)),
    ],
)
def test_a_record_that_cannot_be_stored_is_refused_and_nothing_written(store, record):
    with pytest.raises(FeedbackInvalidError):
        store.add(record)
    assert not store.path.exists()


def test_an_unknown_verdict_is_a_typed_error(store):
    with pytest.raises(ChoiceError, match="answered, did-not, no-passage"):
        store.add(Feedback("q", "fi", "maybe", GEN))


def test_a_store_that_cannot_be_written_is_a_typed_error(tmp_path):
    (tmp_path / "index").write_text("a file where the folder should be")
    with pytest.raises(FeedbackWriteError) as caught:
        FeedbackStore.beside(tmp_path / "index").add(_card("q", Verdict.ANSWERED))
    assert "feedback store" in str(caught.value) and isinstance(caught.value, KBError)


def test_a_file_that_is_not_a_store_or_is_newer_is_unreadable(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(FeedbackUnreadableError):
        store.records()
    with pytest.raises(FeedbackUnreadableError):
        store.add(_card("q", Verdict.ANSWERED))
    store.path.unlink()
    store.add(_card("q", Verdict.ANSWERED))
    with sqlite3.connect(store.path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(FeedbackUnreadableError, match="newer version"):
        store.records()
    with pytest.raises(FeedbackUnreadableError, match="newer version"):
        store.add(_card("q", Verdict.ANSWERED))


def test_unanswered_counts_questions_however_spelled_most_frequent_first(store):
    for _ in range(2):
        store.add(Feedback("Onko leipä hyvää?", "fi", Verdict.NO_PASSAGE, GEN))
    store.add(_card("onko  LEIPÄ hyvää?", Verdict.DID_NOT))
    store.add(_card("Onko leipä hyvää?", Verdict.ANSWERED))  # not counted
    store.add(_card("Onko leipä hyvää?", Verdict.DID_NOT, lang="sv"))  # another page language
    store.add(_card("Mikä on kynnysarvo?", Verdict.ANSWERED))  # answered only: not listed
    rows = store.unanswered()
    assert [(r.question, r.lang, r.did_not, r.no_passage, r.total) for r in rows] == [
        ("Onko leipä hyvää?", "fi", 1, 2, 3),  # as first asked
        ("Onko leipä hyvää?", "sv", 1, 0, 1),
    ]
    assert len(store.unanswered(limit=1)) == 1


# ---------------------------------------------------------------- the export


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (ACT, "38 §"),
        (ACT_SV, "38 §"),
        (("2 luku Soveltamisala", "12 a § Sidosyksiköt"), "12 a §"),
        (("Temagruppen Innovationer", "  Mål "), "Mål"),
        (("3 Tavoitteet", "3.2 Vaikuttavuus"), "3.2 Vaikuttavuus"),
        ((), ""),
    ],
)
def test_a_section_is_named_as_the_labelled_sets_name_it(section, expected):
    assert qrels_section(section) == expected


def _records() -> list[Feedback]:
    q, q2, q3 = "Mikä on innovaatiokumppanuus?", "Onko leipä hyvää?", "Vad är ett ramavtal?"
    return [
        _card(q, Verdict.ANSWERED),
        _card(q, Verdict.ANSWERED, doc="hankintalaki-sv", section=ACT_SV),  # the same section
        _card(q, Verdict.DID_NOT, section=("1 luku Yleiset", "1 § Soveltamisala")),
        Feedback(q, "fi", Verdict.ANSWERED, GEN),  # the answer box
        Feedback(q2, "fi", Verdict.NO_PASSAGE, GEN),
        _card(q2, Verdict.DID_NOT),
        Feedback(q3, "sv", Verdict.ANSWERED, GEN),  # the answer box only
    ]


def test_the_export_round_trips_through_the_heldout_reader(tmp_path):
    path = tmp_path / "feedback.qrels.jsonl"
    lines = qrels_lines(_records())
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    questions = load_questions(path, "feedback")
    assert [(q.query, q.lang, q.split, q.source, q.relevant) for q in questions] == [
        (
            "Mikä on innovaatiokumppanuus?",
            "fi",
            "feedback",
            "feedback",
            (("hankintalaki", "38 §"),),
        ),
        ("Onko leipä hyvää?", "fi", "feedback", "none", ()),  # a no-answer question
        ("Vad är ett ramavtal?", "sv", "feedback", "feedback", ()),  # needs its section
    ]
    assert len({q.id for q in questions}) == 3
    first = lines[0]
    assert first["not_relevant"] == [{"doc": "hankintalaki", "section": "1 §"}]
    assert first["feedback"]["answered"] == 3 and first["feedback"]["answer_box"] == {
        "answered": 1,
        "did_not": 0,
    }
    assert first["feedback"]["generations"] == [GEN]
    assert lines[1]["not_relevant"] == [{"doc": "hankintalaki", "section": "38 §"}]
    assert lines[1]["feedback"]["no_passage"] == 1
    assert qrels_lines(_records()) == lines  # the same ids every time


def test_the_command_line_exports_and_lists_the_unanswered(tmp_path, capsys, monkeypatch):
    index = tmp_path / "index"
    store = FeedbackStore.beside(index)
    for record in _records():
        store.add(record)
    out = tmp_path / "out.qrels.jsonl"
    assert search_main(["feedback", "--export", "--out", str(out), "--index", str(index)]) == 0
    assert len(load_questions(out)) == 3
    assert search_main(["feedback", "--export", "--index", str(index)]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")
    assert search_main(["feedback", "--index", str(index)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:2] == ["2", "[fi]"] and "Onko leipä hyvää?" in listed[0]
    assert any("Mikä on innovaatiokumppanuus?" in line for line in listed)
    assert not any("ramavtal" in line for line in listed)  # answered only
    monkeypatch.setenv("KB_FEEDBACK", "maybe")
    assert search_main(["feedback", "--index", str(index)]) == 2
    assert "feedback must be on or off" in capsys.readouterr().err
    monkeypatch.setenv("KB_FEEDBACK", "off")  # what was recorded can still be exported
    assert search_main(["feedback", "--export", "--index", str(index)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    store.path.write_bytes(b"garbage" * 500)
    assert search_main(["feedback", "--export", "--index", str(index)]) == 3
    assert "feedback store" in capsys.readouterr().err
