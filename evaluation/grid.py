"""Issue 25's measurement in one run: the base model and an adapted one,
each with and without the lexical bridge, beside the naive pipeline, over
several question sets and both corpus set-ups, judged by
``evaluation.heldout``'s judge.

    python -m evaluation.grid --model .cache/models/<adapted> \\
        --questions eval/heldout.qrels.jsonl --questions eval/fresh4.qrels.jsonl

Each question set is reported by its questions' ``split`` (dev, test,
fresh4, ...). "Without the bridge" is search with no bilingual dictionary
(as on a machine without them): ``search.bridge`` bridges no language. The
base model's indexes live under ``WORK/base``, the adapted one's under
``WORK/adapted``; both are built (or brought up to date) first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from evaluation import heldout
from kb.settings import PROJECT_ROOT

MODES = ("dense", "bm25", "hybrid")


def run_grid(
    questions: list[heldout.Question], work: Path, model: str | None, setups, modes
) -> list[dict]:
    """One row per (model, bridge, set-up, mode, set): its per-question records."""
    from search import bridge

    rows = []
    variants = [("base", None)] + ([("adapted", model)] if model else [])
    for name, folder in variants:
        for bridged in (True, False):
            kept = bridge.BRIDGE_FROM
            bridge.BRIDGE_FROM = kept if bridged else ()
            try:
                wanted = (["naive"] if name == "base" and bridged else []) + list(modes)
                runs = heldout.run(questions, work / name, setups, wanted, False, model=folder)
            finally:
                bridge.BRIDGE_FROM = kept
            for setup, by_mode in runs.items():
                for mode, records in by_mode.items():
                    if mode == "dense" and not bridged:
                        continue  # dense does not read the dictionaries: the same as above
                    label = "–" if mode == "naive" else name
                    on = "–" if mode in ("naive", "dense") else ("on" if bridged else "off")
                    rows.append(
                        {
                            "model": label,
                            "bridge": on,
                            "setup": setup,
                            "mode": mode,
                            "records": records,
                        }
                    )
    return rows


def by_set(rows: list[dict], questions: list[heldout.Question]) -> dict[str, list[dict]]:
    """The rows split by the questions' ``split``, in the order the sets came."""
    split_of = {q.id: q.split for q in questions}
    sets: dict[str, list[dict]] = defaultdict(list)
    for name in dict.fromkeys(q.split for q in questions):
        for row in rows:
            records = [r for r in row["records"] if split_of[r["id"]] == name]
            sets[name].append({**row, "records": records})
    return sets


def markdown(sets: dict[str, list[dict]]) -> str:
    lines = [
        f"| set | model | bridge | set-up | mode | {heldout.METRIC_COLUMNS}",
        "| --- | --- | --- | --- | --- |" + " ---: |" * 8,
    ]
    for name, rows in sets.items():
        for row in rows:
            lines.append(
                f"| {name} | {row['model']} | {row['bridge']} | {row['setup']} | {row['mode']} "
                f"| {heldout.metric_cells(row['records'])}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.grid", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="a question set (repeatable; default: eval/heldout.qrels.jsonl, both halves)",
    )
    p.add_argument("--model", help="an adapted model folder (python -m ingest adapt)")
    p.add_argument("--setup", choices=heldout.SETUPS, action="append", help="default: both")
    p.add_argument("--mode", choices=MODES, action="append", help="default: all three")
    p.add_argument("--work", type=Path, default=PROJECT_ROOT / ".cache" / "grid")
    p.add_argument("--json", type=Path, help="also write the per-question records here")
    args = p.parse_args(argv)
    if not heldout.FINLEX.is_dir() or not heldout.THEME.is_file():
        print(f"error: {heldout.SHARED} is not beside this checkout", file=sys.stderr)
        return 2
    paths = args.questions or [PROJECT_ROOT / "eval" / "heldout.qrels.jsonl"]
    questions = [q for path in paths for q in heldout.load_questions(path)]
    rows = run_grid(
        questions, args.work, args.model, args.setup or heldout.SETUPS, args.mode or MODES
    )
    sets = by_set(rows, questions)
    print(f"{len(questions)} questions: " + ", ".join(f"{k}" for k in sets))
    print(markdown(sets))
    if args.json:
        args.json.write_text(json.dumps(sets, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
