"""webapp/access.py inside a Streamlit run (AppTest.from_function): who the
session is (the operator at the machine, a reader beyond loopback, an
editor by password), the check at the action, and the audit line each
edit writes, with a failure to write it shown instead of raised."""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from ingest.corpus import audit
from webapp import access


@pytest.fixture
def served_on():
    """Set Streamlit's server.address for the test; restored after it."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def _who_script():
    import streamlit as st

    from kb.errors import KBError
    from kb.settings import load_settings
    from webapp import access

    settings = load_settings()
    a = access.current_access(settings)
    st.session_state["seen"] = (a.role.name, a.who, a.how.name if a.how else "")
    try:
        access.require_editor(settings, "remove")
        st.session_state["allowed"] = True
    except KBError as exc:
        st.session_state["allowed"] = type(exc).__name__


def _who(password_ok: bool = False) -> AppTest:
    at = AppTest.from_function(_who_script, default_timeout=30)
    if password_ok:
        at.session_state[access.PASSWORD_KEY] = True
    return at.run()


def test_the_operator_at_the_machine_may_edit(settings, served_on):
    served_on("127.0.0.1")
    at = _who()
    assert not at.exception, at.exception
    assert at.session_state["seen"] == ("EDITOR", "operator@localhost", "OPERATOR")
    assert at.session_state["allowed"] is True


def test_a_session_beyond_loopback_is_a_reader_refused_at_the_action(settings, served_on):
    served_on("0.0.0.0")
    at = _who()
    assert not at.exception, at.exception
    assert at.session_state["seen"] == ("READER", "", "")
    assert at.session_state["allowed"] == "NotAnEditorError"


def test_a_session_signed_in_by_password_may_edit(settings, served_on):
    served_on("0.0.0.0")
    at = _who(password_ok=True)
    assert at.session_state["seen"] == ("EDITOR", "password-editor", "PASSWORD")
    assert at.session_state["allowed"] is True


def _record_script():
    from ingest.corpus.audit import Action
    from kb.settings import load_settings
    from webapp import access

    settings = load_settings()
    access.record(settings, access.current_access(settings), Action.REMOVE, "sivu-fi\nmoved")


def test_an_edit_is_recorded_with_its_editor_and_session(settings, served_on):
    served_on("127.0.0.1")
    at = AppTest.from_function(_record_script, default_timeout=30).run()
    assert not at.exception and not at.error
    (entry,) = audit.recent(settings.corpus_dir)
    assert (entry.who, entry.action, entry.detail) == (
        "operator@localhost",
        "remove",
        "sivu-fi moved",
    )
    assert entry.session  # a tag of the session, not empty under a run


def test_an_audit_log_that_cannot_be_written_is_shown_not_raised(settings, served_on):
    served_on("127.0.0.1")
    audit.audit_path(settings.corpus_dir).mkdir(parents=True)  # a folder where the file goes
    at = AppTest.from_function(_record_script, default_timeout=30).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "cannot be written" in at.error[0].value
