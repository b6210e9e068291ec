"""Readers and editors on the page (webapp/editors.py, webapp/access.py),
through streamlit.testing.v1.AppTest: served beyond loopback, an anonymous
session sees no Add, Remove or Rebuild and cannot trigger them; an editor
(password or single sign-on) can, and the audit log and the trash record
it; wrong passwords lock the client out. The operator on loopback:
tests/page/test_app_library.py."""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from ingest.corpus import audit, trash
from ingest.corpus.passwords import set_password
from kb.labels import label
from testsupport.apptest import APP, run_page, widget_values
from webapp.cards import plain

SECRET = "correct horse battery staple"
EDITING = {"Rebuild index", "Remove…", "Fetch", "Add and rebuild the index", "Build index"}


@pytest.fixture
def beyond_loopback():
    """Streamlit serving on every interface (as `make run` did before)."""
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def _labels(at) -> set[str]:
    return {b.label for b in at.button}


def _captions(at) -> list[str]:
    return widget_values(at, "caption")


def _sign_in(at, password: str) -> None:
    at.text_input(key="editor_password").input(password)
    next(b for b in at.button if b.label == "Sign in as editor").click().run()
    assert not at.exception, at.exception


def _actions(settings) -> list[tuple[str, str]]:
    return [(e.who, e.action) for e in audit.recent(settings.corpus_dir)]


@pytest.mark.model
def test_an_anonymous_session_beyond_loopback_sees_no_editing(indexed, beyond_loopback):
    at = run_page(view="docs")
    assert not at.exception, at.exception
    assert at.dataframe, "readers see the documents table"
    assert not _labels(at) & EDITING, _labels(at)
    assert not at.file_uploader and not at.text_input
    assert label("en", "editing_off") in _captions(at)
    assert not [s for s in at.subheader if s.value in ("Trash", "Add documents")]
    # an editor password set: readers are offered to sign in, nothing more
    set_password(indexed, SECRET)
    at = run_page(view="docs")
    assert label("en", "reader_note") in _captions(at)
    assert not _labels(at) & EDITING and not at.file_uploader


def test_without_an_index_a_reader_gets_no_build_button(settings, beyond_loopback):
    (settings.corpus_dir / "sivu.fi.md").write_text("# Sivu\n\nHankinnat.\n", encoding="utf-8")
    at = run_page(ui="en")
    assert not at.exception, at.exception
    assert at.info[0].value == label("en", "no_index_reader")
    assert "Build index" not in _labels(at)
    assert not settings.index_dir.exists() or not any(settings.index_dir.iterdir())


@pytest.mark.model
def test_a_password_editor_removes_and_restores_and_the_log_says_so(indexed, beyond_loopback):
    settings = indexed
    set_password(settings, SECRET)
    at = run_page(view="docs")
    _sign_in(at, "not the password")
    assert widget_values(at, "error") == ["Wrong password."]
    assert not _labels(at) & EDITING
    _sign_in(at, SECRET)
    assert f"Editing as: {plain('password-editor')}" in _captions(at)
    assert {"Rebuild index", "Remove…", "Fetch"} <= _labels(at) and at.file_uploader

    next(b for b in at.button if b.label == "Remove…").click().run()
    next(b for b in at.button if b.label == "Yes, remove it").click().run()
    assert not at.exception, at.exception
    assert not (settings.corpus_dir / "sida.sv.md").exists()
    (item,) = trash.items(settings.corpus_dir)
    assert (item.id, item.who) == ("sida-sv", "password-editor")
    assert any("moved to the trash" in s for s in widget_values(at, "success"))
    assert any(item.path in t.value for t in at.text)  # the trash, as text

    restore = next(b for b in at.button if b.label == "Restore")
    restore.click().run()
    assert not at.exception, at.exception
    assert (settings.corpus_dir / "sida.sv.md").exists()
    assert trash.items(settings.corpus_dir) == []
    assert _actions(settings) == [
        ("password-editor", "login-failed"),
        ("password-editor", "login"),
        ("password-editor", "remove"),
        ("password-editor", "rebuild"),
        ("password-editor", "restore"),
        ("password-editor", "rebuild"),
    ]
    shown = at.code[-1].value  # the audit log, as text, newest first
    assert shown.splitlines()[0].split()[1:3] == ["password-editor", "rebuild"]

    next(b for b in at.button if b.label == "Sign out").click().run()
    assert not _labels(at) & EDITING


def _library_script():
    """The documents view's editing part drawn for whoever opens it (as a
    page with a bug in its button logic would): the actions must refuse."""
    import streamlit as st

    from kb.settings import load_settings
    from webapp.editing import add_documents, remove_document

    def rebuild(*args) -> bool:
        st.session_state["rebuilt"] = True
        return True

    settings = load_settings()
    add_documents(settings, None, "en", rebuild)
    remove_document(settings, None, "en", rebuild)


def test_the_actions_refuse_a_reader_even_when_drawn(settings, beyond_loopback):
    corpus = settings.corpus_dir
    (corpus / "sivu.md").write_text("# Sivu\n\nHankinnat ja innovaatiot.\n", encoding="utf-8")
    at = AppTest.from_function(_library_script, default_timeout=60).run()
    at.file_uploader[0].set_value([("uusi.md", b"# Uusi\n\nHankinnat.\n", "text/markdown")]).run()
    assert not at.exception, at.exception
    assert any("only an editor may do this" in w for w in widget_values(at, "warning"))
    assert not [t for t in at.text_input if t.label == "Title"]  # never read, no form
    next(b for b in at.button if b.label == "Remove…").click().run()
    next(b for b in at.button if b.label == "Yes, remove it").click().run()
    assert any("only an editor may do this" in e for e in widget_values(at, "error"))
    assert (corpus / "sivu.md").exists() and trash.items(corpus) == []
    at.text_input(key="address-0").input("http://127.0.0.1:9/x").run()
    next(b for b in at.button if b.label == "Fetch").click().run()
    assert any("only an editor may do this" in w for w in widget_values(at, "warning"))
    assert "rebuilt" not in at.session_state and audit.recent(corpus) == []


@pytest.mark.model
def test_single_sign_on_editors_and_others(indexed, beyond_loopback, monkeypatch):
    settings = indexed
    monkeypatch.setenv("KB_EDITORS", "Editor@Example.fi")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["view"] = "docs"
    at.secrets["auth"] = {"redirect_uri": "https://kb.example.fi/oauth2callback"}
    at.user = {"is_logged_in": True, "email": "reader@example.fi", "email_verified": True}
    at.run()
    assert not at.exception, at.exception
    assert label("en", "sso_not_editor") in _captions(at)
    assert not _labels(at) & EDITING
    at.user = {"is_logged_in": False}
    at.run()
    assert "Sign in (single sign-on)" in _labels(at) and not _labels(at) & EDITING
    at.user = {"is_logged_in": True, "email": "editor@example.fi", "email_verified": True}
    at.run()
    assert f"Editing as: {plain('editor@example.fi')}" in _captions(at)
    next(b for b in at.button if b.label == "Remove…").click().run()
    next(b for b in at.button if b.label == "Yes, remove it").click().run()
    assert not at.exception, at.exception
    assert [i.who for i in trash.items(settings.corpus_dir)] == ["editor@example.fi"]
    assert ("editor@example.fi", "remove") in _actions(settings)
    assert not (settings.corpus_dir / "sida.sv.md").exists()


def test_wrong_passwords_lock_out_and_a_reload_does_not_reset_it(
    settings, beyond_loopback, monkeypatch
):
    monkeypatch.setenv("KB_EDITOR_ATTEMPTS", "3")
    (settings.corpus_dir / "sivu.fi.md").write_text("# Sivu\n\nHankinnat.\n", encoding="utf-8")
    set_password(settings, SECRET)
    at = run_page(ui="en")
    for _ in range(2):
        _sign_in(at, "a wrong guess")
        assert widget_values(at, "error") == ["Wrong password."]
    _sign_in(at, "a wrong guess")
    assert widget_values(at, "error")[0].startswith("Too many wrong passwords")
    _sign_in(at, SECRET)  # the right one, while locked: not heard
    assert widget_values(at, "error")[0].startswith("Too many wrong passwords")
    assert "Sign out" not in _labels(at)
    fresh = run_page(ui="en")  # a reload: a new session
    _sign_in(fresh, SECRET)
    assert widget_values(fresh, "error")[0].startswith("Too many wrong passwords")
    assert [a for _, a in _actions(settings)] == ["login-failed"] * 3
