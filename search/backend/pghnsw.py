"""HNSW's search list (pgvector's hnsw.ef_search) for a dense search on
PostgreSQL: how long, for the depth asked, the filter and the table."""

from __future__ import annotations

import math

MAX_EF_SEARCH = 1000  # pgvector's limit for hnsw.ef_search
# hnsw.ef_search: this many times the depth asked, at least a floor that
# grows with the table, from MIN_EF_SEARCH up to SMALL_TABLE rows to
# pgvector's limit at LARGE_TABLE, log-linearly between. Chosen by measured
# recall@10 against exact search (benchmarks/hnsw.py, docs/postgresql.md):
# at 100k, 0.986 at 400; at 1M, 0.903 at 400, 0.947 at 700, 0.961 at 1000
# (SQL p95 about 50 and 65 ms).
EF_FACTOR, MIN_EF_SEARCH = 4, 400
SMALL_TABLE, LARGE_TABLE = 100_000, 1_000_000


def ef_search(depth: int, allowed: int, total: int) -> int:
    """HNSW's candidate list for ``depth`` rows when ``allowed`` of ``total``
    rows pass the filter: pgvector 0.6 filters after the graph walk, so the
    list grows as the filter narrows (up to pgvector's limit; past it the
    search may come back short and is then rescanned exactly)."""
    base = max(EF_FACTOR * depth, ef_floor(total))
    return int(min(MAX_EF_SEARCH, base * total / max(allowed, 1)))


def ef_floor(total: int) -> int:
    """The least ef_search for a table of ``total`` rows (a larger graph
    needs a longer list for the same recall)."""
    if total <= SMALL_TABLE:
        return MIN_EF_SEARCH
    share = min(1.0, math.log(total / SMALL_TABLE) / math.log(LARGE_TABLE / SMALL_TABLE))
    return int(round(MIN_EF_SEARCH + share * (MAX_EF_SEARCH - MIN_EF_SEARCH)))
