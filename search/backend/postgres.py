"""The PostgreSQL backend (pgvector and full-text search): the read side.

A ``PgIndex`` is one generation, read from start to end: its chunk records
are read on demand (search/backend/pgrecords.py: a bounded cache, so a
search process holds no corpus), its tables never change, and its own connection holds a
shared advisory lock on it (the lease), so a build drops it only once every
searcher has moved on. Dense search is pgvector's HNSW (exact when a filter
leaves the index too few rows); lexical search is the generation's tsvector
(each chunk analysed with its language's Snowball configuration) scored
with BM25 from its term statistics, as the embedded backend scores it.

A lost connection raises BackendUnavailableError for that search; the next
one reconnects, takes the lease again and answers from the same generation.
Schema, lock and write side: ingest/storage/pgstore.py.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

import search.backend.pglexical as pglexical
from kb.errors import BackendUnavailableError
from kb.index.pgschema import (
    BM25_B,
    BM25_K1,
    LEASE_SPACE,
    connect,
    redact,
    require_live,
    table,
    translated,
    tsquery_text,
)
from kb.memory import trim_heap
from search.backend.base import Where
from search.backend.pghnsw import ef_search
from search.backend.pgrecords import PgRecords, column_records

logger = logging.getLogger(__name__)

# After a search that read this many postings (tens of MB in small pieces at
# 1M passages) the freed memory is handed back (17 MB at 1M; 0.2 to 3 ms).
TRIM_AFTER_POSTINGS = 20_000
ANALYSES_CACHED = 50_000  # Finnish words' analyses a search process keeps (a bound)


class PgBackend:
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = None
        self._lock = threading.Lock()

    def __str__(self) -> str:
        return redact(self.url)

    def live_name(self) -> str | None:
        """The live generation's name (one short query on a kept connection)."""
        from kb.index.pgschema import live_generation

        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = connect(self.url)
            try:
                with translated(self.url):
                    live = live_generation(self._conn, self.url)
            except BackendUnavailableError:
                self._conn.close()
                raise
        return live.name if live else None

    def load(self, fingerprint: str | None) -> PgIndex:
        return PgIndex(self.url, fingerprint)


class PgIndex:
    # Sentence vectors are not stored in PostgreSQL: the best sentences are
    # embedded at query time (search/highlight.py), as for an older folder.
    sentences = None
    remote = True  # a search's queries run at once, each on its own connection

    def __init__(self, url: str, fingerprint: str | None) -> None:
        self.url = url
        self._lock = threading.Lock()
        # Idle connections, each holding the lease: a query takes one (or
        # opens one) and gives it back, so threads never share a connection
        # and there are never more than the searches running at once.
        self._idle: list = []
        conn = connect(url)
        try:
            with translated(url):
                self._lease_live(conn, fingerprint)
                self.has_postings = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f"kb_postings_{int(self.id)}",)
                ).fetchone()[0]
                self.has_analyses = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f"kb_finnish_{int(self.id)}",)
                ).fetchone()[0]
                n_rows = conn.execute(
                    "SELECT n_chunks FROM kb_generations WHERE id = %s", (self.id,)
                ).fetchone()[0]
        except BaseException:
            conn.close()
            raise
        self._idle.append(conn)
        self._analyses: dict[str, tuple[str, ...]] = {}  # word -> terms, () for none
        self.dim = self.manifest.model.dim
        # Records are read on demand (bounded cache): the process holds no corpus.
        self.chunks = PgRecords(self, int(n_rows))

    def column_records(self):
        """(lang, doc_id, kind, group, section) per row, streamed (search/view.py)."""
        return column_records(self, len(self.chunks))

    def _lease_live(self, conn, fingerprint: str | None) -> None:
        """Take the lease on the live generation; if a build swapped (and
        dropped) it between reading its name and taking the lease, again."""
        for _ in range(5):
            live = require_live(conn, self.url, fingerprint)
            conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LEASE_SPACE, live.id))
            if conn.execute("SELECT 1 FROM kb_generations WHERE id = %s", (live.id,)).fetchone():
                self.id, self.name, self.manifest = live.id, live.name, live.manifest
                return
            conn.execute("SELECT pg_advisory_unlock_shared(%s, %s)", (LEASE_SPACE, live.id))
        raise BackendUnavailableError(redact(self.url), "the live generation kept changing")

    def close(self) -> None:
        """Close the idle connections (each lets go of its lease); one in use
        is closed when its query gives it back."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()

    _closed = False

    def _take(self):
        """An idle connection holding the lease on this generation, or a new one."""
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        conn = connect(self.url)
        conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LEASE_SPACE, self.id))
        if not conn.execute("SELECT 1 FROM kb_generations WHERE id = %s", (self.id,)).fetchone():
            conn.close()
            raise BackendUnavailableError(
                redact(self.url), f"generation {self.name} has been dropped; reload the index"
            )
        return conn

    def _give_back(self, conn) -> None:
        with self._lock:
            if not self._closed and not conn.closed and not conn.broken:
                self._idle.append(conn)
                return
        conn.close()

    def _run(self, query, params, setup=()):
        """Rows of one query in its own transaction, on a connection of its
        own (a new one, lease and all, after a lost one)."""
        import psycopg

        with translated(self.url):
            conn = self._take()
            try:
                with conn.transaction():
                    for statement in setup:
                        conn.execute(statement)
                    return conn.execute(query, params).fetchall()
            except psycopg.errors.UndefinedTable as exc:  # dropped under a lease-less reader
                raise BackendUnavailableError(
                    redact(self.url),
                    f"generation {self.name} has been dropped; the next search loads the live one",
                ) from exc
            finally:
                self._give_back(conn)

    # ------------------------------------------------------------ retrieval

    def dense(self, qvec: np.ndarray, where: Where, depth: int) -> tuple[list[int], np.ndarray]:
        from psycopg import sql

        depth = min(depth, where.count)
        if depth < 1:
            return [], np.zeros(0, dtype=np.float32)
        clause, params = _filters(where)
        query = sql.SQL(
            "SELECT row, -(embedding <#> %(q)s::vector) FROM {} WHERE true{}"
            " ORDER BY embedding <#> %(q)s::vector LIMIT %(k)s"
        ).format(table("chunks", self.id), clause)
        params.update(q=_vector_text(qvec[0]), k=depth)
        ef = ef_search(depth, where.count, len(self.chunks))
        got = self._run(query, params, [f"SET LOCAL hnsw.ef_search = {int(ef)}"])
        if len(got) < depth:
            # HNSW filters after its graph walk: with a narrow filter it can
            # come back short. Then scan the allowed rows exactly.
            got = self._run(query, params, ["SET LOCAL enable_indexscan = off"])
        got.sort(key=lambda r: (-r[1], r[0]))
        return [int(r[0]) for r in got], np.asarray([r[1] for r in got], dtype=np.float32)

    def lexical(
        self, terms: list[str], where: Where, depth: int, weights: list[float] | None = None
    ) -> list[int]:
        """BM25 from the impact-ordered postings: each term's best rows are
        read, those rows scored in full, and the lists read deeper until no
        unread row can enter the first rows, in a bounded number of rounds
        (search/backend/pglexical.py). A generation built before the
        postings table is scored by scanning."""
        weight_of = dict(
            zip(terms, [1.0] * len(terms) if weights is None else weights, strict=True)
        )
        terms = [t for t in dict.fromkeys(terms) if tsquery_text([t])]
        if not terms or depth < 1:
            return []
        weights = [float(weight_of[t]) for t in terms]
        if not self.has_postings:
            return self.lexical_scan(terms, where, depth, weights)
        n, scored, seen, postings = pglexical.per_term(depth), [], set(), 0
        for round_ in range(1, pglexical.ROUNDS + 1):
            read = self._best_postings(terms, weights, where, n)
            postings += len(read[2])
            # the round leaves out rows scored before: they keep their exact scores
            found = pglexical.read_round(*read, n, depth, pglexical.scored_limit(depth), seen)
            seen.update(found.candidates)
            scored = pglexical.best(
                scored + self._scored(terms, where, depth, weights, found.candidates), depth
            )
            if pglexical.settled([s for _, s in scored], depth, found.bound):
                break
            if round_ == pglexical.ROUNDS:
                logger.info("BM25's first rows not proven after %d rows a term", n)
            n *= pglexical.GROWTH
        if postings >= TRIM_AFTER_POSTINGS:
            trim_heap()
        return [row for row, _ in scored]

    def _best_postings(self, terms, weights, where: Where, n: int) -> tuple[np.ndarray, ...]:
        """(term number, query weight, row, weight), one entry a posting:
        each term's best ``n`` allowed rows (an index range scan that stops
        there). Each term's rows and weights come back packed (int4send,
        float8send): tens of thousands of postings a search at a million
        passages, not a Python object each."""
        from psycopg import sql

        clause, params = _filters(where, alias="p.")
        query = sql.SQL(
            "SELECT q.i - 1, q.weight, count(*),"
            " string_agg(int4send(b.row), '' ORDER BY b.weight DESC, b.row),"
            " string_agg(float8send(b.weight), '' ORDER BY b.weight DESC, b.row)"
            " FROM unnest(%(terms)s::text[], %(weights)s::real[]) WITH ORDINALITY"
            " AS q(lexeme, weight, i)"
            " CROSS JOIN LATERAL (SELECT p.row, p.weight FROM {postings} p"
            " WHERE p.lexeme = q.lexeme{where} ORDER BY p.weight DESC, p.row LIMIT %(n)s) b"
            " GROUP BY q.i, q.weight ORDER BY q.i"
        ).format(postings=table("postings", self.id), where=clause)
        params.update(terms=terms, weights=weights, n=n)
        got = self._run(query, params)
        counts = np.asarray([r[2] for r in got], dtype=np.int64)
        return (
            np.repeat(np.asarray([r[0] for r in got], dtype=np.int64), counts),
            np.repeat(np.asarray([r[1] for r in got], dtype=np.float64), counts),
            np.frombuffer(b"".join(r[3] for r in got), dtype=">i4").astype(np.int64),
            np.frombuffer(b"".join(r[4] for r in got), dtype=">f8").astype(np.float64),
        )

    def lexical_scan(
        self, terms: list[str], where: Where, depth: int, weights: list[float] | None = None
    ) -> list[int]:
        """BM25 scoring every row that holds a query term (the full scan the
        postings replace; kept for older generations and as the reference)."""
        return [row for row, _ in self._scored(terms, where, depth, weights)]

    def _scored(self, terms, where: Where, depth: int, weights=None, rows=None):
        """(row, BM25 score), best first: the top ``depth`` of every row that
        holds a query term, or of ``rows`` only."""
        from psycopg import sql

        text = tsquery_text(terms)
        if not text or depth < 1 or (rows is not None and not rows):
            return []
        clause, params = _filters(where, alias="c.")
        if rows is not None:
            clause += sql.SQL(" AND c.row = ANY(%(rows)s)")
            params["rows"] = [int(r) for r in rows]
        query = sql.SQL(
            "SELECT c.row, sum(w.weight * t.idf * u.tf / (u.tf + %(k1)s * (1 - %(b)s + %(b)s"
            " * c.n_terms"
            " / g.avgdl))) AS score"
            " FROM {chunks} c CROSS JOIN LATERAL (SELECT lexeme,"
            " coalesce(array_length(positions, 1), 1) AS tf FROM unnest(ts_delete(c.tsv,"
            " tsvector_to_array(ts_delete(c.tsv, %(terms)s::text[]))))) u"
            " JOIN {terms} t ON t.lexeme = u.lexeme"
            " JOIN unnest(%(terms)s::text[], %(weights)s::real[]) w(lexeme, weight)"
            " ON w.lexeme = u.lexeme"
            " JOIN kb_generations g ON g.id = %(gen)s"
            " WHERE c.tsv @@ %(tsq)s::tsquery AND u.lexeme = ANY(%(terms)s){where}"
            " GROUP BY c.row ORDER BY score DESC, c.row LIMIT %(k)s"
        ).format(chunks=table("chunks", self.id), terms=table("terms", self.id), where=clause)
        weights = [1.0] * len(terms) if weights is None else [float(w) for w in weights]
        params.update(
            k1=BM25_K1, b=BM25_B, gen=self.id, tsq=text, terms=list(terms), weights=weights, k=depth
        )
        return [(int(r[0]), float(r[1])) for r in self._run(query, params) if r[1] > 0]

    def vectors(self, rows: list[int]) -> np.ndarray:
        from psycopg import sql

        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = [int(r) for r in rows]
        query = sql.SQL("SELECT row, embedding::real[] FROM {} WHERE row = ANY(%s)").format(
            table("chunks", self.id)
        )
        got = dict(self._run(query, (rows,)))
        return np.asarray([got[r] for r in rows], dtype=np.float32)

    def holding(self, term: str, where: Where) -> int:
        from psycopg import sql

        text = tsquery_text([term])
        if not text:
            return 0
        if self.has_postings:
            clause, params = _filters(where, alias="p.")
            query = sql.SQL("SELECT count(*) FROM {} p WHERE p.lexeme = %(term)s{}").format(
                table("postings", self.id), clause
            )
            params["term"] = term
        else:
            clause, params = _filters(where, alias="c.")
            query = sql.SQL("SELECT count(*) FROM {} c WHERE c.tsv @@ %(tsq)s::tsquery{}").format(
                table("chunks", self.id), clause
            )
            params["tsq"] = text
        return int(self._run(query, params)[0][0])

    def finnish(self, words) -> dict[str, tuple[str, ...]]:
        """The Finnish analyses of those of ``words`` the build analysed: one
        query for the words not cached yet (a bounded cache, misses too)."""
        from psycopg import sql

        words = set(words)
        if not self.has_analyses or not words:
            return {}
        with self._lock:
            found = {w: self._analyses[w] for w in words if w in self._analyses}
        todo = [w for w in words if w not in found]
        if todo:
            query = sql.SQL("SELECT word, terms FROM {} WHERE word = ANY(%s)").format(
                table("finnish", self.id)
            )
            got = {w: tuple(t) for w, t in self._run(query, (todo,))}
            found.update({w: got.get(w, ()) for w in todo})
            with self._lock:
                if len(self._analyses) + len(todo) > ANALYSES_CACHED:
                    self._analyses.clear()
                self._analyses.update({w: found[w] for w in todo})
        return {w: terms for w, terms in found.items() if terms}

    def knows(self, terms: list[str], prefix: str | None) -> bool | None:
        """(IndexView.knows caches the answer per word.)"""
        from psycopg import sql

        like = _like_prefix(prefix) if prefix else None
        query = sql.SQL(
            "SELECT EXISTS (SELECT 1 FROM {t}), EXISTS (SELECT 1 FROM {t} WHERE lexeme ="
            " ANY(%s) OR (%s::text IS NOT NULL AND lexeme LIKE %s))"
        ).format(t=table("terms", self.id))
        any_terms, found = self._run(query, (list(terms), like, like))[0]
        return found if any_terms else None


def _filters(where: Where, alias: str = ""):
    """SQL conditions for ``where`` (each bound as a parameter) and their values."""
    from psycopg import sql

    parts, params = [], {}
    for name, column in (("languages", "lang"), ("docs", "doc_id"), ("kinds", "kind")):
        values = getattr(where, name)
        if values is not None:
            parts.append(sql.SQL(f" AND {alias}{column} = ANY(%({name})s)"))
            params[name] = sorted(values)
    if where.exclude:
        parts.append(sql.SQL(f" AND {alias}row <> ALL(%(exclude)s)"))
        params["exclude"] = sorted(where.exclude)
    return sql.Composed(parts), params


def _vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(map(str, np.asarray(v, dtype=np.float32).tolist())) + "]"


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
