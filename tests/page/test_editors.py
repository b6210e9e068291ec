"""Who may edit (webapp/editors.py), the editor password with its lockout
(ingest/corpus/passwords.py), the audit log (ingest/corpus/audit.py) and the guard on
Streamlit's upload manager (webapp/uploadguard.py), without a page."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from dataclasses import replace

import pytest

from ingest.corpus import audit
from ingest.corpus.passwords import (
    ATTEMPTS_FILE,
    PASSWORD_FILE,
    PasswordError,
    Verdict,
    editors_dir,
    password_set,
    set_password,
    verify,
)
from kb.settings import PROJECT_ROOT, load_settings
from webapp.editors import (
    OPERATOR,
    PASSWORD_EDITOR,
    How,
    NotAnEditorError,
    Request,
    Role,
    decide,
    is_local_operator,
    is_loopback,
    require,
    session_tag,
    sso_editor,
)

SECRET = "correct horse battery staple"
LOCAL = Request("127.0.0.1", None, {"Host": "localhost:8501"})


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("", False),
        (None, False),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


@pytest.mark.parametrize(
    "request_",
    [
        Request("0.0.0.0", None, {}),  # served on every interface
        Request("", None, {}),  # Streamlit's default: every interface
        Request("10.0.0.5", None, {}),
        Request("127.0.0.1", "10.1.2.3", {}),  # a peer that is not the machine
        Request("127.0.0.1", None, {"X-Forwarded-For": "203.0.113.9"}),  # through a proxy
        Request("127.0.0.1", None, {"forwarded": "for=203.0.113.9"}),
        Request("127.0.0.1", None, {"X-Real-IP": "203.0.113.9"}),
        Request("127.0.0.1", None, {"Host": "evil.example:8501"}),  # DNS rebinding
    ],
)
def test_who_is_not_the_operator(settings, request_):
    assert not is_local_operator(request_, settings)
    assert decide(request_, {}, False, settings).role is Role.READER


def test_the_operator_at_the_machine_edits_unless_switched_off(settings):
    for host in ("localhost:8501", "127.0.0.1:8501", "[::1]:8501", ""):
        assert is_local_operator(replace(LOCAL, headers={"Host": host}), settings)
    access = decide(LOCAL, {}, False, settings)
    assert (access.role, access.who, access.how) == (Role.EDITOR, OPERATOR, How.OPERATOR)
    off = replace(settings, local_operator="off")  # behind a proxy on the same host
    assert decide(LOCAL, {}, False, off).role is Role.READER


def test_single_sign_on_editors_are_listed_verified_and_signed_in(settings):
    listed = replace(settings, editors=" Editor@Example.fi , other@example.fi")
    user = {"is_logged_in": True, "email": "editor@example.FI", "email_verified": True}
    assert sso_editor(user, listed) == "editor@example.fi"
    assert sso_editor(dict(user, email_verified=False), listed) is None
    assert sso_editor(dict(user, is_logged_in=False), listed) is None
    assert sso_editor(dict(user, is_logged_in="true"), listed) is None  # only True
    assert sso_editor(dict(user, email="stranger@example.fi"), listed) is None
    assert sso_editor(user, settings) is None  # no editors listed: nobody
    remote = Request("0.0.0.0", "10.1.2.3", {})
    access = decide(remote, user, False, listed)
    assert (access.who, access.how) == ("editor@example.fi", How.SSO)
    assert decide(remote, {}, True, listed).who == PASSWORD_EDITOR
    with pytest.raises(NotAnEditorError):
        require(decide(remote, {"email": "editor@example.fi"}, False, listed), "remove")
    require(access, "remove")  # no error


def test_the_session_is_logged_as_a_hash_not_its_id():
    tag = session_tag("0b0e3c8a-5a2d-4d6e-9bd1-3f5f0c1c9e11")
    assert len(tag) == 12 and "0b0e3c8a" not in tag and session_tag("") == ""


# ---------------------------------------------------------------- the password


def test_the_password_is_kept_only_as_a_salted_hash(settings):
    assert not password_set(settings)
    assert verify(settings, SECRET, "c").verdict is Verdict.NOT_SET
    path = set_password(settings, SECRET)
    text = path.read_text()
    assert SECRET not in text and "scrypt" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    record = json.loads(text)
    set_password(settings, SECRET)  # again: another salt, another hash
    assert json.loads(path.read_text())["hash"] != record["hash"]
    assert verify(settings, SECRET, "c").verdict is Verdict.OK
    assert verify(settings, SECRET + " ", "c").verdict is Verdict.WRONG
    with pytest.raises(PasswordError):
        set_password(settings, "short")
    assert path.parent.name == ".editors"  # hidden in the corpus: never served nor indexed


def test_wrong_passwords_lock_the_client_out_and_a_restart_does_not_reset_it(settings):
    set_password(settings, SECRET)
    now = 1_000_000.0
    for _ in range(settings.editor_attempts - 1):
        assert verify(settings, "wrong guess here", "a", now).verdict is Verdict.WRONG
    last = verify(settings, "wrong guess here", "a", now)
    assert (last.verdict, last.retry_after) == (Verdict.WRONG, settings.editor_lockout)
    # locked: even the right password is not heard, from a fresh read of the file
    locked = verify(load_settings(), SECRET, "a", now + 10)
    assert locked.verdict is Verdict.LOCKED and 0 < locked.retry_after <= settings.editor_lockout
    assert verify(settings, SECRET, "b", now).verdict is Verdict.OK  # another client is not
    after = now + settings.editor_lockout + 1
    again = verify(settings, "wrong guess here", "a", after)  # one more: twice as long
    assert again.retry_after == 2 * settings.editor_lockout
    assert verify(settings, SECRET, "a", after + 1).verdict is Verdict.LOCKED
    later = after + 2 * settings.editor_lockout + 1
    assert verify(settings, SECRET, "a", later).verdict is Verdict.OK
    counts = json.loads((editors_dir(settings) / ATTEMPTS_FILE).read_text())
    assert "a" not in counts  # the right password clears the client's count


def test_a_tampered_password_file_is_an_error_not_a_pass(settings):
    path = set_password(settings, SECRET)
    record = json.loads(path.read_text())
    path.write_text(json.dumps(dict(record, n=2**40)))  # scrypt past its memory cap
    with pytest.raises(PasswordError):
        verify(settings, SECRET, "c")
    path.write_text(json.dumps({"scheme": "plain", "hash": SECRET}))
    assert verify(settings, SECRET, "c").verdict is Verdict.WRONG


def test_the_cli_sets_the_password_from_stdin(settings):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    cmd = [sys.executable, "-m", "ingest", "editor-password", "--stdin"]
    done = subprocess.run(cmd, input=SECRET + "\n", env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    assert verify(settings, SECRET, "c").verdict is Verdict.OK
    short = subprocess.run(cmd, input="short\n", env=env, capture_output=True, text=True)
    assert short.returncode == 2 and "12 to 1024 characters" in short.stderr
    assert verify(settings, SECRET, "c").verdict is Verdict.OK  # unchanged
    assert (editors_dir(settings) / PASSWORD_FILE).is_file()


# ---------------------------------------------------------------- the audit log


def _append(corpus: str, n: int, who: str) -> None:
    from pathlib import Path

    for i in range(n):
        audit.record(Path(corpus), who, audit.Action.ADD, f"doc-{i} " + "x" * 300, "s")


def test_audit_lines_are_whole_under_concurrent_writers(settings):
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_append, args=(str(settings.corpus_dir), 200, f"w{k}")) for k in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    lines = audit.audit_path(settings.corpus_dir).read_text().splitlines()
    assert len(lines) == 800
    assert all(json.loads(line)["action"] == "add" for line in lines)
    assert stat.S_IMODE(audit.audit_path(settings.corpus_dir).stat().st_mode) == 0o600


def test_audit_entries_read_back_as_data(settings):
    corpus = settings.corpus_dir
    audit.record(corpus, OPERATOR, audit.Action.REMOVE, "a\n<b>x</b>\n  y", "abc")
    with audit.audit_path(corpus).open("a") as f:
        f.write("not json\n[1, 2]\n")  # a damaged line is skipped, not fatal
    audit.record(corpus, PASSWORD_EDITOR, audit.Action.LOGIN_FAILED, "", "def")
    entries = audit.recent(corpus, 10)
    assert [(e.who, e.action) for e in entries] == [
        (OPERATOR, "remove"),
        (PASSWORD_EDITOR, "login-failed"),
    ]
    assert entries[0].detail == "a <b>x</b> y"  # one line; shown as text by the page
    assert entries[0].when.endswith("Z") and entries[0].session == "abc"
    assert audit.recent(corpus, 1)[0].action == "login-failed"


# ---------------------------------------------------------------- the upload guard


def _rec(file_id: str, size: int):
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    return UploadedFileRec(file_id=file_id, name="x.pdf", type="application/pdf", data=b"x" * size)


def test_uploads_are_held_only_for_editors_and_only_so_many_bytes():
    from starlette.exceptions import HTTPException
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    from webapp import uploadguard

    manager = MemoryUploadedFileManager("/upload")
    assert uploadguard.install(manager, lambda: 1000)
    assert uploadguard.install(manager, lambda: 1000)  # once: not wrapped twice
    with pytest.raises(HTTPException) as refused:
        manager.add_file("reader-session", _rec("f1", 10))
    assert refused.value.status_code == 413
    assert manager.file_storage.get("reader-session") in (None, {})
    uploadguard.allow("editor-session", True)
    try:
        manager.add_file("editor-session", _rec("f1", 600))
        with pytest.raises(HTTPException):
            manager.add_file("editor-session", _rec("f2", 600))  # 1200 > 1000
        assert uploadguard.held_bytes(manager, "editor-session") == 600
        manager.remove_file("editor-session", "f1")
        manager.add_file("editor-session", _rec("f2", 600))  # room again
    finally:
        uploadguard.allow("editor-session", False)
    with pytest.raises(HTTPException):
        manager.add_file("editor-session", _rec("f3", 1))  # no longer an editor
