"""One bounded HTTP answer, for every download of ``python -m ingest fetch``
(PDFs, landing pages, web pages, DSpace item pages and REST answers).

A request has a connect and a read timeout and retries with backoff (and a
server's Retry-After, honoured up to the read timeout); the body is read in
blocks, each read waiting at most the read timeout and never past an overall
deadline, and never beyond a size limit. Every network or protocol error
becomes a :class:`FetchError` that says why.
"""

from __future__ import annotations

import email.utils
import enum
import http.client
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
import urllib3.exceptions
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from ingest.fetching.netguard import (
    AllowList,
    GuardedAdapter,
    NotAllowedError,
    Refusal,
    guarded_session,
)
from kb.errors import KBError

HANDLE_BASE = "https://julkaisut.valtioneuvosto.fi/handle/"
URN_RESOLVER = "https://urn.fi/"
USER_AGENT = "hankinta-kb-fetch/1 (+https://github.com/; one request per document)"
CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 10
# A compressed answer may expand this many times (HTML gzips 5-10x); checked
# once this much is decoded, so a small answer is never refused for it.
MAX_RATIO = 100
RATIO_AFTER = 1024 * 1024

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
    max_page_mb: float = 5.0  # a web page's decoded size (KB_MAX_PAGE_MB)
    # What else than public addresses may be fetched (KB_FETCH_ALLOW; ingest/fetching/netguard.py).
    allow: AllowList = field(default_factory=AllowList.from_env)
    parse_timeout: float = 120.0  # seconds to read a page's main text (KB_FILE_TIMEOUT)
    parse_mb: int = 2048  # memory for it (KB_READER_MB; ingest/reading/sandbox.py)

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)

    @property
    def max_page_bytes(self) -> int:
        return int(self.max_page_mb * 1024 * 1024)


def settings_options(settings) -> dict:
    """FetchOptions' fields that come from the settings (kb/settings.py)."""
    return {
        "max_page_mb": float(settings.max_page_mb),
        "allow": AllowList.parse(settings.fetch_allow),
        "parse_timeout": float(settings.file_timeout),
        "parse_mb": settings.reader_mb,
    }


class Failure(enum.Enum):
    """The class of a failed fetch: all the page says of it (kb/labels/)."""

    NOT_FOUND = "not found"
    NOT_ALLOWED = "not allowed"
    TOO_LARGE = "too large"
    TIMED_OUT = "timed out"
    NOT_REACHABLE = "not reachable"
    NOT_A_DOCUMENT = "not a document"


NOT_FOUND, NOT_ALLOWED, TOO_LARGE = Failure.NOT_FOUND, Failure.NOT_ALLOWED, Failure.TOO_LARGE
TIMED_OUT, NOT_REACHABLE = Failure.TIMED_OUT, Failure.NOT_REACHABLE


class FetchError(KBError):
    """One address of a source could not give a PDF; the message says why,
    ``kind`` its class."""

    def __init__(
        self, reason: str, *, offline: bool = False, kind: Failure = Failure.NOT_REACHABLE
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offline = offline
        self.kind = kind


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def remaining(self) -> float:
        """Seconds left; FetchError when none are."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise FetchError(
                f"download took longer than {self.seconds:g} s (--deadline)", kind=TIMED_OUT
            )
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
    exponential backoff (urllib3's Retry), and connects only where
    ingest/fetching/netguard.py allows (each connection pinned to the address
    checked). Redirects are followed by :func:`request`, each hop checked."""
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
    s = guarded_session(options.allow, max_retries=retry)
    s.headers["User-Agent"] = USER_AGENT
    return s


# ---------------------------------------------------------------- reading


def request(http, url: str, options: FetchOptions, deadline: Deadline) -> requests.Response:
    """The answer at ``url``, redirects followed here (at most MAX_REDIRECTS),
    so that the session checks the address of every hop."""
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(http, url, options, deadline)
        location = http.get_redirect_target(response)  # requests' reading of Location
        if not location:
            return response
        response.close()
        try:
            url = urljoin(response.url, location)
        except ValueError as exc:
            raise FetchError("a redirect to an unusable address") from exc
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _get(http, url: str, options: FetchOptions, deadline: Deadline) -> requests.Response:
    wait = min(options.read_timeout, deadline.remaining())
    try:
        if not isinstance(http.get_adapter(url), GuardedAdapter):  # fail closed
            raise NotAllowedError(url, Refusal.UNGUARDED)
        return http.get(
            url, stream=True, timeout=(options.connect_timeout, wait), allow_redirects=False
        )
    except NotAllowedError as exc:
        raise FetchError(exc.reason, kind=NOT_ALLOWED) from exc
    except socket.gaierror as exc:  # our own resolution (ingest/fetching/netguard.py)
        raise FetchError(
            f"network unavailable or no such host ({exc.strerror or exc})",
            offline=True,
            kind=NOT_FOUND,
        ) from exc
    except (*NETWORK_ERRORS, ValueError) as exc:  # ValueError: an address that does not parse
        raise _request_failure(exc, options, deadline) from exc


def _request_failure(exc: BaseException, options: FetchOptions, deadline: Deadline) -> FetchError:
    if isinstance(exc, requests.exceptions.InvalidSchema | requests.exceptions.MissingSchema):
        return FetchError("not an http or https address", kind=NOT_ALLOWED)  # file://, gopher://
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return FetchError(
            f"connection timed out after {options.connect_timeout:g} s", kind=TIMED_OUT
        )
    if caused_by(exc, ReadTimeoutError, TimeoutError, requests.exceptions.ReadTimeout):
        if deadline.expired():  # the wait was cut to what was left of the deadline
            return FetchError(
                f"download took longer than {deadline.seconds:g} s (--deadline)", kind=TIMED_OUT
            )
        return FetchError(f"no answer within {options.read_timeout:g} s", kind=TIMED_OUT)
    if isinstance(exc, requests.exceptions.RetryError):
        return FetchError(f"gave up after {options.retries} retries ({cause(exc)})")
    if caused_by(exc, NewConnectionError, ConnectionRefusedError):
        return FetchError(f"network unavailable ({cause(exc)})", offline=True)
    if caused_by(exc, http.client.BadStatusLine) and not caused_by(
        exc, http.client.RemoteDisconnected
    ):
        return FetchError("the answer is not HTTP")  # not the server's bytes: no banners
    if isinstance(exc, requests.exceptions.ConnectionError):
        return FetchError(f"connection broken ({cause(exc)})")
    if isinstance(exc, ValueError | requests.exceptions.InvalidURL):
        return FetchError(f"not a usable address ({cause(exc)})", kind=NOT_ALLOWED)
    return FetchError(f"request failed ({cause(exc)})")


def _status_kind(status: int) -> Failure:
    if status in (404, 410):
        return NOT_FOUND
    return NOT_ALLOWED if status in (401, 403, 451) else NOT_REACHABLE


def check_answer(response: requests.Response, options: FetchOptions) -> None:
    if response.status_code >= 400:
        message = f"HTTP {response.status_code} {response.reason or ''}".strip()
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is not None and wait > options.read_timeout:
            message += (
                f"; the server asks to retry after {wait:g} s, longer than fetch waits "
                f"({options.read_timeout:g} s, --timeout): run fetch again later"
            )
        raise FetchError(message, kind=_status_kind(response.status_code))
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > options.max_bytes:
        raise FetchError(
            f"{int(declared) / 2**20:.1f} MB declared, over the {options.max_mb:g} MB limit",
            kind=TOO_LARGE,
        )


def body_blocks(response: requests.Response, options: FetchOptions, deadline: Deadline):
    """The body, as it arrives: each read waits at most the read timeout and
    never past the deadline, so neither a stalled nor a trickling server
    holds a download longer than the deadline. A compressed answer that
    expands more than MAX_RATIO times is refused as it arrives."""
    raw, got = response.raw, 0
    while True:
        try:
            _limit_wait(raw, min(options.read_timeout, deadline.remaining()))
            block = raw.read1(CHUNK_BYTES, decode_content=True)
        except NETWORK_ERRORS as exc:
            if caused_by(exc, ReadTimeoutError, TimeoutError) and deadline.expired():
                raise FetchError(
                    f"download took longer than {deadline.seconds:g} s (--deadline)",
                    kind=TIMED_OUT,
                ) from exc
            if caused_by(exc, ReadTimeoutError, TimeoutError):
                raise FetchError(
                    f"download stalled after {got} bytes: no data within {options.read_timeout:g} s",
                    kind=TIMED_OUT,
                ) from exc
            raise FetchError(f"download interrupted after {got} bytes ({cause(exc)})") from exc
        if not block:
            return
        got += len(block)
        if got > RATIO_AFTER and got > MAX_RATIO * max(1, raw.tell()):
            raise FetchError(
                f"the compressed answer expands more than {MAX_RATIO} times", kind=TOO_LARGE
            )
        yield block


def _limit_wait(raw, seconds: float) -> None:
    """Make the next read of ``raw`` (urllib3's response) wait at most ``seconds``."""
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


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


def caused_by(exc: BaseException, *types: type[BaseException]) -> bool:
    return any(isinstance(e, types) for e in _errors(exc))


def cause(exc: BaseException) -> str:
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


@dataclass(frozen=True)
class Body:
    data: bytes
    url: str  # after redirects
    content_type: str
    charset: str | None  # as the answer declares it, if it does


def read_body(
    http: requests.Session,
    url: str,
    options: FetchOptions,
    limit: int,
    *,
    truncate: bool = False,
    stop: bytes | None = None,
) -> Body:
    """The answer at ``url``, at most ``limit`` bytes: beyond that it is cut
    there when ``truncate``, else a FetchError. Reading also stops once the
    body starts with ``stop`` (a PDF's header, where only a page was wanted)."""
    deadline = Deadline(options.deadline)
    response = request(http, url, options, deadline)
    with response:
        check_answer(response, options)
        data = bytearray()
        for block in body_blocks(response, options, deadline):
            data += block
            if len(data) > limit:
                if not truncate:
                    mb = options.max_mb if limit == options.max_bytes else limit / 2**20
                    raise FetchError(f"larger than the {mb:g} MB limit", kind=TOO_LARGE)
                break
            if stop is not None and data.startswith(stop):
                break
        ctype = response.headers.get("Content-Type", "")
        charset = response.encoding if "charset" in ctype.lower() else None
        return Body(bytes(data[:limit]), response.url, ctype, charset)
