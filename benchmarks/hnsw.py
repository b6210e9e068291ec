"""HNSW settings by measured recall: pgvector's graph (m, ef_construction)
and its search list (ef_search) against exact search, on a PostgreSQL index
that benchmarks/backends.py (or a build) has written.

    .venv/bin/python benchmarks/hnsw.py --backend postgresql://... [--graphs 16:64,16:128,24:128]
        [--ef 40,100,200,400] [--out benchmarks/results/hnsw.json]

Queries: the 72 labelled questions, embedded by the query encoder. For each
graph (rebuilt on the live generation's table: a benchmark database only)
and each ef_search: recall@10 of the HNSW top 10 against the exact top 10
(a sequential scan), by row and by distance (ann-benchmarks: a hit within
1e-3 of the exact tenth score counts), and the SQL's p50 / p95. Then the search path itself
(PgIndex.dense, with the backend's own ef_search and exact fallback) with
filters on language, kind and document: recall@10 against exact within the
same filter.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from backends import recall_by_distance  # noqa: E402
from query import _queries  # noqa: E402

K = 10


def _top(conn, chunks: str, qvec: str, exact: bool, ef: int, where: str = "") -> tuple:
    with conn.transaction():
        if exact:
            conn.execute("SET LOCAL enable_indexscan = off")
        else:
            conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef)}")
        t = time.perf_counter()
        rows = conn.execute(
            f"SELECT row, -(embedding <#> %s::vector) FROM {chunks} WHERE true{where}"
            f" ORDER BY embedding <#> %s::vector LIMIT {K}",
            (qvec, qvec),
        ).fetchall()
        return [(r[0], r[1]) for r in rows], time.perf_counter() - t


def _recall(got: list[tuple], truth: list[tuple]) -> float:
    """By row: the share of the exact top k's rows found."""
    return len({r for r, _ in got} & {r for r, _ in truth}) / max(len(truth), 1)


def graphs(url: str, qvecs: list[str], specs: list[tuple[int, int]], efs: list[int]) -> list:
    from ingest.storage.pgstore import hnsw_build_memory_mb
    from kb.index.pgschema import connect, live_generation

    conn = connect(url)
    gen = live_generation(conn, url)
    chunks = f"kb_chunks_{int(gen.id)}"
    truth = [_top(conn, chunks, q, True, 0)[0] for q in qvecs]
    out = []
    for m, efc in specs or [("as built", "as built")]:  # none given: the build's graph
        build_s = None
        if specs:
            for (name,) in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s"
                " AND indexdef LIKE '%%hnsw%%'",
                (chunks,),
            ).fetchall():
                conn.execute(f'DROP INDEX "{name}"')
            rows = conn.execute(f"SELECT count(*) FROM {chunks}").fetchone()[0]
            dim = conn.execute(f"SELECT vector_dims(embedding) FROM {chunks} LIMIT 1").fetchone()[0]
            memory = hnsw_build_memory_mb(rows, dim, int(m))  # as a build sizes it
            conn.execute(f"SET maintenance_work_mem = '{memory}MB'")
            t = time.perf_counter()
            conn.execute(
                f"CREATE INDEX ON {chunks} USING hnsw (embedding vector_ip_ops)"
                f" WITH (m = {int(m)}, ef_construction = {int(efc)})"
            )
            build_s = time.perf_counter() - t
        for ef in efs:
            recalls, near, times = [], [], []
            for q, tr in zip(qvecs, truth, strict=True):
                got, s = _top(conn, chunks, q, False, ef)
                recalls.append(_recall(got, tr))
                near.append(recall_by_distance([x for _, x in got], [x for _, x in tr]))
                times.append(s)
            row = {
                "m": m, "ef_construction": efc, "build_s": build_s, "ef_search": ef,
                "recall_at_10": statistics.mean(recalls), "min_recall": min(recalls),
                "recall_at_10_by_distance": statistics.mean(near), "min_by_distance": min(near),
                "p50_ms": 1000 * statistics.median(times),
                "p95_ms": 1000 * statistics.quantiles(times, n=100, method="inclusive")[94],
            }  # fmt: skip
            print(json.dumps(row), file=sys.stderr)
            out.append(row)
    conn.close()
    return out


def filtered(url: str, qvecs, vectors) -> list:
    """The search path's dense() under filters, against exact in the filter."""
    from kb.index.pgschema import connect
    from search.backend.postgres import PgIndex
    from search.view import IndexView

    index = PgIndex(url, None)
    view = IndexView(index)
    conn = connect(url)
    chunks = f"kb_chunks_{int(index.id)}"
    lang = view.language_list[-1]
    kind = view.kind_list[0]
    docs = sorted(view.doc_rows)[:3]
    cases = {
        f"lang={lang}": (view.where(languages=[lang]), f" AND lang = '{lang}'"),
        f"kind={kind}": (view.where(kinds=[kind]), f" AND kind = '{kind}'"),
        "3 documents": (
            view.where(docs=docs),
            " AND doc_id IN (" + ",".join(f"'{d}'" for d in docs) + ")",
        ),
    }
    out = []
    for name, (where, clause) in cases.items():
        recalls, near, times = [], [], []
        for q, v in zip(qvecs, vectors, strict=True):
            truth = _top(conn, chunks, q, True, 0, clause)[0]
            t = time.perf_counter()
            rows, scores = index.dense(v[None, :], where, 100)  # the searcher's depth
            times.append(time.perf_counter() - t)
            recalls.append(_recall(list(zip(rows[:K], scores[:K], strict=True)), truth))
            near.append(recall_by_distance(scores[:K], [x for _, x in truth]))
        row = {
            "filter": name, "allowed": where.count, "recall_at_10": statistics.mean(recalls),
            "min_recall": min(recalls), "recall_at_10_by_distance": statistics.mean(near),
            "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * statistics.quantiles(times, n=100, method="inclusive")[94],
        }  # fmt: skip
        print(json.dumps(row), file=sys.stderr)
        out.append(row)
    conn.close()
    index.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", required=True)
    p.add_argument("--graphs", default="16:64,16:128,24:128", help='"" keeps the built graph')
    p.add_argument("--ef", default="40,100,200,400")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hnsw.json")
    args = p.parse_args()
    from kb.settings import load_settings
    from search.encoders import load_query_embedder

    embedder = load_query_embedder(load_settings())
    if hasattr(embedder, "wait_ready"):
        embedder.wait_ready()
    vectors = embedder.embed_queries(_queries())
    qvecs = ["[" + ",".join(map(str, v.tolist())) + "]" for v in vectors]
    specs = [tuple(int(x) for x in s.split(":")) for s in args.graphs.split(",") if s]
    efs = [int(x) for x in args.ef.split(",")]
    record = {
        "date": time.strftime("%Y-%m-%d"),
        "graphs": graphs(args.backend, qvecs, specs, efs),
        "filtered": filtered(args.backend, qvecs, vectors),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
