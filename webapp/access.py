"""The page's side of readers and editors: reads what Streamlit knows of
the session, asks webapp/editors.py who it is, draws the sign-in in the
sidebar, and writes the audit log (ingest/corpus/audit.py). The documents view's
trash and audit panels are here too. Every edit calls :func:`require_editor`
at the action itself."""

from __future__ import annotations

import logging

import streamlit as st

from ingest.corpus import audit
from kb.errors import KBError
from kb.labels import label
from webapp import editors, uploadguard
from webapp.cards import plain

logger = logging.getLogger(__name__)

PASSWORD_KEY = "_kb_password_editor"  # never a widget's key: only this module sets it
AUDIT_SHOWN = 30


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def current_request() -> editors.Request:
    try:
        headers = dict(st.context.headers.to_dict())
    except Exception:  # noqa: BLE001 - no headers (AppTest): none forwarded
        headers = {}
    ip = st.context.ip_address  # None for a loopback peer
    return editors.Request(
        st.get_option("server.address"), ip if isinstance(ip, str) else None, headers, _session_id()
    )


def _user() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no [auth] configured: nobody signed in
        return {}


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets.toml
        return False


def current_access(settings) -> editors.Access:
    """This session's access, decided now (never cached in the session)."""
    password_ok = st.session_state.get(PASSWORD_KEY) is True
    user = _user() if sso_configured() else {}  # st.user counts only with [auth] set up
    access = editors.decide(current_request(), user, password_ok, settings)
    uploadguard.allow(_session_id(), access.can_edit)
    return access


def require_editor(settings, action: str) -> editors.Access:
    """The session's access; NotAnEditorError unless it may edit."""
    access = current_access(settings)
    editors.require(access, action)
    return access


def record(settings, access: editors.Access, action: audit.Action, detail: str) -> None:
    """One audit line for an edit; a failure to write it is shown."""
    try:
        tag = editors.session_tag(_session_id())
        audit.record(settings.corpus_dir, access.who, action, detail, tag)
    except KBError as exc:
        st.error(plain(exc))


def sidebar(settings, ui: str) -> editors.Access:
    """Sign in or out (in the sidebar); the session's access."""
    from ingest.corpus.passwords import password_set

    access = current_access(settings)
    if access.can_edit:
        st.caption(f"{label(ui, 'editing_as')}: {plain(access.who)}")
        if access.how is editors.How.SSO and st.button(label(ui, "sign_out")):
            st.logout()
        if access.how is editors.How.PASSWORD and st.button(label(ui, "sign_out")):
            st.session_state.pop(PASSWORD_KEY, None)
            uploadguard.allow(_session_id(), False)
            st.rerun()
        return access
    sso = sso_configured() and bool(settings.editor_emails)
    has_password = password_set(settings)
    if not (sso or has_password):
        st.caption(label(ui, "editing_off"))
        return access
    st.caption(label(ui, "reader_note"))
    if sso:
        if _user().get("is_logged_in") is True:
            st.caption(label(ui, "sso_not_editor"))
            if st.button(label(ui, "sign_out")):
                st.logout()
        elif st.button(label(ui, "sign_in_sso")):
            st.login()
    if has_password:
        _password_form(settings, ui)
    return access


def _password_form(settings, ui: str) -> None:
    from ingest.corpus.passwords import Verdict, verify

    with st.form("editor-password", clear_on_submit=True):
        typed = st.text_input(label(ui, "password"), type="password", key="editor_password")
        if not st.form_submit_button(label(ui, "password_sign_in")) or not typed:
            return
    request = current_request()
    try:
        check = verify(settings, typed, editors.client_key(request))
    except KBError as exc:
        st.error(plain(exc))
        return
    reader = editors.Access(editors.Role.READER, editors.PASSWORD_EDITOR)
    if check.verdict is Verdict.OK:
        st.session_state[PASSWORD_KEY] = True
        record(settings, reader, audit.Action.LOGIN_OK, "editor password accepted")
        st.rerun()
    elif check.verdict is Verdict.LOCKED:
        st.error(label(ui, "password_locked").format(seconds=check.retry_after))
    else:
        record(settings, reader, audit.Action.LOGIN_FAILED, "wrong editor password")
        if check.retry_after:
            st.error(label(ui, "password_locked").format(seconds=check.retry_after))
        else:
            st.error(label(ui, "password_wrong"))


def show_audit(settings, ui: str) -> None:
    """The last edits, as text (st.code shows no Markdown and no HTML)."""
    with st.expander(label(ui, "audit")):
        try:
            entries = audit.recent(settings.corpus_dir, AUDIT_SHOWN)
        except KBError as exc:
            st.error(plain(exc))
            return
        if not entries:
            st.caption(label(ui, "audit_empty"))
            return
        st.code("\n".join(e.line() for e in reversed(entries)), language=None)
