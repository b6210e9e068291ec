"""Fetching a web page source: the page is downloaded like a PDF (same
session, timeouts, retries, size limit and deadline: ingest/fetching/download.py),
its main content found (ingest/reading/webpage.py), and a snapshot of it kept at the
entry's ``file`` (``web/<id>.html`` by default), written atomically.

``sources.lock`` records the sha256 of the page's *main content*, not of
its bytes: a page re-fetched with new menus, banners or footers but the same
main content is "up to date" and its snapshot is left as it is. A page
whose main content changed replaces its snapshot (a web page is a living
document, unlike a published PDF); the report says so.

A web page is fetched again at every fetch; when it cannot be, an existing
snapshot is kept and the report says why.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from ingest.corpus.sources import Source
from ingest.fetching.download import PDF_MAGIC
from ingest.fetching.httpread import Failure, FetchError, FetchOptions, read_body
from ingest.fetching.lock import LOCK_FILE, atomic_write
from ingest.fetching.results import FetchResult, FetchStatus, addresses, shown_path
from ingest.reading.sandbox import LimitError, call_limited
from ingest.reading.webpage import MainContent, main_content, read_snapshot, snapshot_text
from kb.terminal import printable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageDownload:
    url: str  # after redirects
    html: str
    content: MainContent
    size: int  # bytes as served


def download_page(http: requests.Session, url: str, options: FetchOptions) -> PageDownload:
    """The web page at ``url`` (at most ``options.max_page_mb`` decoded) and
    its main content, read in a reader process. Raises FetchError."""
    answer = read_body(http, url, options, options.max_page_bytes)
    body, ctype = answer.data, answer.content_type
    if PDF_MAGIC in body[:1024]:
        raise FetchError(
            "the address serves a PDF, not a web page: give the entry the PDF's kind "
            '(strategy, annex, report, law or other) and a file ending in ".pdf"',
            kind=Failure.NOT_A_DOCUMENT,
        )
    if "html" not in ctype.lower() and body.lstrip()[:1] != b"<":
        raise FetchError(
            f"not a web page (Content-Type {ctype or 'missing'})", kind=Failure.NOT_A_DOCUMENT
        )
    html = decode_page(body, answer.charset)
    content = _main_text(html, options)
    if not content.text.strip():
        raise FetchError(
            "the page has no main text (trafilatura found none)", kind=Failure.NOT_A_DOCUMENT
        )
    return PageDownload(answer.url, html, content, len(body))


def _main_text(html: str, options: FetchOptions) -> MainContent:
    """The page's main content, read in a reader process with fetch's time
    and memory limits (ingest/reading/sandbox.py), never in this process."""
    try:
        return call_limited(
            main_content, html, timeout=options.parse_timeout, memory_mb=options.parse_mb
        )
    except LimitError as exc:
        kind = Failure.TIMED_OUT if exc.timed_out else Failure.NOT_A_DOCUMENT
        raise FetchError(
            f"the page's main text could not be read: {exc.reason}", kind=kind
        ) from exc


def decode_page(body: bytes, charset: str | None) -> str:
    """The page as text: in the charset its answer declares, else UTF-8,
    else what charset_normalizer (a dependency of requests) finds."""
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            pass
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", errors="replace")


def keep_snapshot(target: Path, page: PageDownload, write) -> str:
    """Write ``page``'s snapshot at ``target`` with ``write(path, bytes)``
    (atomic); returns the retrieval date it records."""
    retrieved = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data = snapshot_text(page.html, page.url, retrieved).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    write(target, data)
    return retrieved


def _snapshot_sha256(target: Path, options: FetchOptions) -> str:
    """The sha256 of the main text of the snapshot at ``target``, or "" when
    there is none (or it cannot be read: it is then written anew)."""
    try:
        return _main_text(target.read_text(encoding="utf-8"), options).sha256
    except (OSError, UnicodeDecodeError, FetchError):
        return ""


def snapshot_date(target: Path) -> str:
    """When the snapshot at ``target`` was retrieved, or ""."""
    snapshot = read_snapshot(target)
    return snapshot.retrieved if snapshot else ""


def fetch_page(
    http: requests.Session,
    source: Source,
    corpus_dir: Path,
    locked: dict | None,
    options: FetchOptions,
) -> FetchResult:
    """Fetch the web page of ``source`` into its snapshot file; compare its
    main content with the lock entry ``locked``."""
    target = corpus_dir / source.file
    shown = shown_path(target, corpus_dir)
    reasons, offline = [], True
    for url in addresses(source, options):
        try:
            page = download_page(http, url, options)
        except FetchError as exc:
            logger.info("%s: %s: %s", source.id, printable(url), printable(exc.reason))
            reasons.append(f"{url}: {exc.reason}")
            offline = offline and exc.offline
            continue
        return _keep(source.id, page, target, shown, locked, options)
    why = "network unavailable" if offline else "; ".join(reasons)
    if target.is_file():
        when = snapshot_date(target) or "an unknown date"
        return FetchResult(
            source.id, FetchStatus.KEPT, f"{why}; the snapshot of {when} at {shown} is kept", shown
        )
    if offline:
        why += f": run fetch again with network, or save the page at {shown}"
    return FetchResult(source.id, FetchStatus.FAILED, why, shown)


def _keep(
    doc_id: str, page: PageDownload, target: Path, shown: str, locked, options
) -> FetchResult:
    digest = page.content.sha256
    chars = f"{len(page.content.text)} characters of main text"
    if locked and locked["sha256"] == digest and _snapshot_sha256(target, options) == digest:
        when = snapshot_date(target) or locked.get("fetched", "")
        detail = f"main text unchanged (sha256 verified); snapshot of {when} kept"
        return FetchResult(doc_id, FetchStatus.UP_TO_DATE, detail, shown, sha256=digest)
    try:
        keep_snapshot(target, page, atomic_write)
    except OSError as exc:
        return FetchResult(
            doc_id, FetchStatus.FAILED, f"cannot write {shown} ({exc.strerror or exc})", shown
        )
    detail = f"web page, {chars}"
    if locked and locked["sha256"] != digest:
        since = locked.get("fetched", "the last fetch")
        detail += f"; its main text changed since {since}: snapshot replaced"
    elif locked:
        detail += f"; the snapshot did not match {LOCK_FILE}: written anew from the page"
    size = target.stat().st_size
    return FetchResult(doc_id, FetchStatus.FETCHED, detail, shown, page.url, digest, size)
