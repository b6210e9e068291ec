"""The PostgreSQL index's schema and connections, shared by the build
(ingest/storage/pgstore.py) and the searcher (search/backend/postgres.py): addresses
without passwords in messages, psycopg's errors as ours, the format
version, the live generation, and chunk records to and from rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit, urlunsplit

from kb.errors import (
    BackendSchemaError,
    BackendUnavailableError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from kb.index.manifest import Manifest, ManifestError
from kb.records import Chunk

# 1: the tables of ingest/storage/pgstore.py. A database holding another version is
# refused, never rewritten.
SCHEMA_VERSION = 1
LEASE_SPACE = 0x6B63  # (LEASE_SPACE, generation id): a searcher reads that generation
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults (method "lucene"), as the embedded index
CONNECT_TIMEOUT = 5  # seconds

CHUNK_COLUMNS = (
    "chunk_id", "doc_id", "title", "lang", "kind", "grp", "page_start", "page_end",
    "label_start", "label_end", "section", "text", "char_start", "char_end", "ordinal",
    "context",
)  # fmt: skip


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
        # libpq also takes the password as a parameter: ?password=... (any case)
        query = "&".join(
            f"{k}=***" if k.strip().lower() == "password" else (f"{k}={v}" if sep else k)
            for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
        )
        if (netloc, query) == (parts.netloc, parts.query):
            return url
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "(unparsable address)"


def connect(url: str):
    """A connection (autocommit) to ``url``, or BackendUnavailableError naming
    the address (no password) and the reason."""
    import psycopg

    try:
        # No server-side prepared statements: a prepared (generic) plan would
        # ignore the per-query planner settings the searcher makes (the
        # exact-scan fallback of a filtered HNSW search); with pgvector 0.6
        # it returned no rows for a filtered search (test_backend_pg.py), and
        # a pooler in transaction mode (PgBouncer) cannot keep them either.
        return psycopg.connect(
            url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, prepare_threshold=None
        )
    except psycopg.ProgrammingError as exc:  # not a valid address at all
        raise BackendUnavailableError(redact(url), f"not a valid address ({exc})") from exc
    except psycopg.OperationalError as exc:
        raise BackendUnavailableError(redact(url), _first_line(exc)) from exc


def _first_line(exc: BaseException) -> str:
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    return lines[-1] if lines else type(exc).__name__


@contextmanager
def translated(url: str) -> Iterator[None]:
    """psycopg's errors as this program's: a lost or refused connection is
    BackendUnavailableError."""
    import psycopg

    try:
        yield
    except psycopg.OperationalError as exc:
        raise BackendUnavailableError(redact(url), _first_line(exc)) from exc
    except psycopg.InterfaceError as exc:  # the connection was closed under us
        raise BackendUnavailableError(redact(url), _first_line(exc)) from exc
    except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
        what = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise BackendSchemaError(
            redact(url),
            f"the database's kb_* tables are not this program's ({what}); "
            "build into an empty database or drop the kb_* tables",
        ) from exc


# A generation's tables; "finnish": its Finnish words' index terms
# (kb/text/morphology.py), absent from generations built before it.
TABLES = ("chunks", "terms", "documents", "postings", "finnish")


def table(kind: str, gen_id: int):
    """The identifier of one generation's table (``kind``: one of TABLES)."""
    from psycopg import sql

    assert kind in TABLES and isinstance(gen_id, int)
    return sql.Identifier(f"kb_{kind}_{gen_id}")


def schema_version(conn) -> int | None:
    """The format version the database holds; None when it holds no index."""
    exists = conn.execute("SELECT to_regclass('kb_meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return None
    import psycopg

    try:
        with conn.transaction():  # a failed read rolls back only itself
            row = conn.execute("SELECT value FROM kb_meta WHERE key = 'format_version'").fetchone()
    except (psycopg.ProgrammingError, psycopg.DataError):  # a kb_meta of another program
        return -1
    return int(row[0]) if row and str(row[0]).isdigit() else -1


def check_schema(conn, url: str) -> bool:
    """True when the database holds this program's schema, False when none;
    BackendSchemaError for another format version."""
    version = schema_version(conn)
    if version == -1:
        raise BackendSchemaError(
            redact(url),
            "the database holds a kb_meta table of another program or format; "
            "build into an empty database or drop the kb_* tables",
        )
    if version is not None and version != SCHEMA_VERSION:
        raise BackendSchemaError(
            redact(url),
            f"the index schema has format version {version}, this program reads "
            f"{SCHEMA_VERSION}; build into an empty database or drop the kb_* tables",
        )
    return version is not None


def ensure_schema(conn, url: str) -> None:
    """Create pgvector and the fixed tables when absent (first build)."""
    import psycopg

    if check_schema(conn, url):
        return
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except (psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedFile) as exc:
        raise BackendSchemaError(
            redact(url), "the pgvector extension is not installed on the server"
        ) from exc
    except psycopg.errors.InsufficientPrivilege as exc:
        raise BackendSchemaError(
            redact(url),
            "the pgvector extension is not enabled in this database and this user may not "
            "enable it; ask its administrator to run CREATE EXTENSION vector",
        ) from exc
    with conn.transaction():
        conn.execute("CREATE TABLE IF NOT EXISTS kb_meta (key text PRIMARY KEY, value text)")
        conn.execute(
            "INSERT INTO kb_meta VALUES ('format_version', %s) ON CONFLICT DO NOTHING",
            (str(SCHEMA_VERSION),),
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS kb_generations (id serial PRIMARY KEY, name text UNIQUE,"
            " manifest jsonb NOT NULL, n_chunks integer NOT NULL, avgdl double precision,"
            " created timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS kb_live (one boolean PRIMARY KEY DEFAULT true"
            " CHECK (one), generation integer NOT NULL REFERENCES kb_generations(id))"
        )


@dataclass
class LiveGeneration:
    """The live generation's row: id, name and manifest (its JSON read into
    the record when first asked for: IndexCorruptError if it does not fit)."""

    id: int
    name: str
    data: dict
    url: str = ""

    @cached_property
    def manifest(self) -> Manifest:
        try:
            return Manifest.from_json(self.data)
        except ManifestError as exc:
            raise IndexCorruptError(redact(self.url), f"generation {self.name}: {exc}") from exc


def live_generation(conn, url: str) -> LiveGeneration | None:
    if not check_schema(conn, url):
        return None
    row = conn.execute(
        "SELECT g.id, g.name, g.manifest FROM kb_live l JOIN kb_generations g"
        " ON g.id = l.generation"
    ).fetchone()
    return LiveGeneration(row[0], row[1], row[2], url) if row else None


def require_live(conn, url: str, fingerprint: str | None) -> LiveGeneration:
    """The live generation, checked against the model that will query it."""
    live = live_generation(conn, url)
    if live is None:
        raise IndexMissingError(redact(url), "no index has been built in this database")
    model = live.manifest.model
    if fingerprint and model.fingerprint != fingerprint:
        raise IndexMismatchError(
            redact(url),
            f"built with model {model.name} ({model.fingerprint}), "
            f"not the configured one ({fingerprint})",
        )
    return live


def chunk_from_row(row) -> Chunk:
    values = dict(zip(CHUNK_COLUMNS, row, strict=True))
    values["group"] = values.pop("grp")
    values["section"] = tuple(values["section"])
    return Chunk(**values)


def chunk_row(c: Chunk) -> tuple:
    d = c.to_json()
    d["grp"] = d.pop("group")
    return tuple(d[k] for k in CHUNK_COLUMNS)


_LEXEME = re.compile(r"^\w+$")


def tsquery_text(terms: list[str]) -> str:
    """A tsquery (OR of quoted lexemes) from the query's terms; terms that are
    not plain words are left out, so no text can add an operator."""
    kept = [t for t in terms if _LEXEME.match(t)]
    return " | ".join(f"'{t}'" for t in kept)


def read_analyses(conn, gen_id: int) -> dict[str, tuple[str, ...]]:
    """A generation's Finnish analyses, whole (for the next build to reuse);
    {} for a generation built before they were stored."""
    from psycopg import sql

    name = f"kb_finnish_{int(gen_id)}"
    if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is None:
        return {}
    query = sql.SQL("SELECT word, terms FROM {}").format(table("finnish", gen_id))
    return {w: tuple(t) for w, t in conn.execute(query).fetchall()}
