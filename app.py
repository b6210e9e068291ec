"""The Streamlit page: thin; the logic lives in the search and ingest packages.

    streamlit run app.py        (make run does it)

URL parameters: q, mode, lang, doc, kind, k, group, view, ui.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingest.corpus.audit import Action
from ingest.pipeline import build_index
from ingest.status import index_status
from ingest.storage.buildwait import build_in_turn
from kb.errors import BackendUnavailableError, BuildLockedError, IndexMissingError, KBError
from kb.labels import EXAMPLES, UI_LANGS, label
from kb.settings import load_settings
from search import Highlighting, QueryError, Searcher, SearchMode, StaleHitError
from search.answer import answer
from search.cite import citation_text, cite
from search.grouping import best_by_language
from webapp import uploadguard
from webapp.access import record, require_editor, show_audit
from webapp.access import sidebar as access_sidebar
from webapp.cards import (
    answer_html,
    card_html,
    column_names,
    documents_table_row,
    facts_markdown,
    failure_message,
    group_heading,
    index_error_message,
    language_name,
    query_error_message,
    ui_language,
)
from webapp.editing import add_documents, remove_document, show_trash
from webapp.page import PAGE_CSS, chunks_chart, draw_filters, remember_in_url, show_exports
from webapp.pdfs import publish

VIEWS = ("search", "docs")
# Widgets whose value must outlive a change of the page's language: their
# labels change with it, and Streamlit would otherwise forget a widget
# whose label changed.
KEPT = ("q", "mode", "langs", "docs", "kinds", "k", "group", "view", "ui")


@st.cache_resource(show_spinner=False)
def get_searcher(index_dir: str) -> Searcher:
    return Searcher.load(Path(index_dir), load_settings())


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
    return sum(1 for r in rows if r.status != "indexed")


@st.cache_data(show_spinner=False)
def pdf_links(generation: str, documents: dict, corpus_dir: str) -> dict[str, str]:
    """Served PDF addresses by doc id, published once per index generation."""
    return publish(documents, Path(corpus_dir), load_settings().static_dir)


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
        searcher.reload_if_changed()
    else:
        get_searcher.clear()
    return not report.failed


def put_card(where, hit, ui: str, links: dict[str, str], **style) -> None:
    """Write one result card (escaped HTML, with its open-at-page link) into
    ``where``: the page, a column, a panel or a placeholder."""
    doc = get_document(hit.doc_id)
    html = card_html(hit, ui, links.get(hit.doc_id), doc=doc, **style)
    where.html(html)


def get_document(doc_id: str) -> dict:
    """The manifest's record of a document, from the live searcher."""
    return get_searcher(str(load_settings().index_dir)).document(doc_id)


def citation(hit, ui: str) -> str:
    """The hit's citation as text, in the page's language."""
    return citation_text(cite(hit, get_document(hit.doc_id)), ui)


def copy_citation(hit, ui: str) -> None:
    """ "Copy citation": a popover holding the citation in st.code, whose
    own button copies it. st.code shows text as text (no Markdown, no
    HTML), so titles and addresses need no escaping, and it needs no iframe
    or script of ours. Its content is written only once it is opened: a
    closed popover is one element for the browser to draw, not three."""
    box = st.popover(label(ui, "copy"), key=f"copy:{hit.chunk_id}", on_change="rerun")
    if box.open:
        box.code(citation(hit, ui), language=None, wrap_lines=True)
        box.caption(label(ui, "copy_help"))


def show_panels(searcher: Searcher, hit, ui: str, links: dict[str, str]) -> None:
    """The three views of a hit (the passage with its neighbours, the same
    passage in other languages, similar passages) as tabs of one panel,
    computed only once the panel is opened: ten closed panels are what the
    browser draws before the first card is on screen."""
    box = st.expander(label(ui, "panels"), key=f"panels:{hit.chunk_id}", on_change="rerun")
    if not box.open:
        return
    # The citation again, in a text field: the popover's copy button is out
    # of the keyboard's reach (Streamlit draws a popover outside the page's
    # Tab order); a field in the panel can be reached, selected and copied.
    field = label(ui, "citation_field")
    box.text_input(field, value=citation(hit, ui), key=f"cite:{ui}:{hit.chunk_id}")
    names = ["context", "other", "similar"] if hit.group else ["context", "similar"]
    tabs = dict(zip(names, box.tabs([label(ui, name) for name in names]), strict=True))
    for part in searcher.neighbours(hit):
        put_card(tabs["context"], part, ui, links, rank=False)
    if "other" in tabs:
        if aligned := searcher.aligned(hit):
            cols = tabs["other"].columns(len(aligned) + 1)
            put_card(cols[0], hit, ui, links, anchored=False)  # the card above has the id
            for col, other in zip(cols[1:], aligned, strict=True):
                put_card(col, other, ui, links, rank=False, score=True)
        else:  # its other versions are not in the index: say so, not the same card again
            tabs["other"].info(label(ui, "no_other"))
    for other in searcher.similar(hit, k=5):
        put_card(tabs["similar"], other, ui, links, rank=False, score=True)


def show_hit(searcher: Searcher, hit, ui: str, links: dict[str, str]):
    """One result, its "copy citation" and its panel; returns the
    placeholder of its card, so that better highlights can replace it once
    they are computed."""
    card = st.empty()
    put_card(card, hit, ui, links)
    copy_citation(hit, ui)
    try:
        show_panels(searcher, hit, ui, links)
    except StaleHitError:  # another session's rebuild was swapped in mid-page
        st.info(label(ui, "stale"))
    return card


def search_view(searcher: Searcher, ui: str, links: dict[str, str]) -> None:
    state = st.session_state
    query = st.text_input(label(ui, "query"), key="q", placeholder=EXAMPLES[0])
    examples = st.container(
        horizontal=True, vertical_alignment="center", gap="small", key="examples"
    )
    examples.caption(f"{label(ui, 'examples')}:", width="content")
    for example in EXAMPLES:  # a click asks it
        examples.button(example, on_click=state.update, kwargs={"q": example}, width="content")
    chosen = draw_filters(searcher, ui)  # in the sidebar: collapsed on a phone
    if not query.strip():
        if "q" in st.query_params:  # a question cleared: a shared link no longer asks it
            del st.query_params["q"]
        return
    filters = chosen.search_kwargs()
    index_dir, generation = str(searcher.index_dir), searcher.generation.name
    # Best sentences come from the vectors the build stored (cheap); an
    # index built before them gets the query's words first and the best
    # sentences, embedded now, once the cards are on screen.
    stored = searcher.generation.sentences is not None
    highlight = Highlighting.FULL if stored else Highlighting.TERMS
    try:
        hits = cached_hits(index_dir, generation, query, highlight, **filters)
    except QueryError as exc:
        st.error(query_error_message(exc, ui))
        return
    except BackendUnavailableError as exc:
        st.error(index_error_message(exc, ui))
        return
    remember_in_url(query, chosen, state.ui)
    if not hits:
        st.write(label(ui, "no_results"))
        return
    # Places for the answer and the exports above the cards, filled once
    # the cards are written: the first card reaches the browser sooner.
    answer_box = st.empty()
    exports = st.container()
    searches = {"": filters}  # grouped: each language searched on its own

    def one_language(lang: str, k: int):
        searches[lang] = dict(filters, languages=[lang], k=k)
        return cached_hits(index_dir, generation, query, highlight, **searches[lang])

    groups = {"": hits}
    if chosen.group:
        languages = chosen.languages or searcher.languages
        groups = best_by_language(one_language, languages, chosen.k, hits)
    cards = show_hits(searcher, groups, ui, links)
    if not stored:
        try:
            for lang, members in groups.items():
                highlighted = cached_highlighted(index_dir, generation, query, **searches[lang])
                for old, new in zip(members, highlighted, strict=True):
                    if new.highlights != old.highlights:
                        put_card(cards[new.chunk_id], new, ui, links)
            # the answer box takes the ungrouped list (cached unless grouped)
            best = cached_highlighted(index_dir, generation, query, **filters)
            hits = hits.with_hits(list(best))
        except BackendUnavailableError:
            pass  # the cards are on screen, with their query words marked
    show_answer(answer_box, hits, ui, searcher)
    show_exports(exports, query, hits, ui, searcher)


def show_hits(searcher: Searcher, groups: dict, ui: str, links: dict[str, str]) -> dict:
    """The cards, under a heading per language when grouped (keys other
    than ""); their placeholders by chunk id."""
    cards = {}
    for lang, members in groups.items():
        if lang:
            st.subheader(group_heading(ui, lang, len(members)), anchor=False)
        for hit in members:
            cards[hit.chunk_id] = show_hit(searcher, hit, ui, links)
    return cards


def show_answer(where, hits, ui: str, searcher: Searcher) -> None:
    """The answer box above the cards: the best sentences, each with its
    citation and a link to its card; or, when nothing cleared the relevance
    bar, a sentence that says so, with the nearest passages under a note."""
    if hits.no_relevant_passage:
        where.warning(f"{label(ui, 'no_relevant')} {label(ui, 'nearest')}")
        return
    sentences = answer(hits)
    if sentences:
        docs = {s.hit.doc_id: searcher.document(s.hit.doc_id) for s in sentences}
        where.html(answer_html(sentences, ui, docs))
    else:
        where.empty()


def documents_view(settings, searcher: Searcher | None, ui: str, can_edit: bool) -> None:
    import pandas as pd

    try:
        facts, rows = index_status(settings.index_dir, settings.corpus_dir, settings.backend)
    except KBError as exc:
        st.error(index_error_message(exc, ui))
        facts, rows = None, []
    if facts:
        st.subheader(label(ui, "facts"), anchor=False)
        st.markdown(facts_markdown(facts, ui))
    if rows:
        names = column_names(ui)
        table = pd.DataFrame([documents_table_row(r, ui) for r in rows])
        st.dataframe(table.rename(columns=names), hide_index=True, width="stretch")
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


def main() -> None:
    params = st.query_params
    # The sidebar's choice first: the URL still holds the previous language
    # during the rerun that the choice starts.
    ui = ui_language(st.session_state.get("ui") or params.get("ui"), st.context.locale)
    keep_widget_state()
    st.set_page_config(page_title="hankinta-kb", layout="wide")
    settings = load_settings()
    # Uploads held for editors' sessions only, and only so many bytes each.
    uploadguard.install_on_server(lambda: settings.session_upload_mb * 1_000_000)

    searcher, problem = None, None
    try:
        searcher = get_searcher(str(settings.index_dir))
        searcher.reload_if_changed()
    except IndexMissingError:
        problem = "missing"
    except KBError as exc:
        problem = index_error_message(exc, ui)

    seed_state(params, searcher, ui)
    with st.sidebar:
        ui = st.selectbox(
            label(ui, "ui"), UI_LANGS, key="ui", format_func=lambda x: language_name(x, x)
        )
        view = st.radio(
            label(ui, "view"),
            VIEWS,
            key="view",
            format_func=lambda v: label(ui, "view_search" if v == "search" else "view_docs"),
        )
        access = access_sidebar(settings, ui)
    st.title(label(ui, "title"), anchor=False)  # no "Link to heading" (English)
    st.html(PAGE_CSS)  # readable captions, the phone-width layout

    if problem:
        if problem == "missing":
            st.info(label(ui, "no_index" if access.can_edit else "no_index_reader"))
        else:
            st.error(problem)
        if access.can_edit and st.button(label(ui, "build"), type="primary"):
            if rebuild(settings, ui, None):
                st.rerun()
        return
    if view == "docs":
        st.query_params.update({"view": "docs", "ui": ui})
        documents_view(settings, searcher, ui, access.can_edit)
        return
    generation = searcher.generation.name
    if n := not_indexed(
        str(settings.index_dir), generation, str(settings.corpus_dir), settings.backend
    ):  # answers would silently come from the rest: say so
        st.caption(label(ui, "not_in_index").format(n=n))
    documents = {d: searcher.document(d) for d in searcher.documents}
    links = pdf_links(generation, documents, str(settings.corpus_dir))
    search_view(searcher, ui, links)


main()
