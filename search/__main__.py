"""Command line::

python -m search [--index index/] "query" [-k 10] [--mode hybrid] [--lang fi,sv]
                 [--doc ID] [--kind strategy] [--json]
python -m search --queries-file FILE [...]    # one JSON line per query
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

from ingest.errors import KBError
from ingest.settings import load_settings

from .searcher import MODES, Hit, QueryError, Searcher


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def hit_json(hit: Hit) -> dict:
    d = asdict(hit)
    d["section"] = list(hit.section)
    d["citation"] = hit.citation
    return d


def read_queries(path: Path) -> list[str]:
    """One query per line, or JSONL objects with a "query" field."""
    queries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                queries.append(str(json.loads(line)["query"]))
            except (json.JSONDecodeError, KeyError) as exc:
                raise QueryError(f'{path}:{n}: not a JSON object with a "query" field') from exc
        else:
            queries.append(line)
    return queries


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        print("no results")
    for h in hits:
        section = " › ".join(h.section) or "-"
        print(f"{h.rank:2}. {h.title} [{h.lang}] p. {h.pages} · {section}  ({h.score:.4f})")
        snippet = " ".join(h.text.split())
        print(textwrap.indent(textwrap.shorten(snippet, 300), "    "))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m search", description="Search the index.")
    p.add_argument("query", nargs="?")
    p.add_argument("--queries-file", type=Path, help='one query per line, or JSONL with "query"')
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--lang", help="only these languages, comma-separated (fi,sv,en)")
    p.add_argument("--doc", help="only these document ids, comma-separated")
    p.add_argument("--kind", help="only these kinds, comma-separated")
    p.add_argument("--json", action="store_true", help="print a JSON array of hits")
    args = p.parse_args(argv)
    if (args.query is None) == (args.queries_file is None):
        p.error("give a query or --queries-file, not both")
    if args.k < 1:
        p.error("-k must be at least 1")
    settings = load_settings(index_dir=args.index)
    filters = {"languages": _csv(args.lang), "docs": _csv(args.doc), "kinds": _csv(args.kind)}
    try:
        queries = read_queries(args.queries_file) if args.queries_file else [args.query]
        searcher = Searcher.load(settings.index_dir, settings)
        if args.queries_file:
            for q in queries:
                hits = searcher.search(q, k=args.k, mode=args.mode, **filters)
                print(
                    json.dumps(
                        {"query": q, "hits": [hit_json(h) for h in hits]}, ensure_ascii=False
                    )
                )
            return 0
        hits = searcher.search(args.query, k=args.k, mode=args.mode, **filters)
    except (KBError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([hit_json(h) for h in hits], ensure_ascii=False, indent=2))
    else:
        _print_hits(hits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
