"""Tatoeba bitext retrieval, float32 against bfloat16 autocast, same model.

    .venv/bin/python benchmarks/tatoeba.py [--data ../shared/testdata/tatoeba]

Shows what the faster bf16 precision costs in cross-lingual accuracy
(fin→eng, swe→eng, and back), and how long each takes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from ingest.embed import SentenceTransformerEmbedder, resolve_model
    from ingest.settings import load_settings
    from search.bitext import bitext_accuracy, read_pairs

    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "testdata" / "tatoeba")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "tatoeba.json")
    args = p.parse_args()
    path, name, fingerprint = resolve_model(load_settings())
    results = {}
    for precision in ("fp32", "bf16"):
        emb = SentenceTransformerEmbedder(path, name, fingerprint, precision=precision)
        emb.embed_queries(["warm up"])
        row = {}
        start = time.perf_counter()
        for lang in ("fin", "swe"):
            src, eng = read_pairs(args.data, lang)
            row[f"{lang}->eng"] = bitext_accuracy(emb, src, eng)
            row[f"eng->{lang}"] = bitext_accuracy(emb, eng, src)
        row["seconds"] = time.perf_counter() - start
        results[precision] = row
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": name, "results": results}, indent=2) + "\n")
    keys = ["fin->eng", "eng->fin", "swe->eng", "eng->swe"]
    print("| precision | " + " | ".join(keys) + " | seconds |")
    print("| --- |" + " ---: |" * (len(keys) + 1))
    for precision, row in results.items():
        cells = " | ".join(f"{100 * row[k]:.1f}" for k in keys)
        print(f"| {precision} | {cells} | {row['seconds']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
