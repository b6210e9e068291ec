"""``python -m search feedback``: what readers said, for the team.

python -m search feedback [--index index/] [--top 20]     # questions left unanswered
python -m search feedback --export [--out FILE]           # eval/*.qrels.jsonl lines

The export writes one line per question (as asked, per page language) in
the format of ``eval/heldout.qrels.jsonl``, which
``evaluation.heldout.load_questions`` reads:

- ``relevant``: the passages readers marked "answered my question" more
  often than "did not", as ``{"doc", "section"}`` in the labelled sets'
  terms: ``doc`` is the document's group (its language versions together,
  "hankintalaki") or its id; ``section`` the deepest numbered section
  ("25 §", "38 a §") or else the deepest heading ("Mål");
- ``source``: "none" when nobody said any passage or answer answered it
  (only "did not", or the search found no relevant passage): a question
  the documents may not answer, as the sets' no-answer questions are;
  otherwise "feedback" (answerable; a line with an empty ``relevant`` was
  judged on the answer box only, and needs its section before it joins a
  set);
- ``split``: "feedback";
- fields the reader ignores, for the review: ``not_relevant`` (passages
  marked "did not" more often than "answered") and ``feedback`` (every
  count, the passages judged, the index generations, the first and last
  time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from kb.errors import KBError, SettingsError
from kb.settings import load_settings
from kb.terminal import ExitCode, printable
from kb.text.headings import title_key
from search.feedback import Feedback, FeedbackStore, Verdict, question_key

SPLIT = "feedback"


def qrels_section(section: tuple[str, ...]) -> str:
    """A section path in the labelled sets' terms: "25 §" for a statute's
    section (its heading's words differ per language), else the deepest
    heading as written."""
    for title in reversed(section):
        key = title_key(title) or ""
        if key.endswith("§"):
            number = key[:-1]
            letter = number[-1] if number[-1].isalpha() else ""
            return f"{number[: len(number) - len(letter)]} {letter + ' ' if letter else ''}§"
    return " ".join(section[-1].split()) if section else ""


def _passage(record: Feedback) -> tuple[str, str]:
    return (record.group or record.doc_id or "", qrels_section(record.section))


def _line(records: list[Feedback]) -> dict:
    """One question's line from its records (oldest first)."""
    first = records[0]
    counts = Counter(r.verdict for r in records)
    judged: dict[tuple[str, str], Counter] = defaultdict(Counter)
    box = Counter()
    for r in records:
        if r.doc_id is not None:
            judged[_passage(r)][r.verdict] += 1
        elif r.verdict is not Verdict.NO_PASSAGE:
            box[r.verdict] += 1

    def passages(wins: Verdict, loses: Verdict) -> list[dict]:
        return [
            {"doc": doc, "section": section}
            for (doc, section), c in judged.items()
            if c[wins] > c[loses]
        ]

    relevant = passages(Verdict.ANSWERED, Verdict.DID_NOT)
    digest = hashlib.sha256(f"{first.lang}\n{question_key(first.question)}".encode()).hexdigest()
    return {
        "id": f"feedback-{digest[:12]}-{first.lang}",
        "query": first.question,
        "lang": first.lang,
        "split": SPLIT,
        "source": "feedback" if counts[Verdict.ANSWERED] else "none",
        "relevant": relevant,
        "not_relevant": passages(Verdict.DID_NOT, Verdict.ANSWERED),
        "feedback": {
            "answered": counts[Verdict.ANSWERED],
            "did_not": counts[Verdict.DID_NOT],
            "no_passage": counts[Verdict.NO_PASSAGE],
            "answer_box": {"answered": box[Verdict.ANSWERED], "did_not": box[Verdict.DID_NOT]},
            "passages": [
                {
                    "doc": doc,
                    "section": section,
                    "answered": c[Verdict.ANSWERED],
                    "did_not": c[Verdict.DID_NOT],
                }
                for (doc, section), c in judged.items()
            ],
            "generations": sorted({r.generation for r in records}),
            "first": first.created,
            "last": records[-1].created,
        },
    }


def qrels_lines(records: list[Feedback]) -> list[dict]:
    """The export's lines, one per question and page language, in the order
    the questions were first asked."""
    by_question: dict[tuple[str, str], list[Feedback]] = defaultdict(list)
    for r in records:
        by_question[(question_key(r.question), r.lang)].append(r)
    return [_line(rs) for rs in by_question.values()]


def _write(lines: list[dict], out: Path | None) -> None:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if out is None:
        sys.stdout.write(text)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out)  # a reader sees the old file or the whole new one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m search feedback",
        description="Readers' verdicts: the questions left unanswered, or an export.",
    )
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument("--export", action="store_true", help="write eval/*.qrels.jsonl lines")
    p.add_argument("--out", type=Path, help="with --export: this file instead of stdout")
    p.add_argument("--top", type=int, default=20, help="questions listed (default 20)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.out and not args.export:
        p.error("--out goes with --export")
    if args.top < 1:
        p.error("--top must be at least 1")
    try:
        settings = load_settings(index_dir=args.index)
        store = FeedbackStore.beside(settings.index_dir)
        if args.export:
            lines = qrels_lines(store.records())
            _write(lines, args.out)
            if args.out:
                print(f"{len(lines)} questions written to {printable(args.out)}", file=sys.stderr)
            return ExitCode.OK
        unanswered = store.unanswered(args.top)
    except SettingsError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    except (KBError, OSError) as exc:  # a store that cannot be read, an output file
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.FAILED
    if settings.feedback == "off":
        print("feedback is off (KB_FEEDBACK=off): the page records nothing", file=sys.stderr)
    if not unanswered:
        print("no question marked unanswered")
    for u in unanswered:
        print(
            f"{u.total:4}  [{printable(u.lang)}] {printable(u.question)}"
            f"  (did not: {u.did_not}, no passage found: {u.no_passage})"
        )
    return ExitCode.OK
