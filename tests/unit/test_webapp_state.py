"""webapp/state.py: the URL seeds the widgets once, refusing what it does
not know; the count of documents the live index lacks."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ingest.pipeline import build_index
from search.modes import SearchMode
from webapp.state import VIEWS, not_indexed


def _seed_script():
    import streamlit as st

    from webapp.state import seed_state

    seed_state(st.query_params.to_dict(), None, "sv")


def _seeded(**params) -> AppTest:
    at = AppTest.from_function(_seed_script, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_the_url_seeds_the_widgets():
    at = _seeded(q="innovaatio", mode="bm25", k="5", group="1", view="docs")
    assert not at.exception, at.exception
    state = at.session_state
    assert (state["q"], state["mode"], state["k"]) == ("innovaatio", "bm25", 5)
    assert state["group"] is True and state["view"] == "docs" and state["ui"] == "sv"
    assert state["langs"] == [] and state["docs"] == []  # no index: nothing to filter by


def test_values_it_does_not_know_fall_back_to_the_defaults():
    at = _seeded(mode="fast", k="31", view="admin", group="yes")
    state = at.session_state
    assert state["mode"] == SearchMode.HYBRID and state["k"] == 10
    assert state["view"] == "search" == VIEWS[0] and state["group"] is False
    assert _seeded(k="-3").session_state["k"] == 10


def test_the_url_seeds_once_then_the_widgets_keep_what_the_user_set():
    at = _seeded(q="first")
    at.session_state["q"] = "typed by the user"
    at.query_params["q"] = "second"
    at.run()
    assert at.session_state["q"] == "typed by the user"


def test_not_indexed_counts_what_the_live_index_lacks(settings, fake):
    (settings.corpus_dir / "a.fi.md").write_text("# A\n\nHankinnat.\n", encoding="utf-8")
    report = build_index(settings, embedder=fake)
    args = (str(settings.index_dir), report.generation, str(settings.corpus_dir), "")
    assert not_indexed(*args) == 0
    (settings.corpus_dir / "sources.toml").write_text(
        '[[document]]\nid = "s"\ntitle = "S"\nkind = "strategy"\nlang = "fi"\n'
        'url = "https://example.org/s.pdf"\n',
        encoding="utf-8",
    )  # an official document listed, not fetched
    assert not_indexed(*args) == 0  # kept for a minute (ttl): the same question, the same answer
    not_indexed.clear()
    assert not_indexed(*args) == 1


def test_not_indexed_is_zero_where_the_index_cannot_be_read(settings):
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "CURRENT").write_text("gen-missing\n")
    assert not_indexed(str(settings.index_dir), "gen-missing", str(settings.corpus_dir), "") == 0


def test_an_index_re_embedded_with_another_model_gets_a_new_searcher(monkeypatch):
    """After `adapt --use` or `--model base`, the cached searcher's query
    encoder belongs to the old model: it is made anew, not kept failing."""
    from kb.errors import IndexMismatchError
    from webapp import state

    class Old:
        def reload_if_changed(self):
            raise IndexMismatchError("index", "built with model adapted, not base")

    class New:
        def reload_if_changed(self):
            return False

    made = [Old(), New()]

    class Cache:
        cleared = 0

        def __call__(self, index_dir):
            return made[0]

        def clear(self):
            Cache.cleared += 1
            made.pop(0)

    monkeypatch.setattr(state, "get_searcher", Cache())
    assert isinstance(state.live_searcher("index"), New) and Cache.cleared == 1
    assert isinstance(state.live_searcher("index"), New) and Cache.cleared == 1  # kept now
