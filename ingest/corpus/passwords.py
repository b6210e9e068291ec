"""The editor password: set by the operator (``python -m ingest
editor-password``), kept only as a salted scrypt hash in
``<corpus>/.editors/password.json`` (hidden, git-ignored, never served), and
checked by the page with a limit on attempts.

After ``editor_attempts`` wrong passwords from one client in a row, that
client is locked out for ``editor_lockout`` seconds, doubled by each
further wrong one (at most a day). The counts live in
``.editors/attempts.json`` under a lock, so neither a reload of the page
nor a restart of the server resets them. A client is the TCP peer the
server sees (behind a reverse proxy: the proxy, so one count for all).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import getpass
import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from kb.errors import KBError
from kb.settings import Settings, load_settings

EDITORS_DIR = ".editors"
PASSWORD_FILE = "password.json"
ATTEMPTS_FILE = "attempts.json"
MIN_LENGTH = 12
MAX_LENGTH = 1024  # scrypt reads the whole password: no megabyte ones
MAX_LOCKOUT = 86_400
# scrypt's cost: 2**15 * 8 * 128 bytes = 32 MB of memory and ~0.1 s a check.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class PasswordError(KBError):
    """The editor password cannot be set or its files cannot be read."""


class Verdict(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    NOT_SET = "not set"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    retry_after: int = 0  # seconds until the next attempt is heard (LOCKED, WRONG at the limit)


def editors_dir(settings: Settings) -> Path:
    return settings.corpus_dir / EDITORS_DIR


def password_set(settings: Settings) -> bool:
    return (editors_dir(settings) / PASSWORD_FILE).is_file()


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32
    )


def set_password(settings: Settings, password: str) -> Path:
    """Store ``password``'s salted hash (replacing any earlier one) and
    clear the lockout counts; returns the file. Raises PasswordError."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise PasswordError(f"the password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    salt = secrets.token_bytes(16)
    record = {
        "scheme": "scrypt",
        **SCRYPT,
        "salt": base64.b64encode(salt).decode(),
        "hash": base64.b64encode(_hash(password, salt, **SCRYPT)).decode(),
    }
    folder = editors_dir(settings)
    with _locked(folder):
        _write_private(folder / PASSWORD_FILE, record)
        _write_private(folder / ATTEMPTS_FILE, {})
    return folder / PASSWORD_FILE


def verify(settings: Settings, password: str, client: str, now: float | None = None) -> Check:
    """Check ``password`` for ``client`` (its address), counting wrong ones."""
    now = time.time() if now is None else now
    folder = editors_dir(settings)
    if not password_set(settings):
        return Check(Verdict.NOT_SET)
    with _locked(folder):
        attempts = _read_json(folder / ATTEMPTS_FILE)
        mine = attempts.get(client) or {}
        until = float(mine.get("until", 0))
        if until > now:
            return Check(Verdict.LOCKED, int(until - now) + 1)
        if _matches(_read_json(folder / PASSWORD_FILE), password):
            attempts.pop(client, None)
            _write_private(folder / ATTEMPTS_FILE, attempts)
            return Check(Verdict.OK)
        failures = int(mine.get("failures", 0)) + 1
        entry = {"failures": failures, "until": 0.0}
        wait = 0
        if failures >= settings.editor_attempts:
            extra = failures - settings.editor_attempts
            wait = min(settings.editor_lockout * 2 ** min(extra, 20), MAX_LOCKOUT)
            entry["until"] = now + wait
        attempts[client] = entry
        _write_private(folder / ATTEMPTS_FILE, attempts)
        return Check(Verdict.WRONG, wait)


def _matches(record: dict, password: str) -> bool:
    try:
        if record.get("scheme") != "scrypt" or len(password) > MAX_LENGTH:
            return False
        salt, expected = base64.b64decode(record["salt"]), base64.b64decode(record["hash"])
        got = _hash(password, salt, int(record["n"]), int(record["r"]), int(record["p"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PasswordError(f"{PASSWORD_FILE}: not a password record ({exc})") from exc
    return hmac.compare_digest(got, expected)


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise PasswordError(f"{path.name}: cannot be read ({exc})") from exc
    return obj if isinstance(obj, dict) else {}


def _write_private(path: Path, obj: dict) -> None:
    """Write ``obj`` as JSON readable by its owner only, renamed into place."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PasswordError(f"{path.name}: cannot be written ({exc.strerror or exc})") from exc


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise PasswordError(f"{EDITORS_DIR}: cannot be written ({exc.strerror or exc})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def cmd_editor_password(argv: list[str]) -> int:
    """``python -m ingest editor-password``: set the editor password (asked
    twice, or one line from standard input with --stdin)."""
    p = argparse.ArgumentParser(
        prog="python -m ingest editor-password",
        description="Set the password that makes a page session an editor "
        "(stored only as a salted scrypt hash; see docs/deploying.md).",
    )
    p.add_argument("--corpus", type=Path, help="corpus folder (default: corpus/, or $KB_CORPUS)")
    p.add_argument("--stdin", action="store_true", help="read the password from standard input")
    args = p.parse_args(argv)
    settings = load_settings(corpus_dir=args.corpus)
    if args.stdin:
        password = sys.stdin.readline(MAX_LENGTH + 2).rstrip("\r\n")
    else:
        password = getpass.getpass("New editor password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the two passwords differ; nothing changed", file=sys.stderr)
            return 2
    try:
        path = set_password(settings, password)
    except PasswordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"editor password set ({path}; only its salted hash is stored)")
    return 0
