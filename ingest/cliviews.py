"""Listings of the command line that are more than a line or two."""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.corpus.sources import SourcesError
from kb.terminal import printable


def discovered_rows(corpus_dir: Path) -> list[dict]:
    from ingest.fetching.discovery import DiscoveredFileError, discovered_states

    try:
        return discovered_states(corpus_dir)
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
