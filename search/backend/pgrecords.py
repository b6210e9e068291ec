"""Chunk records read from PostgreSQL on demand: the search process holds
only a bounded cache of them, never the corpus.

``PgRecords`` is the generation's ``chunks`` as a sequence: a row is read
(with the other rows of the same call) when a search needs it and kept in a
least-recently-used cache of ``CACHE_ROWS`` records; iterating it streams
the table in batches. The view's per-row columns (language, document, kind,
section) come from ``column_records``, streamed the same way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from kb.index.pgschema import CHUNK_COLUMNS, chunk_from_row, table
from kb.records import Chunk

CACHE_ROWS = 4096  # about 12 MB of records at most
BATCH = 2000  # rows per query when streaming


class PgRecords(Sequence):
    def __init__(self, index, n_rows: int) -> None:
        self._index = index  # a PgIndex: its _run gives a leased connection
        self._n = n_rows
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, row):
        if isinstance(row, slice):
            return self.fetch(list(range(self._n))[row])
        row = int(row)
        if row < 0:
            row += self._n
        if not 0 <= row < self._n:
            raise IndexError(row)
        return self.fetch([row])[0]

    def fetch(self, rows: list[int]) -> list[Chunk]:
        """The records of ``rows`` (in that order), missing ones in one query.
        What the cache held is taken when the call starts: another thread
        may evict it meanwhile (4 clients at 100k did, in the benchmark)."""
        with self._lock:
            have = {r: self._cache[r] for r in rows if r in self._cache}
        missing = sorted({r for r in rows if r not in have})
        if missing:
            have.update(self._read("row = ANY(%s)", (missing,)))
        out = []
        for r in rows:
            chunk = have.get(r)
            if chunk is None:
                raise IndexError(r)
            out.append(chunk)
        with self._lock:
            for r in rows:
                self._cache[r] = have[r]
                self._cache.move_to_end(r)
            while len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        return out

    def __iter__(self) -> Iterator[Chunk]:
        for start in range(0, self._n, BATCH):
            got = self._read("row >= %s AND row < %s", (start, start + BATCH))
            yield from (chunk for _, chunk in sorted(got, key=lambda x: x[0]))

    def _read(self, condition: str, params) -> list[tuple[int, Chunk]]:
        from psycopg import sql

        query = sql.SQL("SELECT row, {} FROM {} WHERE " + condition).format(
            sql.SQL(", ").join(map(sql.Identifier, CHUNK_COLUMNS)),
            table("chunks", self._index.id),
        )
        return [(int(r[0]), chunk_from_row(r[1:])) for r in self._index._run(query, params)]


def column_records(index, n_rows: int) -> Iterator[tuple]:
    """(lang, doc_id, kind, group, section) of every row in row order,
    streamed in batches."""
    from psycopg import sql

    query = sql.SQL(
        "SELECT lang, doc_id, kind, grp, section FROM {} WHERE row >= %s AND row < %s ORDER BY row"
    ).format(table("chunks", index.id))
    for start in range(0, n_rows, BATCH * 10):
        for lang, doc, kind, group, section in index._run(query, (start, start + BATCH * 10)):
            yield lang, doc, kind, group, tuple(section)
