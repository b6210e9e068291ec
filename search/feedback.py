"""Readers' verdicts on answers: "answered my question" / "did not", and the
searches that found no relevant passage, kept in a SQLite file beside the
index so that real questions become evaluation data (search/feedbackcli.py
exports them as eval/*.qrels.jsonl lines).

The file is ``<index>/feedback.sqlite3``: a build swaps generations
(``gen-*``, ``CURRENT``) and removes only those and its temporary files, so
the store outlives every rebuild. It is in WAL mode with
``synchronous=FULL``; each record is one ``BEGIN IMMEDIATE`` ... ``COMMIT``
transaction, so a process killed mid-write leaves no part of its record and
every committed one survives; page processes writing at once wait for each
other (``busy_timeout``) instead of failing. Each record carries a random
id and is inserted once whatever the retries.

A record holds the question, the page's language, the verdict, the judged
passage's document, group and section path (none for the answer box as a
whole or a search that found nothing), the index generation and the time
to the minute: nothing that identifies a person (no address, session or
user name).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kb import failpoints
from kb.choices import Choice
from kb.errors import KBError

logger = logging.getLogger(__name__)

STORE_FILE = "feedback.sqlite3"
SCHEMA_VERSION = 1
BUSY_SECONDS = 30.0  # how long a writer waits for another one's transaction
MAX_QUESTION_CHARS = 2000  # the searcher's limit (search.searcher.MAX_QUERY_CHARS)
MAX_FIELD_CHARS = 500  # a document id, group or heading title
FAILPOINT = "feedback"  # kb/failpoints.py: the record inserted, not yet committed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    rid TEXT NOT NULL UNIQUE,
    question TEXT NOT NULL,
    qkey TEXT NOT NULL,
    lang TEXT NOT NULL,
    verdict TEXT NOT NULL,
    doc_id TEXT,
    grp TEXT NOT NULL DEFAULT '',
    section TEXT NOT NULL DEFAULT '[]',
    generation TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_qkey ON feedback (qkey, lang);
"""
_COLUMNS = "id, rid, question, lang, verdict, doc_id, grp, section, generation, created"


class Verdict(Choice):
    ANSWERED = "answered"  # "answered my question"
    DID_NOT = "did-not"  # "did not"
    NO_PASSAGE = "no-passage"  # the search itself found no relevant passage


UNANSWERED = (Verdict.DID_NOT, Verdict.NO_PASSAGE)


class FeedbackError(KBError):
    """The feedback store cannot be used; ``path`` is its file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"feedback store {path}: {reason}", reason)
        self.path = str(path)


class FeedbackWriteError(FeedbackError):
    """A verdict could not be recorded (a full disk, a read-only folder,
    another writer holding the store past the timeout). Nothing of it was kept."""


class FeedbackUnreadableError(FeedbackError):
    """The file is not a feedback store, is damaged, or is of a newer version."""


class FeedbackInvalidError(KBError, ValueError):
    """A record that cannot be stored as given (an empty question, ...)."""


def question_key(question: str) -> str:
    """The same question however it was spaced or capitalised."""
    return " ".join(question.split()).casefold()


@dataclass(frozen=True)
class Feedback:
    """One verdict. ``doc_id`` None: on the answer box as a whole, or (with
    NO_PASSAGE) on the search; ``created`` is set when it is stored."""

    question: str
    lang: str
    verdict: Verdict
    generation: str
    doc_id: str | None = None
    group: str = ""
    section: tuple[str, ...] = ()
    created: str = ""
    rid: str = field(default_factory=lambda: uuid.uuid4().hex)
    id: int | None = None

    def checked(self) -> Feedback:
        """This record, validated and trimmed; FeedbackInvalidError if it cannot be stored."""
        question = " ".join(self.question.split())
        if not question:
            raise FeedbackInvalidError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise FeedbackInvalidError(f"the question is over {MAX_QUESTION_CHARS} characters")
        verdict = Verdict.from_str(self.verdict)
        texts = [self.lang, self.generation, self.doc_id or "", self.group, *self.section]
        if any(len(t) > MAX_FIELD_CHARS for t in texts):
            raise FeedbackInvalidError(f"a field is over {MAX_FIELD_CHARS} characters")
        if not self.lang or not self.generation:
            raise FeedbackInvalidError("the page language and the index generation are required")
        if verdict is Verdict.NO_PASSAGE and self.doc_id is not None:
            raise FeedbackInvalidError("a search that found nothing judges no passage")
        return Feedback(
            question, self.lang, verdict, self.generation, self.doc_id, self.group,
            tuple(self.section), self.created, self.rid,
        )  # fmt: skip


@dataclass(frozen=True)
class Unanswered:
    """A question (as first asked) that readers marked "did not" or whose
    search found no relevant passage, with how often."""

    question: str
    lang: str
    did_not: int
    no_passage: int

    @property
    def total(self) -> int:
        return self.did_not + self.no_passage


def store_path(index_dir: Path) -> Path:
    return Path(index_dir) / STORE_FILE


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")


class FeedbackStore:
    """The store in ``path`` (created on the first write). Opens a connection
    per call: safe from any thread of a page process and from many processes."""

    def __init__(self, path: Path, busy_seconds: float = BUSY_SECONDS) -> None:
        self.path = Path(path)
        self.busy_seconds = busy_seconds

    @classmethod
    def beside(cls, index_dir: Path) -> FeedbackStore:
        return cls(store_path(index_dir))

    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        error = FeedbackWriteError if create else FeedbackUnreadableError
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise error(self.path, str(exc)) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
            conn.execute("PRAGMA synchronous = FULL")
            yield conn
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and create:
                raise FeedbackWriteError(self.path, str(exc)) from exc
            raise FeedbackUnreadableError(self.path, str(exc)) from exc
        finally:
            conn.close()

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the table, made once by whichever writer comes first."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise FeedbackUnreadableError(
                self.path, f"written by a newer version (schema {version})"
            )
        if version == SCHEMA_VERSION:
            return
        deadline = time.monotonic() + self.busy_seconds
        while True:  # a mode change that meets another writer is retried, not waited
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        conn.execute("BEGIN IMMEDIATE")  # (executescript would commit first)
        try:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def add(self, feedback: Feedback) -> Feedback:
        """Record one verdict in one transaction; the record as stored.
        FeedbackInvalidError for a record that cannot be stored,
        FeedbackWriteError when the store cannot be written."""
        record = feedback.checked()
        created = record.created or _now()
        row = (
            record.rid, record.question, question_key(record.question), record.lang,
            record.verdict.value, record.doc_id, record.group,
            json.dumps(list(record.section), ensure_ascii=False), record.generation, created,
        )  # fmt: skip
        with self._connect(create=True) as conn:
            self._prepare(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR IGNORE INTO feedback (rid, question, qkey, lang, verdict, "
                    "doc_id, grp, section, generation, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    row,
                )
                failpoints.reached(FAILPOINT)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            stored = conn.execute(
                f"SELECT {_COLUMNS} FROM feedback WHERE rid = ?", (record.rid,)
            ).fetchone()
        logger.info("feedback %s recorded", record.verdict.value)
        return _record(stored)

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        if not self.path.exists():
            return []
        with self._connect(create=False) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:  # created by a writer that died before its table
                return []
            if version > SCHEMA_VERSION:
                raise FeedbackUnreadableError(
                    self.path, f"written by a newer version (schema {version})"
                )
            return conn.execute(sql, args).fetchall()

    def records(self) -> list[Feedback]:
        """Every record, oldest first."""
        return [_record(r) for r in self._read(f"SELECT {_COLUMNS} FROM feedback ORDER BY id")]

    def unanswered(self, limit: int = 20) -> list[Unanswered]:
        """The questions most often marked "did not" or found with no
        relevant passage, most frequent first (counts only)."""
        rows = self._read(
            # SQLite's bare column beside MIN(id): the question as first asked
            "SELECT question, lang, SUM(verdict = ?), SUM(verdict = ?), COUNT(*) AS n, "
            "MIN(id) AS first FROM feedback WHERE verdict IN (?, ?) "
            "GROUP BY qkey, lang ORDER BY n DESC, first LIMIT ?",
            (Verdict.DID_NOT.value, Verdict.NO_PASSAGE.value, *UNANSWERED, limit),
        )
        return [Unanswered(q, lang, int(d), int(n)) for q, lang, d, n, _, _ in rows]


def _record(row: tuple) -> Feedback:
    number, rid, question, lang, verdict, doc_id, group, section, generation, created = row
    return Feedback(
        question, lang, Verdict.from_str(verdict), generation, doc_id, group,
        tuple(json.loads(section)), created, rid, number,
    )  # fmt: skip
