"""Retrieval quality: recall@1/5/10, MRR@10 and nDCG@10 per mode and per
query language, for labelled queries or the systematic heading check.

    python -m evaluation.evaluate --qrels eval/finlex.qrels.jsonl [--index DIR] [--json]
    python -m evaluation.evaluate --sections A.sections.json B.sections.json [--index DIR]

A qrels line: ``{"id", "query", "lang", "targets": ["fi", "sv"], "relevant":
{"section": ["38 §"]}}``. Each target language is one evaluation: the query
is searched within that language, and a hit is relevant if a heading of its
section path is one of the given sections ("38 §" matches "38 § Innovaatio-
kumppanuus"). Same-language when the query's language is the target's.

recall@k here is the share of evaluations with a relevant hit in the top k
(success@k); nDCG@10 uses binary gains over all relevant passages.

``--sections``: each section heading of one language version is the query,
its own section in the other version the target (both directions).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KBError
from kb.settings import load_settings
from search.modes import Highlighting, SearchMode
from search.searcher import Hit, Searcher

KS = (1, 5, 10)


@dataclass(frozen=True)
class Evaluation:
    id: str
    query: str
    lang: str
    target: str
    sections: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "same-language" if self.lang == self.target else "cross-language"


def _in_section(path: tuple[str, ...], sections: tuple[str, ...]) -> bool:
    return any(p == s or p.startswith(s + " ") for p in path for s in sections)


def load_qrels(path: Path) -> list[Evaluation]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            for target in q["targets"]:
                out.append(
                    Evaluation(
                        q["id"], q["query"], q["lang"], target, tuple(q["relevant"]["section"])
                    )
                )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise KBError(f"{path}:{n}: not a qrels line ({exc})") from exc
    return out


def heading_evaluations(a: Path, b: Path) -> list[Evaluation]:
    """Heading of each section in one file → that section in the other, both ways."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in (a, b)]
    out = []
    for src, dst in ((docs[0], docs[1]), (docs[1], docs[0])):
        targets = {s["section"] for s in dst}
        for s in src:
            if s["section"] in targets and s.get("heading"):
                out.append(
                    Evaluation(
                        f"{s['lang']}:{s['section']}",
                        s["heading"],
                        s["lang"],
                        dst[0]["lang"],
                        (s["section"],),
                    )
                )
    return out


def score(hits: list[Hit], relevant_total: int, sections: tuple[str, ...]) -> dict:
    rel = [_in_section(h.section, sections) for h in hits[:10]]
    first = next((i for i, r in enumerate(rel) if r), None)
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rel) if r)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(relevant_total, 10)))
    out = {f"recall@{k}": float(first is not None and first < k) for k in KS}
    out["mrr@10"] = 0.0 if first is None else 1 / (first + 1)
    out["ndcg@10"] = dcg / ideal if ideal else 0.0
    return out


def evaluate(searcher: Searcher, evaluations: list[Evaluation], modes=tuple(SearchMode)) -> dict:
    """{mode: {group: {metric: mean}}} with groups "all", "same-language",
    "cross-language" and "query <lang>"; plus per-query ranks under "runs"."""
    totals: dict[tuple, int] = {}
    for ev in evaluations:
        key = (ev.target, ev.sections)
        if key not in totals:
            totals[key] = sum(
                1
                for c in searcher.chunks
                if c.lang == ev.target and _in_section(c.section, ev.sections)
            )
    report: dict = {"n": len(evaluations), "modes": {}, "runs": []}
    for mode in modes:
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        counts: dict[str, int] = defaultdict(int)
        for ev in evaluations:
            hits = searcher.search(
                ev.query, k=10, mode=mode, languages=[ev.target], highlight=Highlighting.NONE
            )
            s = score(hits, totals[(ev.target, ev.sections)], ev.sections)
            rank = next((h.rank for h in hits if _in_section(h.section, ev.sections)), None)
            report["runs"].append({"id": ev.id, "target": ev.target, "mode": mode, "rank": rank})
            for group in ("all", ev.kind, f"query {ev.lang}", f"{ev.lang}→{ev.target}"):
                counts[group] += 1
                for metric, value in s.items():
                    sums[group][metric] += value
        report["modes"][mode] = {
            g: {m: v / counts[g] for m, v in metrics.items()} | {"n": counts[g]}
            for g, metrics in sums.items()
        }
    return report


def markdown(report: dict, groups: list[str] | None = None) -> str:
    metrics = [f"recall@{k}" for k in KS] + ["mrr@10", "ndcg@10"]
    modes = list(report["modes"])
    groups = groups or sorted(report["modes"][modes[0]], key=lambda g: (g != "all", g))
    lines = [
        "| queries | n | mode | " + " | ".join(metrics) + " |",
        "| --- | ---: | --- |" + " ---: |" * len(metrics),
    ]
    for g in groups:
        for mode in modes:
            row = report["modes"][mode].get(g)
            if row:
                cells = " | ".join(f"{row[m]:.3f}" for m in metrics)
                lines.append(f"| {g} | {row['n']} | {mode} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.evaluate", description="Measure retrieval quality."
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--qrels", type=Path, help="labelled queries (JSONL)")
    src.add_argument(
        "--sections",
        type=Path,
        nargs=2,
        metavar="SECTIONS_JSON",
        help="two section-aligned JSON files: heading → section check",
    )
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument(
        "--mode",
        choices=list(SearchMode),
        type=SearchMode.from_str,
        action="append",
        help="only this mode (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--backend", help="a postgresql:// address to search instead (default: $KB_BACKEND)"
    )
    args = p.parse_args(argv)
    settings = load_settings(index_dir=args.index, backend=args.backend)
    try:
        evaluations = load_qrels(args.qrels) if args.qrels else heading_evaluations(*args.sections)
        searcher = Searcher.load(settings.index_dir, settings)
        report = evaluate(searcher, evaluations, args.mode or tuple(SearchMode))
    except (KBError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
