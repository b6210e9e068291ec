"""The entries of sources.toml that have no address, given the one the
official pages link to.

sources.toml names documents whose address nobody recorded yet (the Swedish
and English strategy, the annexes, the situation report: "identifier not
known yet"), while the pages fetch reads link to exactly those documents
(ingest/fetching/discovery.py). An entry with no ``url``, ``handle`` or
``urn`` takes the address of the one discovered document that is the same
kind in the same language and

- shares the entry's ``group`` (a publication page's link to its version in
  another language, found from a grouped entry), or else
- is the only one of that kind and language whose link text carries every
  number of the entry's id and title ("annex-1-…" and "Liite 1 …",
  "situation-report-2020-…" and "… tilannekuva 2020").

Anything less certain fills nothing: two entries that would take the same
document, or an entry with two candidates, stay as they are. The entry keeps
its id, file, title and group (sources.toml overrides everything); only the
address is taken, with a note saying where it was found. sources.toml itself
is never written.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from ingest.corpus.sources import Source, load_sources
from ingest.fetching.discovery import Discovered, DiscoveredFileError, read_discovered
from kb.terminal import printable

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+")


def has_address(source: Source) -> bool:
    return bool(source.url or source.handle or source.urn)


def fill_entries(sources: list[Source], found: list[Discovered]) -> list[Source]:
    """``sources`` with each address-less entry that one discovery matches
    given that discovery's address (see the module's docstring)."""
    taken = {s.url for s in sources if s.url}
    free = [d for d in found if d.url not in taken]
    picks: dict[str, Discovered] = {}
    for s in sources:
        if not has_address(s) and s.lang and (d := _match(s, free)) is not None:
            picks[s.id] = d
    chosen = [d.url for d in picks.values()]
    out = []
    for s in sources:
        d = picks.get(s.id)
        if d is None or chosen.count(d.url) > 1:  # two entries, one document: neither
            out.append(s)
            continue
        where = d.found_at or d.found_on
        note = f"address found on {where}" + (f"; {s.note}" if s.note else "")
        out.append(replace(s, url=d.url, note=note))
    return out


def _match(entry: Source, found: list[Discovered]) -> Discovered | None:
    same = [d for d in found if d.kind == entry.kind and d.lang_hint == entry.lang]
    grouped = [d for d in same if entry.group and d.group == entry.group]
    if len(grouped) == 1:
        return grouped[0]
    numbers = set(_NUMBER.findall(f"{entry.id} {entry.title}"))
    numbered = [d for d in same if numbers <= set(_NUMBER.findall(d.title_hint))]
    return numbered[0] if len(numbered) == 1 else None


def filled_sources(corpus_dir: Path, sources: list[Source] | None = None) -> list[Source]:
    """sources.toml's entries (``sources`` if given), filled from the
    recorded discoveries; as they are when there are none or the record is
    unreadable (logged: fetch says what to do with it). Raises SourcesError."""
    if sources is None:
        sources = load_sources(corpus_dir)
    try:
        found = read_discovered(corpus_dir)
    except DiscoveredFileError as exc:
        logger.warning("%s", printable(exc))
        return sources
    return fill_entries(sources, found) if found else sources


def fills(sources: list[Source], found: list[Discovered]) -> dict[str, Source]:
    """Address -> the entry of ``sources`` (filled) that the discovery at
    that address gives its address to."""
    pairs = zip(sources, fill_entries(sources, found), strict=True)
    return {f.url: f for s, f in pairs if f.url != s.url}


def filled_by(corpus_dir: Path) -> dict[str, str]:
    """Address -> id of the entry of sources.toml each recorded discovery
    fills. Raises SourcesError, DiscoveredFileError."""
    found = fills(load_sources(corpus_dir), read_discovered(corpus_dir))
    return {url: entry.id for url, entry in found.items()}
