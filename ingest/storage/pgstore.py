"""The index in PostgreSQL with pgvector: the write side, and the schema.

Tables (every name below ``kb_`` is this program's)::

    kb_meta(key, value)               the schema's format version
    kb_generations(id, name, manifest, n_chunks, avgdl, created)
    kb_live(one, generation)          the one row naming the live generation
    kb_chunks_<id>                    one generation's chunks: record columns,
                                      embedding vector(dim) with an HNSW index,
                                      tsv (the chunk's language's Snowball
                                      configuration) with a GIN index
    kb_terms_<id>                     lexeme, df and BM25 idf of that generation
    kb_postings_<id>                  lexeme, row, its BM25 weight (and the row's
                                      lang, doc_id, kind), each lexeme's best rows
                                      first (impact-ordered postings)
    kb_documents_<id>                 the documents of that generation

A build writes its generation's tables and moves ``kb_live`` in one
transaction: a build killed at any point (or a server that dies under it)
leaves nothing behind, and the previous generation stays live. Two builds
are kept apart by an advisory lock. A searcher holds a shared advisory lock
on the generation it reads (its lease); a generation that is no longer live
is dropped once no lease holds it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import numpy as np

from kb import failpoints
from kb.errors import BuildLockedError
from kb.index.manifest import Manifest
from kb.index.pgschema import (
    BM25_B,
    BM25_K1,
    CHUNK_COLUMNS,
    LEASE_SPACE,
    TABLES,
    LiveGeneration,
    check_schema,
    chunk_from_row,
    chunk_row,
    connect,
    ensure_schema,
    live_generation,
    read_analyses,
    redact,
    table,
    translated,
)
from kb.records import Chunk
from kb.text.lexical import STEMMERS, Analyses, doc_terms

logger = logging.getLogger(__name__)

BUILD_LOCK = 0x6B62  # advisory lock key: "kb", held by the one build
# The HNSW graph's settings, chosen by measured recall@10 against exact search
# at 100k (0.986 with ef_search 400, against 0.922 for pgvector's defaults
# 16, 64): docs/postgresql.md, benchmarks/hnsw.py.
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 200
# maintenance_work_mem for the build's transaction only, sized to the graph:
# a graph that outgrows it is built on disk, many times slower. About
# 1.5 x (the vector, 2m neighbours at level 0, the element's own record) a
# row, at least 64 MB, at most HNSW_BUILD_MEMORY_MAX_MB (1M rows of 384
# dimensions: about 3.3 GB). pgvector's parallel build takes it as shared
# memory: a container's /dev/shm must hold it (docs/postgresql.md).
HNSW_BUILD_MEMORY_MAX_MB = 4096


def hnsw_build_memory_mb(rows: int, dim: int, m: int = HNSW_M) -> int:
    per_row = 1.5 * (4 * dim + 2 * m * 10 + 200)
    return int(min(HNSW_BUILD_MEMORY_MAX_MB, max(64, rows * per_row / 2**20)))


class PreviousGeneration:
    """The live generation as the pipeline reuses it: manifest, chunk
    records, and the vectors of unchanged documents."""

    def __init__(self, conn, url: str, live: LiveGeneration) -> None:
        from psycopg import sql

        self.conn, self.url, self.id = conn, url, live.id
        self.name, self.manifest = live.name, live.manifest
        query = sql.SQL("SELECT {} FROM {} ORDER BY row").format(
            sql.SQL(", ").join(map(sql.Identifier, CHUNK_COLUMNS)), table("chunks", live.id)
        )
        with translated(url):
            self.chunks = [chunk_from_row(r) for r in conn.execute(query)]
            self.analyses = read_analyses(conn, live.id)

    def vectors(self, rows: list[int]) -> np.ndarray:
        from psycopg import sql

        dim = self.manifest.model.dim
        if not rows:
            return np.zeros((0, dim), dtype=np.float32)
        query = sql.SQL("SELECT embedding::real[] FROM {} WHERE row = ANY(%s) ORDER BY row")
        with translated(self.url):
            got = self.conn.execute(query.format(table("chunks", self.id)), (rows,)).fetchall()
        order = np.argsort(np.argsort(rows))  # rows in the caller's order
        return np.asarray([g[0] for g in got], dtype=np.float32)[order]


class PgStore:
    """The write side of a PostgreSQL index, as the pipeline uses a store.
    Sentence vectors are not stored here: with this backend the page embeds
    the best sentences' candidates at query time (search/highlight.py)."""

    keeps_sentences = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = redact(url)
        self.conn = connect(url)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The build lock (a session advisory lock), or BuildLockedError at once."""
        with translated(self.url):
            got = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK,)).fetchone()[0]
        if not got:
            raise BuildLockedError(f"another build into {self.where} is running")
        try:
            yield
        finally:
            if not self.conn.closed:
                try:
                    self.conn.execute("SELECT pg_advisory_unlock(%s)", (BUILD_LOCK,))
                except Exception:  # noqa: BLE001 - a dead session has let go of it already
                    logger.debug("build lock released with its session")

    def remove_stale(self) -> list[str]:
        """Generations a transaction never finished leave nothing (DDL is
        transactional); old ones no searcher reads any more are dropped."""
        with translated(self.url):
            if not check_schema(self.conn, self.url):
                return []
            return prune(self.conn)

    def previous(self) -> PreviousGeneration | None:
        with translated(self.url):
            ensure_schema(self.conn, self.url)
            live = live_generation(self.conn, self.url)
            return PreviousGeneration(self.conn, self.url, live) if live else None

    def has_index(self) -> bool:
        with translated(self.url):
            return live_generation(self.conn, self.url) is not None

    def write(
        self,
        vectors: np.ndarray,
        chunks: list[Chunk],
        manifest: Manifest,
        sentences=None,
        analyses: Analyses | None = None,
    ) -> str:
        """Write a complete generation and make it live, in one transaction.
        Returns its name. ``analyses``: the Finnish words' index terms."""
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(vectors)} vectors for {len(chunks)} chunks")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
        with translated(self.url):
            ensure_schema(self.conn, self.url)
            with self.conn.transaction():
                gen_id = self.conn.execute(
                    "INSERT INTO kb_generations (name, manifest, n_chunks, avgdl)"
                    " VALUES (%s, %s, %s, %s) RETURNING id",
                    (name, json.dumps(manifest.to_json(), ensure_ascii=False), len(chunks), 0.0),
                ).fetchone()[0]
                _create_tables(self.conn, gen_id, manifest.model.dim)
                avgdl = _copy_chunks(self.conn, gen_id, chunks, vectors, analyses)
                self.conn.execute(
                    "UPDATE kb_generations SET avgdl = %s WHERE id = %s", (avgdl, gen_id)
                )
                _copy_analyses(self.conn, gen_id, analyses or {})
                failpoints.reached("write")
                _index_tables(self.conn, gen_id, len(chunks), manifest.model.dim)
                _impact_postings(self.conn, gen_id, avgdl)
                _copy_documents(self.conn, gen_id, manifest)
                failpoints.reached("swap")
                self.conn.execute(
                    "INSERT INTO kb_live (one, generation) VALUES (true, %s)"
                    " ON CONFLICT (one) DO UPDATE SET generation = excluded.generation",
                    (gen_id,),
                )
            prune(self.conn)
        return name


def _create_tables(conn, gen_id: int, dim: int) -> None:
    from psycopg import sql

    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (row integer PRIMARY KEY, chunk_id text NOT NULL, doc_id text NOT NULL,"
            " title text, lang text NOT NULL, kind text NOT NULL, grp text, page_start integer,"
            " page_end integer, label_start text, label_end text, section text[], text text,"
            " char_start integer, char_end integer, ordinal integer, context text,"
            " n_terms integer NOT NULL, ts_config regconfig NOT NULL, terms text,"
            " embedding vector({}) NOT NULL,"
            " tsv tsvector GENERATED ALWAYS AS (to_tsvector(ts_config,"
            " coalesce(terms, coalesce(context || E'\\n\\n', '') || text))) STORED)"
        ).format(table("chunks", gen_id), sql.Literal(dim))
    )


def ts_config(lang: str) -> str:
    """The Snowball configuration for a chunk's language; 'simple' otherwise."""
    return STEMMERS.get(lang, "simple")


def _copy_chunks(conn, gen_id, chunks, vectors, analyses: Analyses | None) -> float:
    """The chunk rows, each with its number of terms; the mean of those
    (BM25's average length). Where the Finnish words were analysed, a
    Finnish chunk's full-text terms are the program's own (the ``terms``
    column, read with 'simple') rather than PostgreSQL's Snowball: base
    forms and compound parts (kb/text/morphology.py), the same terms as the
    index folder's. Each chunk's terms are made as it is written, so a
    build holds none of them for the whole corpus."""
    from psycopg import sql

    columns = ("row", *CHUNK_COLUMNS, "n_terms", "ts_config", "terms", "embedding")
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        table("chunks", gen_id), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    total = 0
    with conn.cursor().copy(copy_sql) as copy:
        for row, (c, v) in enumerate(zip(chunks, vectors, strict=True)):
            t = doc_terms(c.indexed_text, c.lang, analyses)
            total += len(t) or 1
            vec = "[" + ",".join(map(str, v.tolist())) + "]"  # float32 values, exactly
            own = bool(analyses) and c.lang == "fi"
            config = "simple" if own else ts_config(c.lang)
            copy.write_row(
                (row, *chunk_row(c), len(t) or 1, config, " ".join(t) if own else None, vec)
            )
    return total / len(chunks) if len(chunks) else 0.0


def _index_tables(conn, gen_id: int, n_chunks: int, dim: int) -> None:
    """The HNSW, full-text and filter indexes, and the BM25 statistics."""
    from psycopg import sql

    chunks = table("chunks", gen_id)
    # HNSW builds far faster while its graph fits in maintenance_work_mem.
    memory = hnsw_build_memory_mb(n_chunks, dim)
    conn.execute(f"SET LOCAL maintenance_work_mem = '{memory}MB'")
    conn.execute(
        sql.SQL(
            "CREATE INDEX ON {} USING hnsw (embedding vector_ip_ops) WITH (m = {}, ef_construction = {})"
        ).format(chunks, sql.Literal(HNSW_M), sql.Literal(HNSW_EF_CONSTRUCTION))
    )
    conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (tsv)").format(chunks))
    conn.execute(sql.SQL("CREATE INDEX ON {} (lang)").format(chunks))
    conn.execute(sql.SQL("CREATE INDEX ON {} (doc_id)").format(chunks))
    # ts_stat takes a query as text: the table's name is made from an integer.
    stat_query = f"SELECT tsv FROM kb_chunks_{int(gen_id)}"
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} AS SELECT word AS lexeme, ndoc AS df,"
            " ln(1 + (%s - ndoc + 0.5) / (ndoc + 0.5))::float8 AS idf FROM ts_stat(%s)"
        ).format(table("terms", gen_id)),
        (n_chunks, stat_query),
    )
    terms = table("terms", gen_id)
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (lexeme)").format(terms))
    conn.execute(sql.SQL("CREATE INDEX ON {} (lexeme text_pattern_ops)").format(terms))
    conn.execute(sql.SQL("ANALYZE {}").format(chunks))


def _impact_postings(conn, gen_id: int, avgdl: float) -> None:
    """Each (lexeme, row) with its BM25 weight, the formula BM25 in SQL
    scored at query time (k1, b, Lucene's idf), written in (lexeme, weight
    descending) order and indexed so: a query reads each of its terms' best
    rows first and stops after a bounded number (search/backend/postgres.py).
    The filter columns ride along, so a filtered query stays on this table."""
    from psycopg import sql

    postings = table("postings", gen_id)
    conn.execute(
        sql.SQL(
            "CREATE TABLE {p} AS SELECT u.lexeme, c.row, (t.idf * u.tf / (u.tf + %(k1)s"
            " * (1 - %(b)s + %(b)s * c.n_terms / %(avgdl)s)))::float8 AS weight,"
            " c.lang, c.doc_id, c.kind"
            " FROM {c} c CROSS JOIN LATERAL (SELECT lexeme,"
            " coalesce(array_length(positions, 1), 1) AS tf FROM unnest(c.tsv)) u"
            " JOIN {t} t ON t.lexeme = u.lexeme ORDER BY u.lexeme, weight DESC, c.row"
        ).format(p=postings, c=table("chunks", gen_id), t=table("terms", gen_id)),
        {"k1": BM25_K1, "b": BM25_B, "avgdl": avgdl or 1.0},
    )
    conn.execute(sql.SQL("CREATE INDEX ON {} (lexeme, weight DESC, row)").format(postings))
    conn.execute(sql.SQL("ANALYZE {}").format(postings))


def _copy_analyses(conn, gen_id: int, analyses: Analyses) -> None:
    from psycopg import sql

    finnish = table("finnish", gen_id)
    conn.execute(
        sql.SQL("CREATE TABLE {} (word text PRIMARY KEY, terms text[] NOT NULL)").format(finnish)
    )
    with conn.cursor().copy(sql.SQL("COPY {} (word, terms) FROM STDIN").format(finnish)) as copy:
        for word, terms in analyses.items():
            copy.write_row((word, list(terms)))


def _copy_documents(conn, gen_id: int, manifest: Manifest) -> None:
    from psycopg import sql

    documents = table("documents", gen_id)
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (doc_id text PRIMARY KEY, path text, title text, lang text,"
            " kind text, grp text, url text, identifier text, sha256 text, pages integer)"
        ).format(documents)
    )
    insert = sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    for rel, entry in manifest.documents():
        doc = entry.doc
        conn.execute(
            insert.format(documents),
            (
                doc.id, rel, doc.title, doc.lang, doc.kind, doc.group, doc.url,
                doc.identifier, entry.sha256, entry.pages,
            ),
        )  # fmt: skip


def prune(conn) -> list[str]:
    """Drop generations that are not live and that no searcher holds a lease
    on. Returns their names."""
    dropped = []
    rows = conn.execute(
        "SELECT id, name FROM kb_generations WHERE id NOT IN (SELECT generation FROM kb_live)"
        " ORDER BY id"
    ).fetchall()
    for gen_id, name in rows:
        free = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LEASE_SPACE, gen_id))
        if not free.fetchone()[0]:
            continue  # a searcher still reads it
        try:
            with conn.transaction():
                for kind in TABLES:
                    conn.execute(
                        _drop_sql().format(table(kind, gen_id)),
                    )
                conn.execute("DELETE FROM kb_generations WHERE id = %s", (gen_id,))
            dropped.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LEASE_SPACE, gen_id))
    if dropped:
        logger.info("dropped %d old generation(s): %s", len(dropped), ", ".join(dropped))
    return dropped


def _drop_sql():
    from psycopg import sql

    return sql.SQL("DROP TABLE IF EXISTS {}")
