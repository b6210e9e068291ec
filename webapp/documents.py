"""The documents view: the index's facts, the documents table and chart, and
for editors the rebuild, add, remove, trash and audit controls."""

from __future__ import annotations

import streamlit as st

from ingest.corpus.audit import Action
from ingest.pipeline import build_index
from ingest.status import index_status, row_counts
from ingest.storage.buildwait import build_in_turn
from kb.errors import BuildLockedError, KBError
from kb.labels import label
from search import Searcher
from webapp.access import record, require_editor, show_audit
from webapp.cards import (
    column_names,
    documents_table_row,
    facts_markdown,
    failure_message,
    index_error_message,
    reasons_markdown,
    tool_details,
)
from webapp.editing import add_documents, remove_document, show_trash
from webapp.feedback import show_unanswered
from webapp.page import chunks_chart
from webapp.state import get_searcher, live_searcher


def rebuild(settings, ui: str, searcher: Searcher | None) -> bool:
    """Build or update the index with a progress bar. The live index keeps
    answering (this and other sessions) until the new generation is swapped in.
    Editors only: checked here, not only where the button is drawn."""
    try:
        access = require_editor(settings, "rebuild")
    except KBError:
        st.error(label(ui, "not_editor"))
        return False
    bar = st.progress(0.0, text=label(ui, "reading"))
    files: list[str] = []

    def on_file(result) -> None:
        files.append(result.path)
        bar.progress(0.0, text=f"{label(ui, 'reading')}: {len(files)}")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"{label(ui, 'embedding')}: {done}/{total}")

    try:
        with st.spinner(label(ui, "building")):
            # Another build running: this one waits its turn (queued, not dropped).
            report = build_in_turn(build_index, settings, on_file=on_file, progress=progress)
    except BuildLockedError:
        st.warning(label(ui, "locked"))
        return False
    except KBError as exc:  # a database out of reach, a schema of another version
        st.error(index_error_message(exc, ui))
        return False
    bar.progress(1.0, text=label(ui, "built"))
    counts = label(ui, "built_counts").format(
        chunks=report.chunks, pages=report.pages, seconds=report.seconds
    )
    record(settings, access, Action.REBUILD, f"{report.chunks} passages, {report.pages} pages")
    st.success(f"{label(ui, 'built')}: {counts}")
    for failed in report.failed:
        st.warning(failure_message(failed.path, failed.error, ui))
    if searcher is not None:
        live_searcher(str(settings.index_dir))
    else:
        get_searcher.clear()
    return not report.failed


def show_reasons(rows, ui: str) -> None:
    """Below the table, in full: each document that needs attention, why
    and what to do, in the page's language; the tools' own (English)
    messages folded away under them."""
    if text := reasons_markdown(rows, ui):
        st.subheader(label(ui, "attention"), anchor=False)
        st.markdown(text)
        if details := tool_details(rows):
            st.expander(label(ui, "tool_details")).markdown(details)


def documents_view(settings, searcher: Searcher | None, ui: str, can_edit: bool) -> None:
    import pandas as pd

    try:
        facts, rows = index_status(settings.index_dir, settings.corpus_dir, settings.backend)
    except KBError as exc:
        st.error(index_error_message(exc, ui))
        facts, rows = None, []
    if facts:
        st.subheader(label(ui, "facts"), anchor=False)
        st.markdown(facts_markdown(facts, ui, row_counts(rows)))
    if rows:
        names = column_names(ui)
        table = pd.DataFrame([documents_table_row(r, ui) for r in rows])
        st.dataframe(table.rename(columns=names), hide_index=True, width="stretch")
        show_reasons(rows, ui)
        indexed = table[table["chunks"] > 0].rename(columns=names)
        if not indexed.empty:
            st.subheader(label(ui, "chunks_chart"), anchor=False)
            st.altair_chart(chunks_chart(indexed, names))  # whole titles, told apart
    if not can_edit:  # readers: the table and the chart, no button that edits
        return
    if st.button(label(ui, "rebuild"), type="primary"):
        rebuild(settings, ui, searcher)
    add_documents(settings, searcher, ui, rebuild)
    remove_document(settings, searcher, ui, rebuild)
    show_trash(settings, searcher, ui, rebuild)
    show_audit(settings, ui)
    show_unanswered(settings, ui)  # what readers asked that the documents did not answer
