"""Feedback on the page (webapp/feedback.py): the controls record what was
chosen on a card and on the answer box, in fi/sv/en; a search with no
relevant passage is noted once and counted for editors only; the setting
off draws and writes nothing."""

from __future__ import annotations

import pytest

from kb.labels import label
from search.feedback import FeedbackStore, Verdict, store_path
from testsupport.apptest import run_page, widget_values, write_page_corpus

pytestmark = pytest.mark.slow  # second lane: the page with the real model, many runs

QUESTION = "Miten hankintayksiköt edistävät innovaatioita?"


@pytest.fixture
def page_index(settings, real_embedder):
    from ingest.pipeline import build_index

    write_page_corpus(settings.corpus_dir)
    build_index(settings, embedder=real_embedder)
    return settings


def _verdict_controls(at, ui: str) -> list:
    """The cards' "answered my question" / "did not" controls."""
    names = [label(ui, "feedback_yes"), label(ui, "feedback_no")]
    return [c for c in at.segmented_control if c.options == names]


def _answer_buttons(at, ui: str) -> list:
    """The same two under the answer box, as buttons."""
    names = {label(ui, "feedback_yes"), label(ui, "feedback_no")}
    return [b for b in at.button if b.label in names]


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_the_controls_record_the_verdict_on_a_card_and_on_the_answer(page_index, ui):
    from search import Searcher

    settings = page_index
    at = run_page(q=QUESTION, ui=ui, lang="fi")
    assert not at.exception, at.exception
    controls = _verdict_controls(at, ui)
    searcher = Searcher.load(settings.index_dir, settings)
    hits = searcher.search(QUESTION, languages=["fi"])
    generation = searcher.generation.name
    assert len(controls) == len(hits)  # each card
    assert {c.label for c in controls} == {label(ui, "feedback_question")}
    buttons = _answer_buttons(at, ui)  # and the answer box
    assert [b.help for b in buttons] == [label(ui, "feedback_help")] * 2
    assert not store_path(settings.index_dir).exists()  # nothing written before a choice

    card = next(c for c in controls if c.key.endswith(f":{hits[0].chunk_id}"))
    card.set_value(Verdict.ANSWERED).run()
    assert not at.exception, at.exception
    assert label(ui, "feedback_thanks") in widget_values(at, "caption")
    answer_no = next(b for b in _answer_buttons(at, ui) if b.key.endswith(":answer:did-not"))
    answer_no.click().run()
    assert not at.exception, at.exception
    assert widget_values(at, "caption").count(label(ui, "feedback_thanks")) == 2
    assert len(_verdict_controls(at, ui)) == len(hits) - 1  # the judged ones are gone
    assert not _answer_buttons(at, ui)

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

    settings = page_index
    at = run_page(q="🙂🙂🙂", ui="en")
    assert not at.exception, at.exception
    at.run()  # reruns (any click) note it no second time
    records = FeedbackStore.beside(settings.index_dir).records()
    assert [(r.question, r.verdict, r.doc_id) for r in records] == [
        ("🙂🙂🙂", Verdict.NO_PASSAGE, None)
    ]
    again = run_page(q="🙂🙂🙂", ui="en")  # another session asks it too
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

    monkeypatch.setenv("KB_LOCAL_OPERATOR", "off")
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = run_page(view="docs", ui="en")
        assert not at.exception, at.exception
        assert at.dataframe  # the documents table
        assert label("en", "unanswered") not in [e.label for e in at.expander]
    finally:
        config.set_option("server.address", before)


@pytest.mark.model
def test_feedback_off_draws_no_button_and_writes_nothing(page_index, monkeypatch):

    monkeypatch.setenv("KB_FEEDBACK", "off")
    settings = page_index
    at = run_page(q=QUESTION, ui="en")
    assert not at.exception, at.exception
    assert at.html and not _verdict_controls(at, "en") and not _answer_buttons(at, "en")
    flagged = run_page(q="🙂🙂🙂", ui="en")  # not even the search that found nothing
    assert not flagged.exception
    flagged.radio(key="view").set_value("docs").run()
    assert label("en", "unanswered") not in [e.label for e in flagged.expander]
    assert not store_path(settings.index_dir).exists()


def test_a_target_records_its_passage_or_the_answer_box(monkeypatch):
    from testsupport.records import hit
    from webapp.feedback import Target, enabled

    card = Target("Mikä on puitejärjestely?", "fi", "gen-1", hit())
    box = Target("Mikä on puitejärjestely?", "fi", "gen-1")
    assert card.key != box.key and card.key.startswith("fb:gen-1:")
    got = card.record(Verdict.ANSWERED)
    assert (got.doc_id, got.group, got.section) == (
        "strategy-2020-fi",
        "strategy-2020",
        card.hit.section,
    )
    assert (got.verdict, got.lang, got.generation) == (Verdict.ANSWERED, "fi", "gen-1")
    whole = box.record(Verdict.DID_NOT)
    assert whole.doc_id is None and whole.section == ()
    monkeypatch.setenv("KB_FEEDBACK", "off")
    assert not enabled()
    monkeypatch.setenv("KB_FEEDBACK", "on")
    assert enabled()
