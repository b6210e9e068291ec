"""webapp/documents.py inside a Streamlit run (AppTest.from_function):
the documents view for a reader and for an editor, an index that cannot be
read, and a rebuild refused to a reader at the action itself."""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from ingest.pipeline import build_index


@pytest.fixture
def served_on():
    """Set Streamlit's server.address for the test; restored after it."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def _view_script():
    import streamlit as st

    from kb.settings import load_settings
    from webapp.documents import documents_view

    documents_view(load_settings(), None, "sv", st.session_state.get("can_edit", False))


def _view(can_edit: bool) -> AppTest:
    at = AppTest.from_function(_view_script, default_timeout=30)
    at.session_state["can_edit"] = can_edit
    return at.run()


@pytest.fixture
def indexed(settings, fake):
    (settings.corpus_dir / "a.fi.md").write_text("# A\n\nHankinnat.\n", encoding="utf-8")
    (settings.corpus_dir / "b.sv.md").write_text("# B\n\nUpphandling.\n", encoding="utf-8")
    build_index(settings, embedder=fake)
    return settings


def test_a_reader_sees_the_table_and_the_chart_and_no_button(indexed):
    at = _view(can_edit=False)
    assert not at.exception, at.exception
    (table,) = at.dataframe
    assert len(table.value) == 2 and "Titel" in table.value.columns  # Swedish columns
    assert not at.button and not at.file_uploader


def test_an_editor_is_offered_the_rebuild(indexed, served_on):
    served_on("127.0.0.1")  # the operator at the machine
    at = _view(can_edit=True)
    assert not at.exception, at.exception
    assert "Bygg om indexet" in [b.label for b in at.button]


def test_an_index_that_cannot_be_read_is_an_error_not_a_traceback(settings):
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "CURRENT").write_text("gen-missing\n")
    at = _view(can_edit=False)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and not at.dataframe


def _rebuild_script():
    import streamlit as st

    from kb.settings import load_settings
    from webapp.documents import rebuild

    st.session_state["built"] = rebuild(load_settings(), "en", None)


def test_a_rebuild_is_refused_to_a_reader_at_the_action(settings, served_on):
    served_on("0.0.0.0")  # beyond loopback, nobody signed in
    (settings.corpus_dir / "a.fi.md").write_text("# A\n\nHankinnat.\n", encoding="utf-8")
    at = AppTest.from_function(_rebuild_script, default_timeout=30).run()
    assert not at.exception, at.exception
    assert at.session_state["built"] is False
    assert [e.value for e in at.error] == ["Only an editor may do this."]
    assert not settings.index_dir.exists()
