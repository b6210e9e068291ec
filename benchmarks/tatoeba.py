"""Tatoeba bitext retrieval, float32 against bfloat16 autocast, same model;
and the query encoder's ONNX export in float32 against the shipped one (the
token embedding table in int8).

    .venv/bin/python benchmarks/tatoeba.py [--data ../shared/testdata/tatoeba] [--skip-precision]

Shows what the faster bf16 precision and the smaller query encoder cost in
cross-lingual accuracy (fin→eng, swe→eng, and back), and how long each takes.
For the query encoder, as in a search, the side searched is embedded as
passages by the float32 model and the other side as queries by each export.
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
    from evaluation.bitext import bitext_accuracy, read_pairs
    from kb.model.embedder import SentenceTransformerEmbedder, resolve_model
    from kb.settings import load_settings

    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "testdata" / "tatoeba")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "tatoeba.json")
    p.add_argument("--skip-precision", action="store_true", help="only the query encoders")
    args = p.parse_args()
    path, name, fingerprint = resolve_model(load_settings())
    results = {}
    for precision in () if args.skip_precision else ("fp32", "bf16"):
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
    results.update(query_encoders(args.data, Path(path), name, fingerprint))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": name, "results": results}, indent=2) + "\n")
    keys = ["fin->eng", "eng->fin", "swe->eng", "eng->swe"]
    print("| precision or query encoder | " + " | ".join(keys) + " | seconds |")
    print("| --- |" + " ---: |" * (len(keys) + 1))
    for precision, row in results.items():
        cells = " | ".join(f"{100 * row[k]:.1f}" for k in keys)
        print(f"| {precision} | {cells} | {row['seconds']:.1f} |")
    return 0


def query_encoders(data: Path, model_dir: Path, name: str, fingerprint: str) -> dict:
    """Queries by the float32 ONNX export and by the shipped one; the side
    searched embedded as passages by the float32 export."""
    import tempfile

    import numpy as np

    from evaluation.bitext import read_pairs
    from kb.model.embedder import _export_float32, export_onnx
    from search.encoders import OnnxQueryEmbedder

    shipped = export_onnx(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        fp32_file = Path(tmp) / "model.fp32.onnx"
        _export_float32(model_dir, fp32_file)
        reference = OnnxQueryEmbedder(model_dir, name, fingerprint, fp32_file)
        engines = {
            "ONNX query encoder, float32 (470 MB)": reference,
            "ONNX query encoder, shipped (182 MB)": OnnxQueryEmbedder(
                model_dir, name, fingerprint, shipped
            ),
        }
        sides = {}
        for lang in ("fin", "swe"):
            src, eng = read_pairs(data, lang)
            sides[lang] = (
                src,
                eng,
                _batched(reference.embed_passages, eng),
                _batched(reference.embed_passages, src),
            )
        out = {}
        for label, engine in engines.items():
            row, start = {}, time.perf_counter()
            for lang, (src, eng, eng_passages, src_passages) in sides.items():
                for key, queries, passages in (
                    (f"{lang}->eng", src, eng_passages),
                    (f"eng->{lang}", eng, src_passages),
                ):
                    nearest = (_batched(engine.embed_queries, queries) @ passages.T).argmax(1)
                    row[key] = float((nearest == np.arange(len(queries))).mean())
            row["seconds"] = time.perf_counter() - start
            out[label] = row
    return out


def _batched(embed, texts: list[str], size: int = 64):
    import numpy as np

    return np.concatenate([embed(texts[i : i + size]) for i in range(0, len(texts), size)])


if __name__ == "__main__":
    sys.exit(main())
