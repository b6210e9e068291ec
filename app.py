"""The Streamlit page: thin; the logic lives in the search and ingest packages.

    streamlit run app.py        (make run does it)

URL parameters: q, mode, lang, doc, kind, k, group, view, ui.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingest.errors import BuildLockedError, IndexMissingError, KBError
from ingest.pipeline import build_index
from ingest.settings import load_settings
from ingest.status import index_status
from search import MODES, QueryError, Searcher, group_by_language
from search.export import to_csv, to_markdown
from search.pdfs import publish
from search.ui import (
    EXAMPLES,
    UI_LANGS,
    card_html,
    column_names,
    facts_markdown,
    failure_message,
    group_heading,
    label,
    language_name,
    plain,
    ui_language,
)

VIEWS = ("search", "docs")


@st.cache_resource(show_spinner=False)
def get_searcher(index_dir: str) -> Searcher:
    return Searcher.load(Path(index_dir), load_settings())


@st.cache_data(max_entries=256, show_spinner=False)
def cached_hits(index_dir: str, generation: str, query: str, **filters):
    """Hits of one search with the query's words marked, kept per index
    generation: every click on the page (a panel, the grouping toggle) reruns
    the script, and the same search then costs nothing."""
    return get_searcher(index_dir).search(query, highlight="terms", **filters)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_highlighted(index_dir: str, generation: str, query: str, **filters):
    """The same hits with the best sentences found by embedding (slower)."""
    hits = cached_hits(index_dir, generation, query, **filters)
    return get_searcher(index_dir).highlight(query, hits)


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
    state.mode = params.get("mode") if params.get("mode") in MODES else "hybrid"
    state.langs = listed("lang", searcher.languages) if searcher else []
    state.docs = listed("doc", searcher.documents) if searcher else []
    state.kinds = listed("kind", searcher.kinds) if searcher else []
    k = params.get("k", "")
    state.k = int(k) if k.isdigit() and 1 <= int(k) <= 30 else 10
    state.group = params.get("group") == "1"
    state.view = params.get("view") if params.get("view") in VIEWS else "search"
    state.ui = ui


def rebuild(settings, ui: str, searcher: Searcher | None) -> bool:
    """Build or update the index with a progress bar. The live index keeps
    answering (this and other sessions) until the new generation is swapped in."""
    bar = st.progress(0.0, text=label(ui, "reading"))
    files: list[str] = []

    def on_file(result) -> None:
        files.append(result.path)
        bar.progress(0.0, text=f"{label(ui, 'reading')}: {len(files)}")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"{label(ui, 'embedding')}: {done}/{total}")

    try:
        with st.spinner(label(ui, "building")):
            report = build_index(settings, on_file=on_file, progress=progress)
    except BuildLockedError:
        st.warning(label(ui, "locked"))
        return False
    bar.progress(1.0, text=label(ui, "built"))
    st.success(
        f"{label(ui, 'built')}: {report.chunks} chunks, {report.pages} pages, "
        f"{report.seconds:.1f} s"
    )
    for failed in report.failed:
        st.warning(failure_message(failed.path, failed.error, ui))
    if searcher is not None:
        searcher.reload_if_changed()
    else:
        get_searcher.clear()
    return not report.failed


def lazy_expander(name: str, hit, ui: str):
    """An expander whose content is computed only once it is opened (its
    open state reruns the page), so ten results do not build thirty panels."""
    box = st.expander(label(ui, name), key=f"{name}:{hit.chunk_id}", on_change="rerun")
    return box if box.open else None


def put_card(where, hit, ui: str, links: dict[str, str], **style) -> None:
    """Write one result card (escaped HTML, with its open-at-page link) into
    ``where``: the page, a column, a panel or a placeholder."""
    where.markdown(card_html(hit, ui, links.get(hit.doc_id), **style), unsafe_allow_html=True)


def show_hit(searcher: Searcher, hit, ui: str, links: dict[str, str]):
    """One result and its three panels; returns the placeholder of its card,
    so that better highlights can replace it once they are computed."""
    card = st.empty()
    put_card(card, hit, ui, links)
    if box := lazy_expander("context", hit, ui):
        for part in searcher.neighbours(hit):
            put_card(box, part, ui, links, rank=False)
    if hit.group and (box := lazy_expander("other", hit, ui)):
        aligned = searcher.aligned(hit)
        with box:
            cols = st.columns(len(aligned) + 1)
            put_card(cols[0], hit, ui, links)
            for col, other in zip(cols[1:], aligned, strict=True):
                put_card(col, other, ui, links, rank=False, score=True)
    if box := lazy_expander("similar", hit, ui):
        for other in searcher.similar(hit, k=5):
            put_card(box, other, ui, links, rank=False, score=True)
    st.divider()
    return card


def search_view(searcher: Searcher, ui: str, links: dict[str, str]) -> None:
    state = st.session_state
    query = st.text_input(label(ui, "query"), key="q", placeholder=EXAMPLES[0])
    st.caption(f"{label(ui, 'examples')}: " + " · ".join(EXAMPLES))
    top = st.columns([1, 2, 1])
    mode = top[0].selectbox(label(ui, "mode"), MODES, key="mode")
    languages = top[1].multiselect(
        label(ui, "languages"),
        searcher.languages,
        key="langs",
        placeholder=label(ui, "choose"),
        format_func=lambda x: f"{language_name(ui, x)} ({x})",
    )
    k = top[2].slider(label(ui, "k"), 1, 30, key="k")
    below = st.columns([2, 1, 1])
    titles = {d: searcher.document(d).get("title") or d for d in searcher.documents}
    docs = below[0].multiselect(
        label(ui, "documents"),
        searcher.documents,
        key="docs",
        format_func=titles.get,
        placeholder=label(ui, "choose"),
    )
    kinds = below[1].multiselect(
        label(ui, "kinds"), searcher.kinds, key="kinds", placeholder=label(ui, "choose")
    )
    group = below[2].toggle(label(ui, "group"), key="group")

    if not query.strip():
        return
    filters = dict(
        k=k, mode=mode, languages=languages or None, docs=docs or None, kinds=kinds or None
    )
    index_dir, generation = str(searcher.index_dir), searcher.generation.name
    try:
        # Query words first (cheap); best sentences by embedding after the
        # results are on screen.
        hits = cached_hits(index_dir, generation, query, **filters)
    except QueryError as exc:
        st.error(plain(exc))
        return
    st.query_params.update(
        {
            "q": query,
            "mode": mode,
            "lang": ",".join(languages),
            "doc": ",".join(docs),
            "kind": ",".join(kinds),
            "k": str(k),
            "group": "1" if group else "0",
            "view": "search",
            "ui": state.ui,
        }
    )
    if not hits:
        st.write(label(ui, "no_results"))
        return
    exports = st.columns(2)
    exports[0].download_button(
        label(ui, "export_csv"),
        to_csv(hits, searcher.document),
        file_name="hankinta-kb-results.csv",
        mime="text/csv",
        on_click="ignore",
    )
    exports[1].download_button(
        label(ui, "export_md"),
        to_markdown(query, hits, searcher.document),
        file_name="hankinta-kb-results.md",
        mime="text/markdown",
        on_click="ignore",
    )
    cards = {}
    if group:
        for lang, members in group_by_language(hits).items():
            st.subheader(group_heading(ui, lang, len(members)), anchor=False)
            for hit in members:
                cards[hit.chunk_id] = show_hit(searcher, hit, ui, links)
    else:
        for hit in hits:
            cards[hit.chunk_id] = show_hit(searcher, hit, ui, links)
    highlighted = cached_highlighted(index_dir, generation, query, **filters)
    for old, new in zip(hits, highlighted, strict=True):
        if new.highlights != old.highlights:
            put_card(cards[new.chunk_id], new, ui, links)


def documents_view(settings, searcher: Searcher | None, ui: str) -> None:
    import pandas as pd

    try:
        facts, rows = index_status(settings.index_dir, settings.corpus_dir)
    except KBError as exc:
        st.error(f"{label(ui, 'broken')}: {plain(exc)}")
        facts, rows = None, []
    if facts:
        st.subheader(label(ui, "facts"))
        st.markdown(facts_markdown(facts, ui))
    if rows:
        table = pd.DataFrame(
            [
                {
                    "title": r.title or r.path,
                    "kind": r.kind,
                    "lang": r.lang,
                    "pages": r.pages,
                    "chunks": r.chunks,
                    "status": r.status + (f": {r.error}" if r.error else ""),
                    "indexed": r.indexed_at[:19].replace("T", " "),
                    "file": r.path,
                }
                for r in rows
            ]
        )
        st.dataframe(table.rename(columns=column_names(ui)), hide_index=True, width="stretch")
        indexed = table[table["chunks"] > 0]
        if not indexed.empty:
            st.subheader(label(ui, "chunks_chart"))
            st.bar_chart(indexed, x="title", y="chunks", color="lang", horizontal=True)
    if st.button(label(ui, "rebuild"), type="primary"):
        rebuild(settings, ui, searcher)
    add_documents(settings, searcher, ui)
    remove_document(settings, searcher, ui)


def _after_edit(settings, ui: str, searcher: Searcher | None, notes: list[tuple[str, str]]):
    """Rebuild after documents were added or removed; show the notes after
    the rerun that lists them in the table (now, when no index was written)."""
    from ingest.store import current_name

    st.session_state.library_notes = notes
    before = current_name(settings.index_dir)
    # A new generation (even with some file skipped): rerun, so the table shows it.
    if rebuild(settings, ui, searcher) or current_name(settings.index_dir) != before:
        st.rerun()
    show_notes()


def show_notes() -> None:
    for kind, text in st.session_state.pop("library_notes", []):
        (st.success if kind == "ok" else st.warning)(text)


def _candidates(settings, ui: str, round_: int) -> list:
    """The uploaded and fetched files checked (once each); a refused one
    gets one line with its reason, as text."""
    from ingest.address import fetch_address
    from ingest.library import SUFFIXES, check_file

    state = st.session_state
    checked, fetched = state.setdefault("checked", {}), state.setdefault("fetched", {})
    uploads = st.file_uploader(
        label(ui, "upload"),
        type=[s[1:] for s in SUFFIXES],
        accept_multiple_files=True,
        key=f"uploads-{round_}",
    )
    cols = st.columns([5, 1], vertical_alignment="bottom")
    address = cols[0].text_input(label(ui, "address"), key=f"address-{round_}")
    if cols[1].button(label(ui, "fetch")) and address.strip():
        with st.spinner(label(ui, "fetching")):
            try:
                fetched[address.strip()] = fetch_address(address, settings)
            except KBError as exc:
                st.warning(f"{label(ui, 'refused')}: {plain(exc)}")
    with st.spinner(label(ui, "checking")):
        for upload in uploads or []:
            if upload.file_id not in checked:
                try:
                    checked[upload.file_id] = check_file(upload.name, upload.getvalue(), settings)
                except KBError as exc:
                    checked[upload.file_id] = exc
    found = [checked[u.file_id] for u in uploads or []] + list(fetched.values())
    for item in found:
        if isinstance(item, KBError):
            st.warning(f"{label(ui, 'refused')}: {plain(item)}")
    return [item for item in found if not isinstance(item, KBError)]


def add_documents(settings, searcher: Searcher | None, ui: str) -> None:
    """Upload files or fetch an address; a short form for each (title,
    language, kind, a version of); add them and rebuild (ingest/library.py)."""
    from ingest.library import Form, add, documents
    from ingest.sources import KINDS, LANGS

    state = st.session_state
    st.subheader(label(ui, "add_docs"))
    show_notes()
    round_ = state.setdefault("library_round", 0)
    candidates = _candidates(settings, ui, round_)
    if not candidates:
        return
    try:
        listed = documents(settings)
    except KBError as exc:
        st.error(plain(exc))
        return
    titles = {d.id: d.title or d.path for d in listed}
    with st.form(f"add-{round_}"):
        forms = []
        for i, c in enumerate(candidates):
            st.caption(plain(c.name))
            cols = st.columns([3, 1, 1, 2])
            langs = list(dict.fromkeys([*LANGS, c.lang or "fi"]))
            forms.append(
                Form(
                    cols[0].text_input(label(ui, "form_title"), c.title, key=f"t{round_}-{i}"),
                    cols[1].selectbox(
                        label(ui, "form_lang"),
                        langs,
                        langs.index(c.lang or "fi"),
                        key=f"l{round_}-{i}",
                    ),
                    cols[2].selectbox(
                        label(ui, "form_kind"), KINDS, KINDS.index(c.kind), key=f"k{round_}-{i}"
                    ),
                    cols[3].selectbox(
                        label(ui, "version_of"),
                        ["", *titles],
                        format_func=lambda x: titles.get(x, label(ui, "none")),
                        key=f"v{round_}-{i}",
                    ),
                )
            )
        if not st.form_submit_button(label(ui, "add"), type="primary"):
            return
    notes = []
    for c, form in zip(candidates, forms, strict=True):
        try:
            added = add(settings, c, form)
            notes.append(
                ("ok", f"{label(ui, 'added')}: {plain(added.title)} ({plain(added.path)})")
            )
        except KBError as exc:
            notes.append(("warn", f"{label(ui, 'refused')}: {plain(exc)}"))
    state.library_round = round_ + 1  # a fresh uploader and address box
    state.checked, state.fetched = {}, {}
    _after_edit(settings, ui, searcher, notes)


def remove_document(settings, searcher: Searcher | None, ui: str) -> None:
    """Remove a document (its file and its sources.toml entry) after a
    confirmation, and rebuild."""
    from ingest.library import documents, remove

    state = st.session_state
    try:
        listed = documents(settings)
    except KBError as exc:
        st.error(plain(exc))
        return
    if not listed:
        return
    st.subheader(label(ui, "remove_docs"))
    shown = {d.id: f"{d.title or d.path} ({d.path})" for d in listed}
    cols = st.columns([5, 1], vertical_alignment="bottom")
    doc_id = cols[0].selectbox(
        label(ui, "remove_doc"), list(shown), format_func=shown.get, key="remove_doc"
    )
    if cols[1].button(label(ui, "remove")):
        state.confirm_remove = doc_id
    pending = state.get("confirm_remove")
    if pending not in shown:
        return
    st.warning(f"{label(ui, 'confirm_remove')} {plain(shown[pending])}")
    yes, no = st.columns(2)
    if no.button(label(ui, "cancel")):
        del state.confirm_remove
        st.rerun()
    if not yes.button(label(ui, "yes_remove"), type="primary"):
        return
    del state.confirm_remove
    try:
        removed = remove(settings, pending)
    except KBError as exc:
        st.error(plain(exc))
        return
    if pending in state.get("docs", []):  # the search view's document filter
        state.docs = [d for d in state.docs if d != pending]
    text = f"{removed.title or removed.path} ({removed.path})"
    _after_edit(settings, ui, searcher, [("ok", f"{label(ui, 'removed')}: {plain(text)}")])


def main() -> None:
    params = st.query_params
    ui = ui_language(params.get("ui") or st.session_state.get("ui"), st.context.locale)
    st.set_page_config(page_title="hankinta-kb", layout="wide")
    settings = load_settings()

    searcher, problem = None, None
    try:
        searcher = get_searcher(str(settings.index_dir))
        searcher.reload_if_changed()
    except IndexMissingError:
        problem = "missing"
    except KBError as exc:
        problem = f"{label(ui, 'broken')}: {plain(exc)}"

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
    st.title(label(ui, "title"))

    if problem:
        if problem == "missing":
            st.info(label(ui, "no_index"))
        else:
            st.error(problem)
        if st.button(label(ui, "build"), type="primary"):
            if rebuild(settings, ui, None):
                st.rerun()
        return
    if view == "docs":
        st.query_params.update({"view": "docs", "ui": ui})
        documents_view(settings, searcher, ui)
        return
    generation = searcher.generation.name
    documents = {d: searcher.document(d) for d in searcher.documents}
    links = pdf_links(generation, documents, str(settings.corpus_dir))
    search_view(searcher, ui, links)


main()
