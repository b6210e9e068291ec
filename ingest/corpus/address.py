"""A document from an address the user gave on the page: fetched with
fetch's own download code (ingest/fetching/download.py: the address guard of
ingest/fetching/netguard.py, timeouts, a size limit, a deadline), only when the user
asks, then checked like an uploaded file (ingest/corpus/library.py), which reads
it in a reader process with the build's time and memory limits.

One connection per address: no retries, and a web page is read from the
same answer that showed it is no PDF (a landing page's PDF is a second
address). What failed is told by its class only (:class:`Failure`), never
with the server's bytes or the socket's error.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path, PurePath
from urllib.parse import urlsplit

from ingest.corpus.library import AddressError, Candidate, DuplicateError, check_file
from ingest.corpus.sources import load_sources
from ingest.fetching.download import FetchError, FetchOptions, WebPageError, download, session
from ingest.fetching.httpread import Failure, settings_options
from ingest.fetching.webfetch import decode_page
from ingest.reading.webpage import snapshot_text
from kb.settings import Settings
from kb.terminal import printable

logger = logging.getLogger(__name__)


class FetchRefusedError(AddressError):
    """The address could not be fetched; ``kind`` is all the page shows of why."""

    def __init__(self, url: str, kind: Failure) -> None:
        super().__init__(url, f"could not fetch this address ({kind.value})")
        self.kind = kind


def page_options(settings: Settings) -> FetchOptions:
    """The page's fetch: one attempt, the settings' limits and allow-list."""
    return FetchOptions(retries=0, max_mb=float(settings.max_file_mb), **settings_options(settings))


def fetch_address(url: str, settings: Settings, options: FetchOptions | None = None) -> Candidate:
    """Fetch ``url`` (a PDF, a landing page naming one, or a web page) and
    check it as a file. Raises FetchRefusedError (an AddressError),
    AddressError, RefusedError or DuplicateError."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AddressError(url, "not a web address (http:// or https://)")
    if any(src.url == url for src in load_sources(settings.corpus_dir)):
        raise DuplicateError(url, "already a source with this address")
    options = options or page_options(settings)
    with tempfile.TemporaryDirectory(prefix="kb-fetch-") as tmp, session(options) as http:
        try:
            path, final, _, _ = download(http, url, Path(tmp), options)
            data = path.read_bytes()
        except WebPageError as page:
            return _web_page(url, page, settings)
        except FetchError as exc:
            logger.info("%s: %s", printable(url), printable(exc.reason))
            raise FetchRefusedError(url, exc.kind) from exc
    return check_file(_name_of(final, ".pdf"), data, settings, url=url)


def _web_page(url: str, page: WebPageError, settings: Settings) -> Candidate:
    """The web page an address served, as a snapshot file; read (main text,
    title) by check_file in a reader process, not here."""
    if not page.complete:
        raise FetchRefusedError(url, Failure.TOO_LARGE)
    html = decode_page(page.body, page.charset)
    retrieved = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data = snapshot_text(html, page.url, retrieved).encode("utf-8")
    return check_file(_name_of(page.url, ".html"), data, settings, url=url)


def _name_of(url: str, suffix: str) -> str:
    """A file name for what ``url`` served: its last path segment, or its host."""
    parts = urlsplit(url)
    last = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.hostname or "document"
    stem = last[: -len(PurePath(last).suffix)] if PurePath(last).suffix else last
    return f"{stem}{suffix}"
