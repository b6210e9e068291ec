"""The page's side of feedback (search/feedback.py): "answered my question" /
"did not" under the answer box and on each card, the searches that found no
relevant passage noted once per session, and for editors the questions most
often left unanswered. Nothing is drawn or recorded with KB_FEEDBACK=off.
What a record holds is the question, the page's language, the passage
judged and the index generation: never the session, address or user."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import streamlit as st

from kb.errors import KBError
from kb.labels import label
from kb.settings import load_settings
from search.feedback import Feedback, FeedbackStore, Verdict, question_key

logger = logging.getLogger(__name__)

DONE = "_kb_feedback_done"  # never a widget's key: what this session has recorded
FAILED = "failed"
UNANSWERED_SHOWN = 20


@dataclass(frozen=True)
class Target:
    """What a pair of buttons judges: a card's passage, or (no ``hit``) the answer box."""

    question: str
    ui: str
    generation: str
    hit: object | None = None

    @property
    def key(self) -> str:
        digest = hashlib.sha256(question_key(self.question).encode()).hexdigest()[:16]
        return f"fb:{self.generation}:{digest}:{self.hit.chunk_id if self.hit else 'answer'}"

    def record(self, verdict: Verdict) -> Feedback:
        hit = self.hit
        if hit is None:
            return Feedback(self.question, self.ui, verdict, self.generation)
        return Feedback(
            self.question, self.ui, verdict, self.generation, hit.doc_id, hit.group, hit.section
        )


def enabled() -> bool:
    return load_settings().feedback == "on"


def _store() -> FeedbackStore:
    return FeedbackStore.beside(load_settings().index_dir)


def _done() -> dict[str, str]:
    return st.session_state.setdefault(DONE, {})


def _record(target: Target, verdict: Verdict) -> None:
    """One record per verdict, then the thanks (or why it failed)."""
    try:
        _store().add(target.record(verdict))
    except KBError as exc:  # a full disk, a read-only index folder: the search goes on
        logger.warning("feedback not recorded: %s", exc)
        _done()[target.key] = FAILED
        return
    _done()[target.key] = verdict.value


def _chosen(target: Target) -> None:
    """The control's callback: the verdict chosen, recorded once."""
    verdict = st.session_state.get(target.key)
    if isinstance(verdict, Verdict):
        _record(target, verdict)


def verdict_control(where, target: Target) -> None:
    """The two choices, or once one is chosen the thanks (or why it failed).
    Under the answer box: two buttons, each with what is kept as its help.
    On a card: one segmented control, whose question is its label for
    screen readers: ten cards' worth of buttons with a tooltip each cost
    about 50 ms of the first card (docs/benchmarks.md). Not under the answer
    box: the control grows by a few pixels once drawn, which would move the
    cards below it."""
    ui = target.ui
    done = _done().get(target.key)
    if done == FAILED:
        where.warning(label(ui, "feedback_failed"))
        return
    if done:
        where.caption(label(ui, "feedback_thanks"))
        return
    names = {Verdict.ANSWERED: label(ui, "feedback_yes"), Verdict.DID_NOT: label(ui, "feedback_no")}
    if target.hit is not None:
        where.segmented_control(
            label(ui, "feedback_question"),
            list(names),
            format_func=names.get,
            key=target.key,
            label_visibility="collapsed",
            on_change=_chosen,
            args=(target,),
        )
        return
    row = where.container(horizontal=True, gap="small", key=f"{target.key}:row")
    for verdict, name in names.items():
        row.button(
            name,
            key=f"{target.key}:{verdict.value}",
            help=label(ui, "feedback_help"),
            on_click=_record,
            args=(target, verdict),
            width="content",
        )


def card_verdicts(searcher, hit, ui: str) -> None:
    """The verdict control under one result card."""
    question = st.session_state.get("q", "")
    if question.strip() and enabled():
        verdict_control(st, Target(question, ui, searcher.generation.name, hit))


def answer_verdicts(where, query: str, hits, ui: str, generation: str, answered: bool) -> None:
    """Under the answer box: its buttons, when it quoted a sentence
    (``answered``, from webapp.results.show_answer); or, when the search
    found no relevant passage, that noted once in this session (no click
    needed)."""
    if not enabled():
        return
    if hits.no_relevant_passage:
        _note_no_passage(Target(query, ui, generation))
    elif answered:
        verdict_control(where, Target(query, ui, generation))


def _note_no_passage(target: Target) -> None:
    key = f"{target.key}:no-passage"
    if key in _done():
        return
    try:
        _store().add(target.record(Verdict.NO_PASSAGE))
    except KBError as exc:
        logger.warning("unanswered search not recorded: %s", exc)
    _done()[key] = Verdict.NO_PASSAGE.value  # tried once: not again at every rerun


def show_unanswered(settings, ui: str) -> None:
    """For editors, in the documents view: the questions most often marked
    "did not" or found with no relevant passage, with counts only. A
    dataframe shows the questions as text (no Markdown, no HTML)."""
    if settings.feedback != "on":
        return
    import pandas as pd

    with st.expander(label(ui, "unanswered")):
        st.caption(label(ui, "unanswered_note"))
        try:
            rows = FeedbackStore.beside(settings.index_dir).unanswered(UNANSWERED_SHOWN)
        except KBError as exc:
            st.error(label(ui, "unanswered_unreadable"))
            logger.warning("feedback store unreadable: %s", exc)
            return
        if not rows:
            st.caption(label(ui, "unanswered_none"))
            return
        names = [
            label(ui, f"unanswered_{c}") for c in ("question", "lang", "did_not", "no_passage")
        ]
        table = pd.DataFrame(
            [(r.question, r.lang, r.did_not, r.no_passage) for r in rows], columns=names
        )
        st.dataframe(table, hide_index=True, width="stretch")
