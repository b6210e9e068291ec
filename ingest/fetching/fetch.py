"""Download the official PDFs and web pages named in corpus/sources.toml,
verified against corpus/sources.lock. (Web pages: webfetch.py; the
other files of a publication: dspace.py.)

A source is fetched from the first of its addresses that works: its ``url``
(a PDF, or a landing page), its Valto ``handle`` page, its ``urn`` through the
URN resolver. A landing page leads to the PDF through its
``<meta name="citation_pdf_url">``, as DSpace repositories publish it.

Nothing existing is ever replaced: a file is written to a temporary name in
the destination folder and renamed only when it is complete, is a PDF, and
matches the lock file. A download that does not match the lock is kept
aside under a name the indexer ignores, and reported.

Only this command's modules (this one, download, httpread, webfetch, dspace)
open network connections, and only when ``python -m ingest fetch`` runs (or a
document is added by address from the page, ingest/corpus/address.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from ingest.corpus.sources import Source, load_sources
from ingest.fetching.availability import read_fetch_states, record_fetch
from ingest.fetching.download import (
    FetchError,
    FetchLockedError,
    FetchOptions,
    citation_pdf_url,
    dest_lock,
    download,
    session,
)
from ingest.fetching.dspace import item_files
from ingest.fetching.lock import (
    LOCK_FILE,
    LockFileError,
    locked_entry,
    read_lock,
    write_lock,
)
from ingest.fetching.results import (
    FetchReport,
    FetchResult,
    FetchStatus,
    addresses,
    check_present,
    offline_message,
    place_download,
    shown_path,
)
from ingest.fetching.webfetch import fetch_page
from ingest.reading.webpage import is_html_file
from kb.terminal import printable

__all__ = [
    "FetchError",
    "FetchLockedError",
    "FetchOptions",
    "FetchReport",
    "FetchResult",
    "LockFileError",
    "addresses",
    "citation_pdf_url",
    "fetch_all",
    "read_lock",
    "write_lock",
]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- addresses


# ---------------------------------------------------------------- sources


def fetch_all(
    sources_file: Path,
    dest_dir: Path,
    options: FetchOptions | None = None,
    on_result: Callable[[FetchResult], None] | None = None,
    discover: bool = True,
) -> FetchReport:
    """Fetch every source of ``sources_file`` that has an address into
    ``dest_dir`` as ``<id>.pdf`` (a publication's other files as
    ``<id>--<name>.pdf``; a web page to its snapshot file); verify against
    the lock file beside it.

    Raises SourcesError, LockFileError (the lock file as a whole) or
    FetchError (``dest_dir`` unusable, another fetch into it running) before
    anything is fetched; after that, whatever goes wrong with one source is
    that source's FAILED result, and the next source is fetched.

    With ``discover``, the documents the web pages link to are found and
    fetched too (ingest/fetching/discovery.py); a sources.discovered.json that
    cannot be read raises DiscoveredFileError before anything is fetched."""
    options = options or FetchOptions()
    corpus_dir = sources_file.parent
    lock_path = corpus_dir / LOCK_FILE
    lock = read_lock(lock_path)
    sources = load_sources(corpus_dir, sources_file.name)
    entries = sources  # as fetched: with the addresses found on the pages
    if discover:
        from ingest.fetching.discovery import read_discovered
        from ingest.fetching.filling import fill_entries

        entries = fill_entries(sources, read_discovered(corpus_dir))  # readable, first
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create {dest_dir} ({exc.strerror or exc})") from exc
    report = FetchReport()
    states = read_fetch_states(corpus_dir)
    with dest_lock(dest_dir) as removed, session(options) as http:
        report.removed_parts = removed
        for name in removed:
            logger.info("removed %s, left by an interrupted fetch", printable(dest_dir / name))

        def fetch_source(source: Source) -> FetchResult:
            result = _fetch_one(http, source, dest_dir, corpus_dir, lock, options)
            more = _more_files(http, source, result, dest_dir, corpus_dir, lock, options)
            for r in [result, *more]:
                if r.status == FetchStatus.FETCHED or (
                    r.status == FetchStatus.UP_TO_DATE and r.id not in lock
                ):
                    _record(lock_path, lock, r, _target(source, r, dest_dir, corpus_dir))
                report.results.append(r)
                record_fetch(corpus_dir, states, r.id, r.status, r.detail)
                if on_result:
                    on_result(r)
            return result

        landings = []  # publication pages read: they may link to other-language versions
        for source in entries:
            result = fetch_source(source)
            if result.landing is not None:
                landings.append((source, result.landing))
        if discover:
            from ingest.fetching.discoverfetch import fetch_discovered

            done = {s.id for s in entries if s.url}
            fetch_discovered(corpus_dir, sources, options, fetch_source, landings, done)
    return report


def _more_files(http, source: Source, result: FetchResult, dest_dir, corpus_dir, lock, options):
    """The other files of the publication ``source`` names (dspace.py)."""
    if is_html_file(source.file) or result.status not in (
        FetchStatus.FETCHED,
        FetchStatus.UP_TO_DATE,
    ):
        return []
    if bundled_file(source, dest_dir, corpus_dir):
        return []
    if not addresses(source, options):
        return []
    return item_files(http, source, result, dest_dir, corpus_dir, lock, options)


def _target(source: Source, result: FetchResult, dest_dir: Path, corpus_dir: Path) -> Path:
    """Where fetch put a result: a web page at its file, a PDF in ``dest_dir``."""
    if is_html_file(source.file):
        return corpus_dir / source.file
    if result.id == source.id and (own := bundled_file(source, dest_dir, corpus_dir)):
        return own
    return dest_dir / f"{result.id}.pdf"


def bundled_file(source: Source, dest_dir: Path, corpus_dir: Path) -> Path | None:
    """The PDF of ``source`` when it is kept in the corpus outside ``dest_dir``
    (bundled with the project, as the Act in law/): fetch verifies it against
    the lock and never replaces it, whatever its address answers."""
    if not source.file or not source.file.lower().endswith(".pdf"):
        return None
    own = corpus_dir / source.file
    if own.absolute() == (dest_dir / f"{source.id}.pdf").absolute() or not own.is_file():
        return None
    return own


def _record(lock_path: Path, lock: dict, result: FetchResult, target: Path) -> None:
    """Add ``result`` to the lock file, written after each file so that an
    interruption loses nothing; a lock file that cannot be written fails it."""
    previous = lock.get(result.id)
    lock[result.id] = {
        "file": _relative_to(target, lock_path.parent),
        "sha256": result.sha256,
        "size": result.size,
        "url": result.url,
        "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if is_html_file(target.name):  # a web page: see webfetch.py
        lock[result.id]["sha256_of"] = "main text"
    if result.parent:  # another file of a publication: see dspace.py
        lock[result.id].update({"from": result.parent, "title": result.title})
    try:
        write_lock(lock_path, lock)
    except OSError as exc:
        if previous is None:
            del lock[result.id]
        else:
            lock[result.id] = previous
        result.status = FetchStatus.FAILED
        result.detail += (
            f"; but {LOCK_FILE} could not be written ({exc.strerror or exc}), "
            "so it is not recorded: the next fetch records it"
        )


def _relative_to(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _fetch_one(http, source: Source, dest_dir, corpus_dir, lock, options) -> FetchResult:
    if is_html_file(source.file) and addresses(source, options):
        try:
            locked = locked_entry(lock, source.id, shown_path(corpus_dir / LOCK_FILE, corpus_dir))
        except LockFileError as exc:
            return FetchResult(source.id, FetchStatus.FAILED, exc.reason, source.file)
        return fetch_page(http, source, corpus_dir, locked, options)
    if source.file and not source.file.lower().endswith(".pdf"):
        # A page or text file kept in the corpus by hand; nothing to fetch.
        return FetchResult(source.id, FetchStatus.LOCAL, source.file, source.file)
    target = dest_dir / f"{source.id}.pdf"
    shown = shown_path(target, corpus_dir)
    urls = addresses(source, options)
    own = corpus_dir / source.file if source.file else target
    if not urls and own.absolute() != target.absolute() and own.is_file():
        # A PDF kept elsewhere (added from the page, or by hand), with no address.
        here = shown_path(own, corpus_dir)
        return FetchResult(source.id, FetchStatus.NO_IDENTIFIER, f"local file {here}", here)
    try:
        locked = locked_entry(lock, source.id, shown_path(corpus_dir / LOCK_FILE, corpus_dir))
    except LockFileError as exc:
        return FetchResult(source.id, FetchStatus.FAILED, exc.reason, shown)
    if urls and bundled_file(source, dest_dir, corpus_dir):
        return check_present(source.id, own, shown_path(own, corpus_dir), locked)
    if target.exists() or target.is_symlink():
        if not urls and not locked:
            return FetchResult(source.id, FetchStatus.NO_IDENTIFIER, f"local file {shown}", shown)
        return check_present(source.id, target, shown, locked)
    if not urls:
        return FetchResult(
            source.id,
            FetchStatus.NO_IDENTIFIER,
            # Offline on a fresh clone: not a fault (discovery fills it online).
            f"no address yet: fetch with network looks for it among the official pages' "
            f"links; or add url, handle or urn to sources.toml, or put the PDF at {shown}",
            shown,
        )
    reasons, landing = [], []
    offline = True
    for url in urls:
        try:
            tmp, final_url, digest, size = download(http, url, dest_dir, options, landing)
        except FetchError as exc:
            logger.info("%s: %s: %s", source.id, printable(url), printable(exc.reason))
            reasons.append(f"{url}: {exc.reason}")
            offline = offline and exc.offline
            continue
        try:
            result = place_download(
                source.id, tmp, target, corpus_dir, locked, final_url, digest, size
            )
        finally:
            tmp.unlink(missing_ok=True)  # renamed by now, unless interrupted
        result.landing = landing[-1] if landing else None
        return result
    if offline:
        return FetchResult(
            source.id, FetchStatus.FAILED, offline_message(target, corpus_dir), shown
        )
    return FetchResult(source.id, FetchStatus.FAILED, "; ".join(reasons), shown)
