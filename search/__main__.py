"""Command line: ``python -m search [--index index/] "query" [-k 10] [--lang fi,sv] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

from ingest.errors import KBError
from ingest.settings import load_settings

from .searcher import Searcher


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m search", description="Search the index.")
    p.add_argument("query")
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--lang", help="only these languages, comma-separated (fi,sv,en)")
    p.add_argument("--doc", help="only these document ids, comma-separated")
    p.add_argument("--json", action="store_true", help="print a JSON array of hits")
    args = p.parse_args(argv)
    if args.k < 1:
        p.error("-k must be at least 1")
    settings = load_settings(index_dir=args.index)
    try:
        searcher = Searcher.load(settings.index_dir, settings)
        hits = searcher.search(args.query, k=args.k, languages=_csv(args.lang), docs=_csv(args.doc))
    except KBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no results")
    for h in hits:
        section = " › ".join(h.section) or "-"
        print(f"{h.rank:2}. {h.title} [{h.lang}] p. {h.page_label} · {section}  ({h.score:.3f})")
        snippet = " ".join(h.text.split())
        print(textwrap.indent(textwrap.shorten(snippet, 300), "    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
