"""One PDF download of ``python -m ingest fetch``, through its landing page
if it has one, bounded as every answer is (``httpread.py``: timeouts,
retries, a size limit, an overall deadline). It is written to a temporary file
in the destination folder (``.fetch-*.part``) that is removed when the
download fails or is interrupted; the fetch lock (``.fetch.lock``, held for
the whole fetch) lets a fetch remove the ones a killed fetch left behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import requests

from ingest.fetching.httpread import (
    HANDLE_BASE,
    URN_RESOLVER,
    Deadline,
    Failure,
    FetchError,
    FetchOptions,
    body_blocks,
    check_answer,
    request,
    session,
)
from ingest.fetching.pagelinks import read_links
from kb.terminal import printable

__all__ = [
    "HANDLE_BASE",
    "URN_RESOLVER",
    "FetchError",
    "FetchLockedError",
    "FetchOptions",
    "citation_pdf_url",
    "dest_lock",
    "download",
    "session",
]

logger = logging.getLogger(__name__)

MAX_LANDING_BYTES = 2 * 1024 * 1024  # a landing page larger than this is not read
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the PDF header may follow a little junk (ISO 32000-1, 7.5.2 note)
PART_PREFIX, PART_SUFFIX = ".fetch-", ".part"  # tempfile.mkstemp's names in between
PART_NAME = re.compile(r"\.fetch-[A-Za-z0-9_]+\.part")
FETCH_LOCK = ".fetch.lock"


class FetchLockedError(FetchError):
    """Another fetch into the same folder is running."""


class WebPageError(FetchError):
    """The address serves an HTML page that names no PDF: ``body`` holds it
    (at most ``options.max_page_bytes``; ``complete`` False when it was cut
    there), so a caller that wants a web page need not ask again."""

    def __init__(self, reason: str, url: str, body: bytes, charset: str | None, complete: bool):
        super().__init__(reason, kind=Failure.NOT_A_DOCUMENT)
        self.url, self.body, self.charset, self.complete = url, body, charset, complete


# ---------------------------------------------------------------- landing pages


def citation_pdf_url(html: str, base: str) -> str | None:
    """The absolute PDF address a landing page declares, if any."""
    citations = read_links(html).citations
    if not citations:
        return None
    try:
        return urljoin(base, citations[0])
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise FetchError(f"citation_pdf_url {citations[0]!r} is not a usable address") from exc


# ---------------------------------------------------------------- download


def download(
    http: requests.Session,
    url: str,
    dest_dir: Path,
    options: FetchOptions,
    landing: list[tuple[str, str]] | None = None,
) -> tuple[Path, str, str, int]:
    """Download the PDF at ``url`` (or behind its landing page) to a
    temporary file in ``dest_dir``: (temporary path, final URL, sha256, size).
    The caller renames or removes the file. Raises FetchError. A landing
    page read on the way is added to ``landing`` as (its URL, its HTML)."""
    deadline = Deadline(options.deadline)
    for hop in (0, 1):
        response = request(http, url, options, deadline)
        with response:
            check_answer(response, options)
            blocks = body_blocks(response, options, deadline)
            head = b""
            for block in blocks:
                head += block
                if PDF_MAGIC in head[:MAGIC_WINDOW] or len(head) >= MAGIC_WINDOW:
                    break
            if PDF_MAGIC in head[:MAGIC_WINDOW]:
                return _save(response.url, head, blocks, dest_dir, options)
            url = _landing_target(response, head, blocks, hop, landing, options)
    raise AssertionError("unreachable: the second hop returns or raises")


def _landing_target(
    response, head: bytes, blocks: Iterator[bytes], hop: int, landing, options: FetchOptions
) -> str:
    ctype = response.headers.get("Content-Type", "")
    looks_html = "html" in ctype.lower() or head.lstrip()[:1] == b"<"
    if not looks_html:
        raise FetchError(
            f"not a PDF (no %PDF header; Content-Type {ctype or 'missing'})",
            kind=Failure.NOT_A_DOCUMENT,
        )
    if hop >= 1:
        raise FetchError(
            f"citation_pdf_url {response.url} leads to an HTML page, not a PDF",
            kind=Failure.NOT_A_DOCUMENT,
        )
    body, complete = bytearray(head), True
    limit = max(MAX_LANDING_BYTES, options.max_page_bytes)
    for block in blocks:
        body += block
        if len(body) > limit:
            complete = False
            break
    body = bytes(body[:limit])
    try:
        html = body[:MAX_LANDING_BYTES].decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        html = body[:MAX_LANDING_BYTES].decode("utf-8", errors="replace")
    if landing is not None:
        landing.append((response.url, html))
    target = citation_pdf_url(html, response.url)
    if target is None:
        charset = response.encoding if "charset" in ctype.lower() else None
        raise WebPageError(
            "the server sent an HTML page, not a PDF, and it names no citation_pdf_url "
            '(a web page to index: give its entry kind = "web page")',
            response.url,
            body,
            charset,
            complete,
        )
    logger.info("%s: landing page names %s", printable(response.url), printable(target))
    return target


def _save(url: str, head: bytes, blocks: Iterator[bytes], dest_dir: Path, options: FetchOptions):
    try:
        fd, tmp = tempfile.mkstemp(prefix=PART_PREFIX, suffix=PART_SUFFIX, dir=dest_dir)
    except OSError as exc:
        raise FetchError(f"cannot write to {dest_dir} ({exc.strerror or exc})") from exc
    h, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as f:
            for block in _chain(head, blocks):
                size += len(block)
                if size > options.max_bytes:
                    raise FetchError(
                        f"larger than the {options.max_mb:g} MB limit", kind=Failure.TOO_LARGE
                    )
                h.update(block)
                f.write(block)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:  # the network's are FetchErrors by now: this is the disk
        Path(tmp).unlink(missing_ok=True)
        raise FetchError(f"cannot write {tmp} ({exc.strerror or exc})") from exc
    except BaseException:  # FetchError, KeyboardInterrupt, SIGTERM: no partial file
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), url, h.hexdigest(), size


def _chain(head: bytes, blocks: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from blocks


# ---------------------------------------------------------------- destination


@contextmanager
def dest_lock(dest_dir: Path) -> Iterator[list[str]]:
    """Hold ``dest_dir``'s fetch lock for a whole fetch, having removed the
    temporary files that killed fetches left there (yields their names).
    Raises FetchLockedError at once when another fetch holds it, so a live
    download's file is never removed. The lock file goes when released."""
    path = dest_dir / FETCH_LOCK
    fd = _acquire(path)
    try:
        yield remove_stale_parts(dest_dir)
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _acquire(path: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FetchError(f"cannot write to {path.parent} ({exc.strerror or exc})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise FetchLockedError(
                f"another fetch into {path.parent} is running; wait for it to finish"
            ) from exc
        try:  # the file we locked may have been removed by a fetch just ending
            here, now = os.fstat(fd), os.stat(path)
            if (here.st_dev, here.st_ino) == (now.st_dev, now.st_ino):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_stale_parts(dest_dir: Path) -> list[str]:
    """Remove the ``.fetch-*.part`` files in ``dest_dir``. Call with the lock held."""
    removed = []
    for path in sorted(dest_dir.iterdir()):
        if not PART_NAME.fullmatch(path.name):
            continue
        try:
            if stat.S_ISREG(path.lstat().st_mode):
                path.unlink()
                removed.append(path.name)
        except OSError as exc:
            logger.warning("could not remove %s: %s", printable(path), printable(exc))
    return removed
