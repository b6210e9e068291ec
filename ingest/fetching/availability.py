"""Which official documents of sources.toml are here, at a glance.

Each ``[[document]]`` is *present* (its file is in the corpus folder),
*missing* (with what to do: ``python -m ingest fetch`` and the address it
would download, or where to put the file by hand) or *failed* (with the
reason: the last fetch could not get it, or the build could not read it).

The last fetch's outcome per source is kept in ``.fetch-state.json``
beside ``sources.toml`` (hidden, so never indexed; not for committing),
written by ``python -m ingest fetch`` after each source.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ingest.corpus.sources import Source
from ingest.fetching.filling import filled_sources
from ingest.fetching.httpread import FetchOptions
from ingest.fetching.results import Availability, FetchStatus, addresses
from ingest.reading.webpage import is_html_file, read_snapshot
from ingest.storage.stores import live_manifest
from kb.errors import KBError
from kb.index.manifest import FileEntry
from kb.terminal import printable

logger = logging.getLogger(__name__)

STATE_FILE = ".fetch-state.json"


class Why(StrEnum):
    """Why a document needs attention, or what to do: a code the page words
    in its language (kb/labels: ``reason_<code>``, with the values below)."""

    UNREADABLE = "unreadable"  # the build could not read it (detail: its reason)
    FETCH_FAILED = "fetch_failed"  # {when} (detail: the fetch's reason)
    KEPT = "kept"  # {when}: the last fetch failed, its earlier snapshot kept
    SNAPSHOT = "snapshot"  # {when}: a web page's snapshot
    NOT_INDEXED = "not_indexed"  # here, not in the index yet
    FETCH_PDF = "fetch_pdf"  # {url}, {path}: fetch downloads it, or put it there
    FETCH_PAGE = "fetch_page"  # {url}, {path}: fetch keeps a snapshot, or save it there
    PUT_PDF = "put_pdf"  # {path}: no address known
    PUT_FILE = "put_file"  # {path}


@dataclass(frozen=True)
class Reason:
    """One reason or step: its code, the values its wording takes, and the
    tool's own words (English free text, e.g. a fetch's error), if any."""

    why: Why
    values: tuple[tuple[str, str], ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class SourceState:
    id: str
    title: str
    lang: str
    kind: str
    path: str  # where its file is or goes, relative to the corpus folder
    state: Availability
    detail: str  # what to do, or why it failed (English, for the command line)
    url: str = ""
    reasons: tuple[Reason, ...] = ()  # the same, as codes the page translates


def expected_path(source: Source) -> str:
    """Where a source's file is, or goes: its ``file``, else where fetch
    puts a PDF (``official/<id>.pdf``)."""
    return source.file or f"official/{source.id}.pdf"


def source_states(
    corpus_dir: Path, indexed: dict[str, FileEntry] | None = None
) -> list[SourceState]:
    """The state of every document of ``corpus_dir``'s sources.toml, in its
    order. ``indexed``: the index manifest's files (path -> entry), to tell
    files the build could not read. Raises SourcesError."""
    last = read_fetch_states(corpus_dir)
    out = []
    for src in filled_sources(corpus_dir):
        rel = expected_path(src)
        state, detail, reasons = _state(src, corpus_dir, rel, indexed, last.get(src.id))
        out.append(
            SourceState(src.id, src.title, src.lang, src.kind, rel, state, detail, src.url, reasons)
        )
    return out


def _state(src: Source, corpus_dir: Path, rel: str, indexed, fetched) -> tuple:
    """(state, what to do or why in English, the same as Reasons)."""
    path = corpus_dir / rel
    shown = f"{corpus_dir.name}/{rel}"
    last_failure, kept, failure = "", False, None
    if isinstance(fetched, dict) and fetched.get("status") in (
        FetchStatus.FAILED,
        FetchStatus.KEPT,
    ):
        kept = fetched["status"] == FetchStatus.KEPT  # a snapshot that could not be checked
        when, said = str(fetched.get("at", "?")), str(fetched.get("detail", ""))
        last_failure = f"fetch of {when} failed: {said}"
        failure = Reason(Why.KEPT if kept else Why.FETCH_FAILED, (("when", when),), said)
    if path.is_file():
        entry = (indexed or {}).get(rel)
        if entry is not None and entry.failed:
            error = entry.error
            reason = Reason(Why.UNREADABLE, (), error)
            return Availability.FAILED, f"the build could not read it: {error}", (reason,)
        notes, reasons = [], []
        snapshot = read_snapshot(path) if is_html_file(rel) else None
        if snapshot:
            notes.append(f"snapshot of {snapshot.retrieved}")
            reasons.append(Reason(Why.SNAPSHOT, (("when", snapshot.retrieved),)))
        if indexed is not None and entry is None:
            notes.append("not indexed yet: run python -m ingest")
            reasons.append(Reason(Why.NOT_INDEXED))
        if kept:
            notes.append(f"the last {last_failure}")
            reasons.append(failure)
        return Availability.PRESENT, "; ".join(notes), tuple(reasons)
    todo, step = _what_to_do(src, shown)
    if last_failure:
        said = shown in last_failure  # the fetch's reason says where to put it already
        detail = last_failure if said else f"{last_failure}; to get it: {todo}"
        return Availability.FAILED, detail, (failure, step)
    return Availability.MISSING, todo, (step,)


def _what_to_do(src: Source, shown: str) -> tuple[str, Reason]:
    urls = addresses(src, FetchOptions())
    where = ("path", shown)
    if is_html_file(shown) and urls:
        return (
            f"python -m ingest fetch (keeps a snapshot of {urls[0]}), or save the page at {shown}",
            Reason(Why.FETCH_PAGE, (("url", urls[0]), where)),
        )
    if urls and shown.lower().endswith(".pdf"):
        return (
            f"python -m ingest fetch (downloads it from {urls[0]}), or put the PDF at {shown}",
            Reason(Why.FETCH_PDF, (("url", urls[0]), where)),
        )
    if shown.lower().endswith(".pdf"):
        return (
            f"put the PDF at {shown} (no address known: add url, handle or urn to sources.toml)",
            Reason(Why.PUT_PDF, (where,)),
        )
    return f"put the file at {shown}", Reason(Why.PUT_FILE, (where,))


def indexed_files(index_dir: Path, backend: str = "") -> dict[str, FileEntry] | None:
    """The index manifest's files (path -> entry), or None where there is
    no readable index (``backend``: in that PostgreSQL database)."""
    try:
        return live_manifest(index_dir, backend)[1].files
    except KBError:
        return None


# ---------------------------------------------------------------- last fetch


def read_fetch_states(corpus_dir: Path) -> dict[str, dict]:
    """The last fetch's outcome by source id; {} when none is recorded or
    the file is unreadable (it is only a report)."""
    try:
        data = json.loads((corpus_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_fetch(
    corpus_dir: Path, states: dict[str, dict], doc_id: str, status: FetchStatus, detail: str
):
    """Add one source's outcome to ``states`` and write them; a state file
    that cannot be written is logged, not fatal (the fetch report said it)."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    states[doc_id] = {"status": status, "detail": detail, "at": at}
    path = corpus_dir / STATE_FILE
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{STATE_FILE}.", suffix=".tmp", dir=corpus_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dict(sorted(states.items())), f, indent=2, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("could not write %s: %s", printable(path), printable(exc))
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
