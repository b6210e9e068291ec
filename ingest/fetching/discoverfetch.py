"""Fetching the documents discovered on the official pages
(ingest/fetching/discovery.py) through the same code as every source
(``fetch.fetch_all``'s ``fetch_source``: same download, limits and lock)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from ingest.corpus.sources import Source
from ingest.fetching.discovery import (
    Discovered,
    as_source,
    discover,
    entry_as_discovered,
    read_discovered,
    version_links,
    versions_found,
    write_discovered,
)
from ingest.fetching.filling import fills
from ingest.fetching.httpread import FetchOptions
from ingest.fetching.results import FetchResult

logger = logging.getLogger(__name__)


def fetch_discovered(
    corpus_dir: Path,
    sources: list[Source],
    options: FetchOptions,
    fetch_source: Callable[[Source], FetchResult],
    landings: list[tuple[Source, tuple[str, str]]] = (),
    fetched: set[str] = frozenset(),
) -> list[Discovered]:
    """Find the documents the pages' snapshots link to, record them, fetch
    each (a publication page's versions in other languages too, found as
    its page is read: ``landings`` are those of sources.toml's entries read
    by this fetch); returns the record. A document already fetched and
    matching the lock costs no request. A discovery that gives an
    address-less entry of sources.toml its address (ingest/fetching/filling.py)
    is fetched as that entry, unless the entry's id is in ``fetched``."""
    previous = read_discovered(corpus_dir)
    found = discover(corpus_dir, sources, previous, options.handle_base)
    for source, landing in landings:
        if version_links(landing[1], landing[0]):
            found = versions_found(entry_as_discovered(source), landing, found, sources)
    if found or previous:  # offline on a fresh clone: no empty file
        write_discovered(corpus_dir, found)
    done: set[str] = set()
    queue = list(found)
    entries = fills(sources, found)  # address -> the address-less entry it fills
    while queue:
        d = queue.pop(0)
        if d.id in done:
            continue
        done.add(d.id)
        entry = entries.get(d.url)
        if entry is not None and entry.id in fetched:
            continue
        result = fetch_source(entry or as_source(d))
        if result.landing is None or not _same_site(result.landing[0], d.url):
            continue
        if not version_links(result.landing[1], result.landing[0]):
            continue
        found = versions_found(d, result.landing, found, sources)
        entries = fills(sources, found)
        write_discovered(corpus_dir, found)
        queue += [x for x in found if x.id not in done and x not in queue]
    logger.info("%d discovered documents", len(found))
    return found


def _same_site(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()
