"""Ingestion benchmark: our pipeline against the obvious LangChain pipeline,
on the same PDFs with the same model, measured in the same run.

    .venv/bin/python benchmarks/ingest.py [--corpus DIR] [--out FILE]

Each pipeline runs in its own process, so peak memory (ru_maxrss) is its own
and both pay for their imports and model load. Default corpus: the two
Public Procurement Act PDFs in ../shared/testdata/finlex.

Measured:
- full build: wall seconds, pages/s, chunks/s, peak RSS;
- a re-run with nothing changed (`python -m ingest`, the whole command);
- LangChain: PyPDFLoader + RecursiveCharacterTextSplitter (its defaults,
  1000 characters, 200 overlap) + HuggingFaceEmbeddings + FAISS vector store.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "testdata" / "finlex"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_ours(corpus: Path, index: Path) -> dict:
    from ingest.pipeline import build_index
    from kb.settings import load_settings

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    report = build_index(settings)
    return {
        "pages": report.pages,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "failed": len(report.failed),
        "peak_rss_mb": _peak_mb(),
    }


def worker_langchain(corpus: Path, index: Path, model_path: str) -> dict:
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = []
    for pdf in sorted(corpus.glob("*.pdf")):
        docs.extend(PyPDFLoader(str(pdf)).load())
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    embeddings = HuggingFaceEmbeddings(
        model_name=model_path,
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )
    store = FAISS.from_documents(chunks, embeddings)
    store.save_local(str(index))
    return {
        "pages": len(docs),
        "chunks": len(chunks),
        "embedded": len(chunks),
        "failed": 0,
        "peak_rss_mb": _peak_mb(),
    }


def run_worker(*args: str) -> dict:
    """Run this file as a worker process; (wall seconds, its JSON report)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["seconds"] = seconds
    result["pages_per_s"] = result["pages"] / seconds
    result["chunks_per_s"] = result["chunks"] / seconds
    return result


def run_cli_rerun(corpus: Path, index: Path) -> float:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ingest", "--corpus", str(corpus), "--index", str(index)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ingest.json")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        kind, corpus, index, *rest = args.worker
        fn = worker_ours if kind == "ours" else worker_langchain
        print(json.dumps(fn(Path(corpus), Path(index), *rest)))
        return 0

    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} not found", file=sys.stderr)
        return 2
    from kb.model.embedder import resolve_model
    from kb.settings import load_settings

    model_path, model_name, _ = resolve_model(load_settings())
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for pdf in sorted(args.corpus.glob("*.pdf")):
            shutil.copy(pdf, corpus / pdf.name)
        ours = run_worker("ours", str(corpus), str(Path(tmp) / "index"))
        rerun = run_cli_rerun(corpus, Path(tmp) / "index")
        lc = run_worker("langchain", str(corpus), str(Path(tmp) / "lc"), model_path)

    result = {
        "corpus": [p.name for p in sorted(args.corpus.glob("*.pdf"))],
        "model": model_name,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "ours": ours,
        "rerun_unchanged_seconds": rerun,
        "langchain": lc,
        "throughput_ratio_pages": ours["pages_per_s"] / lc["pages_per_s"],
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    print("| pipeline | wall s | pages/s | chunks | chunks/s | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in (("ours (full build)", ours), ("LangChain", lc)):
        print(
            f"| {name} | {r['seconds']:.1f} | {r['pages_per_s']:.2f} | {r['chunks']} | "
            f"{r['chunks_per_s']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    print(f"\nre-run, nothing changed: {rerun:.2f} s")
    print(f"throughput ratio (pages/s, ours / LangChain): {result['throughput_ratio_pages']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
