"""The HTTP side of ``python -m ingest fetch``: one download, bounded.

Each download has a connect and a read timeout, retries with backoff (and a
server's Retry-After, honoured up to the read timeout), a size limit, and an
overall deadline checked at every read. It is written to a temporary file
in the destination folder (``.fetch-*.part``) that is removed when the
download fails or is interrupted; the fetch lock (``.fetch.lock``, held for
the whole fetch) lets a fetch remove the ones a killed fetch left behind.

Every network or protocol error becomes a :class:`FetchError` that says why.
"""

from __future__ import annotations

import email.utils
import fcntl
import hashlib
import http.client
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from .errors import KBError, printable

logger = logging.getLogger(__name__)

HANDLE_BASE = "https://julkaisut.valtioneuvosto.fi/handle/"
URN_RESOLVER = "https://urn.fi/"
USER_AGENT = "hankinta-kb-fetch/1 (+https://github.com/; one request per document)"
MAX_LANDING_BYTES = 2 * 1024 * 1024  # a landing page larger than this is not read
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the PDF header may follow a little junk (ISO 32000-1, 7.5.2 note)
CHUNK_BYTES = 64 * 1024
PART_PREFIX, PART_SUFFIX = ".fetch-", ".part"  # tempfile.mkstemp's names in between
PART_NAME = re.compile(r"\.fetch-[A-Za-z0-9_]+\.part")
FETCH_LOCK = ".fetch.lock"

# What a request or a read can raise: requests' errors, urllib3's (raw reads),
# http.client's (a broken status line) and socket errors.
NETWORK_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


@dataclass(frozen=True)
class FetchOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # also the longest Retry-After waited for
    retries: int = 3
    backoff: float = 0.5  # seconds, doubled after each retry
    max_mb: float = 200.0
    deadline: float = 300.0  # seconds for one download, landing page included
    handle_base: str = HANDLE_BASE
    urn_resolver: str = URN_RESOLVER

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


class FetchError(KBError):
    """One address of a source could not give a PDF; the message says why."""

    def __init__(self, reason: str, *, offline: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offline = offline


class FetchLockedError(FetchError):
    """Another fetch into the same folder is running."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def remaining(self) -> float:
        """Seconds left; FetchError when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise FetchError(f"download took longer than {self.seconds:g} s (--deadline)")
        return left


# ---------------------------------------------------------------- session


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date)."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time()) if when.tzinfo else None


class CappedRetry(Retry):
    """urllib3's Retry, but a Retry-After is waited for only up to
    ``wait_cap`` seconds: a longer one ends the retries at once and the
    answer (a 429 or 503) comes back, so it is reported rather than slept on.
    (urllib3 caps Retry-After at 6 hours, and not by ``backoff_max``.)"""

    wait_cap: float = 30.0

    def new(self, **kw):
        retry = super().new(**kw)
        retry.wait_cap = self.wait_cap
        return retry

    def get_retry_after(self, response) -> float | None:
        seconds = retry_after(response.headers.get("Retry-After"))
        return None if seconds is None else min(seconds, self.wait_cap)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, **kw):
        if response is not None and response.status >= 400 and self.respect_retry_after_header:
            seconds = retry_after(response.headers.get("Retry-After"))
            if seconds is not None and seconds > self.wait_cap:
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {seconds:g} s"))
        return super().increment(method, url, response, error, _pool, **kw)


def session(options: FetchOptions) -> requests.Session:
    """A session that retries connection failures and 429/5xx answers with
    exponential backoff (urllib3's Retry), and follows redirects."""
    retry = CappedRetry(
        total=options.retries,
        connect=options.retries,
        read=options.retries,
        status=options.retries,
        backoff_factor=options.backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET",),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    retry.wait_cap = options.read_timeout
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s


# ---------------------------------------------------------------- landing pages


class _CitationPdfUrl(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta" or self.found:
            return
        a = dict(attrs)
        if (a.get("name") or "").lower() == "citation_pdf_url" and a.get("content"):
            self.found = a["content"].strip()


def citation_pdf_url(html: str, base: str) -> str | None:
    """The absolute PDF address a landing page declares, if any."""
    parser = _CitationPdfUrl()
    try:
        parser.feed(html)
    except AssertionError:  # html.parser gives up on some malformed markup ("<![x[")
        pass
    if not parser.found:
        return None
    try:
        return urljoin(base, parser.found)
    except ValueError as exc:  # "Invalid IPv6 URL"
        raise FetchError(f"citation_pdf_url {parser.found!r} is not a usable address") from exc


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
    deadline = _Deadline(options.deadline)
    for hop in (0, 1):
        response = _request(http, url, options, deadline)
        with response:
            _check_answer(response, options)
            blocks = _blocks(response, options, deadline)
            head = b""
            for block in blocks:
                head += block
                if PDF_MAGIC in head[:MAGIC_WINDOW] or len(head) >= MAGIC_WINDOW:
                    break
            if PDF_MAGIC in head[:MAGIC_WINDOW]:
                return _save(response.url, head, blocks, dest_dir, options)
            url = _landing_target(response, head, blocks, hop, landing)
    raise AssertionError("unreachable: the second hop returns or raises")


def _request(http, url: str, options: FetchOptions, deadline: _Deadline) -> requests.Response:
    wait = min(options.read_timeout, deadline.remaining())
    try:
        return http.get(url, stream=True, timeout=(options.connect_timeout, wait))
    except (*NETWORK_ERRORS, ValueError) as exc:  # ValueError: an address that does not parse
        raise _request_failure(exc, options, deadline) from exc


def _request_failure(exc: BaseException, options: FetchOptions, deadline: _Deadline) -> FetchError:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return FetchError(f"connection timed out after {options.connect_timeout:g} s")
    if _caused_by(exc, ReadTimeoutError, TimeoutError, requests.exceptions.ReadTimeout):
        if deadline.expired():  # the wait was cut to what was left of the deadline
            return FetchError(f"download took longer than {deadline.seconds:g} s (--deadline)")
        return FetchError(f"no answer within {options.read_timeout:g} s")
    if isinstance(exc, requests.exceptions.RetryError):
        return FetchError(f"gave up after {options.retries} retries ({_cause(exc)})")
    if _caused_by(exc, NewConnectionError, ConnectionRefusedError):
        return FetchError(f"network unavailable ({_cause(exc)})", offline=True)
    if _caused_by(exc, http.client.BadStatusLine) and not _caused_by(
        exc, http.client.RemoteDisconnected
    ):
        return FetchError(f"the answer is not HTTP ({_cause(exc)})")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return FetchError(f"connection broken ({_cause(exc)})")
    if isinstance(exc, ValueError | requests.exceptions.InvalidURL):
        return FetchError(f"not a usable address ({_cause(exc)})")
    return FetchError(f"request failed ({_cause(exc)})")


def _check_answer(response: requests.Response, options: FetchOptions) -> None:
    if response.status_code >= 400:
        message = f"HTTP {response.status_code} {response.reason or ''}".strip()
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is not None and wait > options.read_timeout:
            message += (
                f"; the server asks to retry after {wait:g} s, longer than fetch waits "
                f"({options.read_timeout:g} s, --timeout): run fetch again later"
            )
        raise FetchError(message)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > options.max_bytes:
        raise FetchError(
            f"{int(declared) / 2**20:.1f} MB declared, over the {options.max_mb:g} MB limit"
        )


def _blocks(response: requests.Response, options: FetchOptions, deadline: _Deadline):
    """The body, as it arrives: each read waits at most the read timeout and
    never past the deadline, so neither a stalled nor a trickling server
    holds a download longer than the deadline."""
    raw, got = response.raw, 0
    while True:
        try:
            _limit_wait(raw, min(options.read_timeout, deadline.remaining()))
            block = raw.read1(CHUNK_BYTES, decode_content=True)
        except NETWORK_ERRORS as exc:
            if _caused_by(exc, ReadTimeoutError, TimeoutError) and deadline.expired():
                raise FetchError(
                    f"download took longer than {deadline.seconds:g} s (--deadline)"
                ) from exc
            if _caused_by(exc, ReadTimeoutError, TimeoutError):
                raise FetchError(
                    f"download stalled after {got} bytes: no data within {options.read_timeout:g} s"
                ) from exc
            raise FetchError(f"download interrupted after {got} bytes ({_cause(exc)})") from exc
        if not block:
            return
        got += len(block)
        yield block


def _limit_wait(raw, seconds: float) -> None:
    """Make the next read of ``raw`` (urllib3's response) wait at most ``seconds``."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _landing_target(response, head: bytes, blocks: Iterator[bytes], hop: int, landing) -> str:
    ctype = response.headers.get("Content-Type", "")
    looks_html = "html" in ctype.lower() or head.lstrip()[:1] == b"<"
    if not looks_html:
        raise FetchError(f"not a PDF (no %PDF header; Content-Type {ctype or 'missing'})")
    if hop >= 1:
        raise FetchError(f"citation_pdf_url {response.url} leads to an HTML page, not a PDF")
    body = head
    for block in blocks:
        body += block
        if len(body) > MAX_LANDING_BYTES:
            break
    try:
        html = body.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        html = body.decode("utf-8", errors="replace")
    if landing is not None:
        landing.append((response.url, html))
    target = citation_pdf_url(html, response.url)
    if target is None:
        raise FetchError(
            "the server sent an HTML page, not a PDF, and it names no citation_pdf_url "
            '(a web page to index: give its entry kind = "web page")'
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
                    raise FetchError(f"larger than the {options.max_mb:g} MB limit")
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


def _errors(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (causes, contexts, reasons, first args)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen or not isinstance(e, BaseException):
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None)]
        todo += [a for a in e.args if isinstance(a, BaseException)]


def _caused_by(exc: BaseException, *types: type[BaseException]) -> bool:
    return any(isinstance(e, types) for e in _errors(exc))


def _cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, one line."""
    for _ in range(10):  # wrappers are a few deep; a cycle must not hang
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in exc.args if isinstance(a, BaseException)), None)
        if inner is None and not str(exc):
            inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return " ".join((str(exc) or type(exc).__name__).split())[:200]


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
