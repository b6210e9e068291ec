"""The page's state across reruns: the searcher and searches cached per index
generation, and the widgets' values seeded from the URL and kept across a
change of the page's language."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingest.status import DocState, index_status
from kb.errors import IndexMismatchError, KBError
from kb.records import IndexedDocument
from kb.settings import load_settings
from search import Highlighting, Searcher, SearchMode, bridge
from webapp.pdfs import publish

VIEWS = ("search", "docs", "outline")
# Widgets whose value must outlive a change of the page's language: their
# labels change with it, and Streamlit would otherwise forget a widget
# whose label changed.
KEPT = ("q", "mode", "langs", "docs", "kinds", "k", "group", "view", "ui")


@st.cache_resource(show_spinner=False)
def get_searcher(index_dir: str) -> Searcher:
    searcher = Searcher.load(Path(index_dir), load_settings())
    bridge.warm(searcher.languages)  # the first English question need not wait for them
    return searcher


def live_searcher(index_dir: str) -> Searcher:
    """The cached searcher on the live generation: a newer one is swapped
    in; an index re-embedded with another model (``python -m ingest adapt
    --use``, ``--model base``) needs another query encoder, so the cached
    searcher is made anew."""
    searcher = get_searcher(index_dir)
    try:
        searcher.reload_if_changed()
    except IndexMismatchError:
        get_searcher.clear()
        searcher = get_searcher(index_dir)
    return searcher


@st.cache_data(max_entries=256, show_spinner=False)
def cached_hits(index_dir: str, generation: str, query: str, highlight, **filters):
    """Hits of one search with their highlights, kept per index generation:
    every click on the page (a panel, the grouping toggle) reruns the
    script, and the same search then costs nothing."""
    return get_searcher(index_dir).search(query, highlight=highlight, **filters)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_highlighted(index_dir: str, generation: str, query: str, **filters):
    """The hits with best sentences found by embedding them now: only for
    an index built before sentence vectors were stored (slower)."""
    hits = cached_hits(index_dir, generation, query, Highlighting.TERMS, **filters)
    return get_searcher(index_dir).highlight(query, hits)  # none for a flagged search


@st.cache_data(ttl=60, show_spinner=False)
def not_indexed(index_dir: str, generation: str, corpus_dir: str, backend: str) -> int:
    """How many of the corpus's documents (sources.toml's and the files in
    the folder) the live index lacks: missing, unreadable or added since."""
    try:
        _, rows = index_status(Path(index_dir), Path(corpus_dir), backend)
    except KBError:
        return 0
    return sum(1 for r in rows if r.status != DocState.INDEXED)


@st.cache_data(show_spinner=False)
def pdf_links(generation: str, documents: dict, corpus_dir: str) -> dict[str, str]:
    """Served PDF addresses by doc id, published once per index generation."""
    return publish(documents, Path(corpus_dir), load_settings().static_dir)


def get_document(doc_id: str) -> IndexedDocument:
    """The manifest's record of a document, from the live searcher."""
    return get_searcher(str(load_settings().index_dir)).document(doc_id)


def seed_state(params, searcher: Searcher | None, ui: str) -> None:
    """The URL seeds the widgets once; after that they keep what the user set."""
    state = st.session_state
    if "q" in state:
        return

    def listed(name: str, known: list[str]) -> list[str]:
        return [x for x in params.get(name, "").split(",") if x in known]

    state.q = params.get("q", "")
    state.mode = params.get("mode") if params.get("mode") in list(SearchMode) else SearchMode.HYBRID
    state.langs = listed("lang", searcher.languages) if searcher else []
    state.docs = listed("doc", searcher.documents) if searcher else []
    state.kinds = listed("kind", searcher.kinds) if searcher else []
    k = params.get("k", "")
    state.k = int(k) if k.isdigit() and 1 <= int(k) <= 30 else 10
    state.group = params.get("group") == "1"
    state.view = params.get("view") if params.get("view") in VIEWS else "search"
    state.ui = ui


def keep_widget_state() -> None:
    """Hand each widget's value back to the session before the widgets are
    drawn: a widget whose label changed (the page's language) is a new
    widget to Streamlit, which then forgot the old one's value (the View
    radio showed no option selected). Panels and popovers keep theirs too."""
    state = st.session_state
    for key in list(state.keys()):
        panel = key.startswith(("panels:", "copy:"))
        if key in KEPT or (panel and state[key]):  # open panels only: no pile of closed ones
            state[key] = state[key]
