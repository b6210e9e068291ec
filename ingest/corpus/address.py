"""A document from an address the user gave on the page: fetched with
fetch's own download code (ingest/download.py: timeouts, retries, size
limit, deadline; ingest/webfetch.py for a web page), only when the user
asks, then checked like an uploaded file (ingest/library.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path, PurePath
from urllib.parse import urlsplit

from ingest.corpus.library import AddressError, Candidate, DuplicateError, check_file
from ingest.corpus.sources import load_sources
from ingest.fetching.download import FetchError, FetchOptions, citation_pdf_url, download, session
from ingest.fetching.webfetch import download_page
from ingest.reading.webpage import snapshot_text
from kb.settings import Settings


def fetch_address(url: str, settings: Settings, options: FetchOptions | None = None) -> Candidate:
    """Fetch ``url`` (a PDF, a landing page naming one, or a web page) and
    check it as a file. Raises AddressError, RefusedError or DuplicateError."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AddressError(url, "not a web address (http:// or https://)")
    if any(src.url == url for src in load_sources(settings.corpus_dir)):
        raise DuplicateError(url, "already a source with this address")
    options = options or FetchOptions(max_mb=float(settings.max_file_mb))
    with tempfile.TemporaryDirectory(prefix="kb-fetch-") as tmp, session(options) as http:
        landing: list[tuple[str, str]] = []
        try:
            path, final, _, _ = download(http, url, Path(tmp), options, landing)
            data = path.read_bytes()
        except FetchError as exc:
            page_read = landing and citation_pdf_url(landing[-1][1], landing[-1][0]) is None
            if not page_read:  # no answer, or a PDF that failed: not a web page
                raise AddressError(url, exc.reason) from exc
        else:
            return check_file(_name_of(final, ".pdf"), data, settings, url=url)
        try:
            page = download_page(http, url, options)
        except FetchError as exc:
            raise AddressError(url, exc.reason) from exc
    retrieved = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data = snapshot_text(page.html, page.url, retrieved).encode("utf-8")
    name = _name_of(page.url, ".html")
    return check_file(name, data, settings, url=url, title=page.content.title)


def _name_of(url: str, suffix: str) -> str:
    """A file name for what ``url`` served: its last path segment, or its host."""
    parts = urlsplit(url)
    last = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.hostname or "document"
    stem = last[: -len(PurePath(last).suffix)] if PurePath(last).suffix else last
    return f"{stem}{suffix}"
