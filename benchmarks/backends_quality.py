"""The labelled sets on both backends, side by side: the same index (an
index folder, copied into PostgreSQL with its vectors and records), one
query encoder (ONNX Runtime, waited for), so the only difference is the
backend: exact FAISS and bm25s against pgvector's HNSW and BM25 computed in
SQL from the tsvector.

    .venv/bin/python benchmarks/backends_quality.py --index FINLEX_INDEX \\
        --backend postgresql://... [--out benchmarks/results/backends_quality.json]

FINLEX_INDEX: an index folder of the Public Procurement Act (`python -m
ingest --corpus C --index FINLEX_INDEX` with C holding the two PDFs of
../shared/testdata/finlex and eval/finlex.sources.toml as sources.toml).
The database must be empty or hold an earlier copy (a new generation is
written). For the held-out set, run `python -m evaluation.heldout` with and
without `--backend` (it builds its own corpora).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from query import FINLEX  # noqa: E402 - after the path above (benchmarks/query.py)


def same_citations(searchers: dict, evaluations) -> dict:
    """Citations of the same hit (same chunk id) compared across backends."""
    from search.cite import cite

    a, b = searchers["index folder"], searchers["postgresql"]
    compared = different = 0
    for ev in evaluations:
        kwargs = {"k": 10, "languages": [ev.target], "highlight": False}
        theirs = {h.chunk_id: h for h in b.search(ev.query, **kwargs)}
        for hit in a.search(ev.query, **kwargs):
            other = theirs.get(hit.chunk_id)
            if other is not None:
                compared += 1
                different += cite(hit, a.document(hit.doc_id)) != cite(
                    other, b.document(other.doc_id)
                )
    return {"compared": compared, "different": different}


def main() -> int:
    from backends import build_postgres

    from evaluation.evaluate import evaluate, heading_evaluations, load_qrels
    from kb.settings import load_settings
    from search import Searcher
    from search.encoders import load_query_embedder

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--backend", required=True)
    p.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "backends_quality.json"
    )
    args = p.parse_args()
    build_postgres(args.index, args.backend)
    settings = load_settings(index_dir=args.index)
    embedder = load_query_embedder(settings)
    if hasattr(embedder, "wait_ready"):
        embedder.wait_ready()
    searchers = {
        "index folder": Searcher.load(args.index, settings, embedder=embedder),
        "postgresql": Searcher.load(
            args.index, replace(settings, backend=args.backend), embedder=embedder
        ),
    }
    sets = {
        "finlex.qrels": (
            load_qrels(ROOT / "eval" / "finlex.qrels.jsonl"),
            ("dense", "bm25", "hybrid"),
        ),
        "headings fi↔sv": (
            heading_evaluations(
                FINLEX / "hankintalaki-1397-2016.fi.sections.json",
                FINLEX / "hankintalaki-1397-2016.sv.sections.json",
            ),
            ("hybrid",),
        ),
    }
    out: dict = {}
    print("| set | mode | queries | n | recall@5 folder / PG | MRR@10 folder / PG |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for name, (evaluations, modes) in sets.items():
        reports = {b: evaluate(s, evaluations, modes)["modes"] for b, s in searchers.items()}
        out[name] = reports
        for mode in modes:
            for group in ("all", "same-language", "cross-language"):
                a = reports["index folder"][mode].get(group)
                b = reports["postgresql"][mode].get(group)
                if a and b:
                    print(
                        f"| {name} | {mode} | {group} | {a['n']} | {a['recall@5']:.3f} / "
                        f"{b['recall@5']:.3f} | {a['mrr@10']:.3f} / {b['mrr@10']:.3f} |"
                    )
    out["citations"] = same_citations(searchers, sets["finlex.qrels"][0])
    print(
        f"citations of the hits both backends return (hybrid, k=10): "
        f"{out['citations']['compared']} compared, {out['citations']['different']} different"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
