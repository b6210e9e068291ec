"""Listings of the command line that are more than a line or two."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from ingest.corpus.sources import SourcesError
from kb.errors import KBError
from kb.terminal import ExitCode, printable


def discovered_rows(corpus_dir: Path) -> list[dict]:
    from ingest.fetching.discovery import DiscoveredFileError, discovered_states
    from ingest.fetching.filling import filled_by

    try:
        rows, fills = discovered_states(corpus_dir), filled_by(corpus_dir)
        for row in rows:  # the address of an entry of sources.toml: listed there
            if row["url"] in fills:
                row.update(state="entry", path=f"= {fills[row['url']]}")
        return rows
    except (DiscoveredFileError, SourcesError) as exc:
        print(f"warning: {printable(exc)}", file=sys.stderr)
        return []


def print_discovered(found: list[dict]) -> None:
    """The documents fetch found on the official pages, and where."""
    if not found:
        return
    print(f"discovered on the official pages (sources.discovered.json): {len(found)}")
    for d in found:
        print(
            f"  {printable(d['id']):32} {d['state']:8} {printable(d['path'])}: "
            f"{printable(d['kind'])}, {printable(d['lang_hint'] or '-')}, "
            f"{printable(d['title_hint'])!r} on {printable(d['found_on'])} ({printable(d['found_at'])})"
        )


def print_sources(states) -> None:
    """The official documents at a glance: a count, then one line each."""
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in counts.items()) or "none listed"
    print(f"official documents (sources.toml): {summary}")
    for s in states:
        detail = f": {printable(s.detail)}" if s.detail else ""
        print(f"  {printable(s.id):32} {s.state:8} {printable(s.path)}{detail}")


def status_sources(settings, as_json: bool) -> int:
    """``status --sources``: every official document of sources.toml, and
    the documents discovered on the official pages."""
    from ingest.fetching.availability import indexed_files, source_states

    try:
        states = source_states(
            settings.corpus_dir, indexed_files(settings.index_dir, settings.backend)
        )
    except KBError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    found = discovered_rows(settings.corpus_dir)
    if as_json:
        sources = {"sources": [asdict(s) for s in states], "discovered": found}
        print(json.dumps(sources, indent=2, ensure_ascii=False))
    else:
        print_sources(states)
        print_discovered(found)
    return ExitCode.OK
