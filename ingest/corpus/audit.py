"""The audit log: every edit of the corpus (add, remove, restore, rebuild)
and every editor password check, one JSON object a line, in
``<corpus>/.audit.jsonl`` (hidden: the build never reads it; git-ignored).

Each line is written whole with one ``write`` on a file opened for
appending, under an exclusive lock, and synced: two sessions never
interleave and a crash leaves at most a missing last line. Lines are read
back as data (:func:`recent`); a line that is no JSON object is skipped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from kb.errors import KBError

logger = logging.getLogger(__name__)

AUDIT_FILE = ".audit.jsonl"
MAX_DETAIL = 500  # characters of a detail kept: a log line stays one short line


class Action(Enum):
    ADD = "add"
    REMOVE = "remove"
    RESTORE = "restore"
    REBUILD = "rebuild"
    LOGIN_OK = "login"
    LOGIN_FAILED = "login-failed"


class AuditError(KBError):
    """The audit log could not be written; the edit is refused with it."""


@dataclass(frozen=True)
class Entry:
    when: str  # ISO 8601, UTC
    who: str
    action: str
    detail: str
    session: str

    def line(self) -> str:
        """The entry as one line of text (for the page: shown as text)."""
        return f"{self.when}  {self.who}  {self.action}  {self.detail}  [{self.session}]"


def audit_path(corpus_dir: Path) -> Path:
    return corpus_dir / AUDIT_FILE


def record(corpus_dir: Path, who: str, action: Action, detail: str = "", session: str = "") -> None:
    """Append one entry. Raises AuditError when it cannot be written."""
    entry = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "who": str(who)[:200],
        "action": action.value,
        "detail": " ".join(str(detail).split())[:MAX_DETAIL],
        "session": str(session)[:64],
    }
    data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    path = audit_path(corpus_dir)
    try:
        corpus_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise AuditError(f"{AUDIT_FILE}: cannot be written ({exc.strerror or exc})") from exc
    logger.info("audit: %s %s %s", entry["who"], entry["action"], entry["detail"])


def recent(corpus_dir: Path, n: int = 50) -> list[Entry]:
    """The last ``n`` entries, newest last; none when there is no log."""
    path = audit_path(corpus_dir)
    last: deque[str] = deque(maxlen=n)
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                last.append(line)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AuditError(f"{AUDIT_FILE}: cannot be read ({exc.strerror or exc})") from exc
    out = []
    for line in last:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            fields = ("when", "who", "action", "detail", "session")
            out.append(Entry(*(str(obj.get(k, "")) for k in fields)))
    return out
