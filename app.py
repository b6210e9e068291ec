"""The Streamlit page: thin; the logic lives in the search package."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingest.errors import IndexMissingError, KBError
from ingest.settings import load_settings
from search import MODES, QueryError, Searcher
from search.ui import EXAMPLES, UI_LANGS, card_html, label


@st.cache_resource(show_spinner=False)
def get_searcher(index_dir: str) -> Searcher:
    return Searcher.load(Path(index_dir), load_settings())


params = st.query_params
ui = params.get("ui", "en") if params.get("ui", "en") in UI_LANGS else "en"
st.set_page_config(page_title="hankinta-kb", layout="wide")
st.title(label(ui, "title"))

settings = load_settings()
try:
    searcher = get_searcher(str(settings.index_dir))
    searcher.reload_if_changed()
except IndexMissingError:
    st.info(label(ui, "no_index"))
    st.stop()
except KBError as exc:
    st.error(f"{label(ui, 'broken')}: {exc}")
    st.stop()

# The URL seeds the widgets once; after that they keep what the user set.
state = st.session_state
if "q" not in state:
    state.q = params.get("q", "")
    state.mode = params.get("mode", "hybrid") if params.get("mode") in MODES else "hybrid"
    state.langs = [x for x in params.get("lang", "").split(",") if x in searcher.languages]
    state.k = (
        int(params["k"]) if params.get("k", "").isdigit() and 1 <= int(params["k"]) <= 30 else 10
    )

query = st.text_input(label(ui, "query"), key="q", placeholder=EXAMPLES[0])
st.caption(f"{label(ui, 'examples')}: " + " · ".join(EXAMPLES))
cols = st.columns(3)
mode = cols[0].selectbox(label(ui, "mode"), MODES, key="mode")
languages = cols[1].multiselect(label(ui, "languages"), searcher.languages, key="langs")
k = cols[2].slider(label(ui, "k"), 1, 30, key="k")

if query.strip():
    try:
        hits = searcher.search(query, k=k, mode=mode, languages=languages or None)
    except QueryError as exc:
        st.error(str(exc))
        st.stop()
    params.update({"q": query, "mode": mode, "lang": ",".join(languages), "k": str(k), "ui": ui})
    if not hits:
        st.write(label(ui, "no_results"))
    for hit in hits:
        st.markdown(card_html(hit, ui), unsafe_allow_html=True)
        aligned = searcher.aligned(hit)
        if aligned:
            with st.expander(label(ui, "other")):
                for other in aligned:
                    st.markdown(card_html(other, ui), unsafe_allow_html=True)
        st.divider()
