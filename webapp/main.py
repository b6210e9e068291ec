"""The page's frame: its language, the sidebar (language, view, editor
access), an index that is missing or broken, and the chosen view."""

from __future__ import annotations

import streamlit as st

from kb.errors import IndexMissingError, KBError
from kb.labels import UI_LANGS, label
from kb.settings import load_settings
from webapp import uploadguard
from webapp.access import sidebar as access_sidebar
from webapp.cards import index_error_message, language_name, ui_language
from webapp.documents import documents_view, rebuild
from webapp.outline import outline_view
from webapp.page import PAGE_CSS
from webapp.results import search_view
from webapp.state import VIEWS, keep_widget_state, live_searcher, not_indexed, pdf_links, seed_state


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
        searcher = live_searcher(str(settings.index_dir))
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
            format_func=lambda v: label(ui, f"view_{v}"),
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
    if view == "outline":
        outline_view(searcher, ui)
        return
    generation = searcher.generation.name
    if n := not_indexed(
        str(settings.index_dir), generation, str(settings.corpus_dir), settings.backend
    ):  # answers would silently come from the rest: say so, in one line (a phone's first screen)
        st.expander(label(ui, "not_in_index_short").format(n=n)).caption(
            label(ui, "not_in_index").format(n=n)
        )
    documents = {d: searcher.document(d) for d in searcher.documents}
    links = pdf_links(generation, documents, str(settings.corpus_dir))
    search_view(searcher, ui, links)
