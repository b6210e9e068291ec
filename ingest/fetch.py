"""Download the official PDFs named in corpus/sources.toml, verified against
corpus/sources.lock.

A source is fetched from the first of its addresses that works: its ``url``
(a PDF, or a landing page), its Valto ``handle`` page, its ``urn`` through the
URN resolver. A landing page leads to the PDF through its
``<meta name="citation_pdf_url">``, as DSpace repositories publish it.

Nothing existing is ever replaced: a file is written to a temporary name in
the destination folder and renamed only when it is complete, is a PDF, and
matches the lock file. A download that does not match the lock is kept
aside under a name the indexer ignores, and reported.

This is the only module of the project that opens a network connection, and
only when ``python -m ingest fetch`` runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .model import sha256_file
from .sources import Source, load_sources

logger = logging.getLogger(__name__)

LOCK_FILE = "sources.lock"
LOCK_VERSION = 1
HANDLE_BASE = "https://julkaisut.valtioneuvosto.fi/handle/"
URN_RESOLVER = "https://urn.fi/"
USER_AGENT = "hankinta-kb-fetch/1 (+https://github.com/; one request per document)"
MAX_LANDING_BYTES = 2 * 1024 * 1024  # a landing page larger than this is not read
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the PDF header may follow a little junk (ISO 32000-1, 7.5.2 note)
CHUNK_BYTES = 64 * 1024

FETCHED, UP_TO_DATE, FAILED = "fetched", "up to date", "failed"
NO_IDENTIFIER, LOCAL = "no identifier", "local file"


@dataclass(frozen=True)
class FetchOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5  # seconds, doubled after each retry
    max_mb: float = 200.0
    handle_base: str = HANDLE_BASE
    urn_resolver: str = URN_RESOLVER

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


@dataclass
class FetchResult:
    id: str
    status: str
    detail: str = ""
    path: str = ""
    url: str = ""
    sha256: str = ""
    size: int = 0


@dataclass
class FetchReport:
    results: list[FetchResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FetchResult]:
        return [r for r in self.results if r.status == FAILED]

    @property
    def downloaded(self) -> list[FetchResult]:
        return [r for r in self.results if r.status == FETCHED]


class FetchError(Exception):
    """One address of a source could not give a PDF; the message says why."""

    def __init__(self, reason: str, *, offline: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offline = offline


# ---------------------------------------------------------------- lock file


def read_lock(path: Path) -> dict[str, dict]:
    """Entries of sources.lock by document id; {} when there is none yet."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if data.get("version") != LOCK_VERSION or not isinstance(files, dict):
            raise ValueError(f"unsupported version {data.get('version')!r}")
    except (ValueError, KeyError, TypeError) as exc:
        raise FetchError(f"{path} is not a readable lock file ({exc}); fix or delete it") from exc
    return files


def write_lock(path: Path, files: dict[str, dict]) -> None:
    text = json.dumps(
        {"version": LOCK_VERSION, "files": dict(sorted(files.items()))},
        indent=2,
        ensure_ascii=False,
    )
    _atomic_write(path, (text + "\n").encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- addresses


def addresses(source: Source, options: FetchOptions) -> list[str]:
    """Where ``source`` can be fetched from, best first."""
    out = []
    if source.url:
        out.append(source.url)
    if source.handle:
        out.append(urljoin(options.handle_base, source.handle))
    if source.urn:
        out.append(options.urn_resolver + source.urn)
    return list(dict.fromkeys(out))


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
    parser.feed(html)
    return urljoin(base, parser.found) if parser.found else None


# ---------------------------------------------------------------- download


def session(options: FetchOptions) -> requests.Session:
    """A session that retries connection failures and 429/5xx answers with
    exponential backoff (urllib3's Retry), and follows redirects."""
    retry = Retry(
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
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    return s


def download(
    http: requests.Session, url: str, dest_dir: Path, options: FetchOptions, *, _hops: int = 0
) -> tuple[Path, str, str, int]:
    """Download the PDF at ``url`` (or behind its landing page) to a
    temporary file in ``dest_dir``: (temporary path, final URL, sha256, size).
    The caller renames or removes the file."""
    try:
        response = http.get(
            url, stream=True, timeout=(options.connect_timeout, options.read_timeout)
        )
    except requests.exceptions.ConnectTimeout as exc:
        raise FetchError(f"connection timed out after {options.connect_timeout:g} s") from exc
    except (requests.exceptions.ReadTimeout, requests.exceptions.Timeout) as exc:
        raise FetchError(f"no answer within {options.read_timeout:g} s") from exc
    except requests.exceptions.RetryError as exc:
        raise FetchError(f"gave up after {options.retries} retries ({_cause(exc)})") from exc
    except requests.exceptions.ConnectionError as exc:
        if _is_read_timeout(exc):
            raise FetchError(f"no answer within {options.read_timeout:g} s") from exc
        raise FetchError(f"network unavailable ({_cause(exc)})", offline=True) from exc
    except requests.exceptions.RequestException as exc:
        raise FetchError(f"request failed ({_cause(exc)})") from exc
    with response:
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} {response.reason or ''}".strip())
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > options.max_bytes:
            raise FetchError(
                f"{int(declared) / 2**20:.1f} MB declared, over the {options.max_mb:g} MB limit"
            )
        stream = response.iter_content(CHUNK_BYTES)
        head = b""
        try:
            for block in stream:
                head += block
                if len(head) >= MAGIC_WINDOW:
                    break
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"download interrupted ({_cause(exc)})") from exc
        if PDF_MAGIC not in head[:MAGIC_WINDOW]:
            return _follow_landing(http, response, head, stream, dest_dir, options, _hops)
        return _save(response.url, head, stream, dest_dir, options)


def _follow_landing(http, response, head, stream, dest_dir, options, hops):
    ctype = response.headers.get("Content-Type", "")
    looks_html = "html" in ctype.lower() or head.lstrip()[:1] == b"<"
    if not looks_html:
        raise FetchError(f"not a PDF (no %PDF header; Content-Type {ctype or 'missing'})")
    if hops >= 1:
        raise FetchError(f"citation_pdf_url {response.url} leads to an HTML page, not a PDF")
    body = head
    for block in stream:
        body += block
        if len(body) > MAX_LANDING_BYTES:
            break
    html = body.decode(response.encoding or "utf-8", errors="replace")
    target = citation_pdf_url(html, response.url)
    if target is None:
        raise FetchError(
            "the server sent an HTML page, not a PDF, and it names no citation_pdf_url"
        )
    logger.info("%s: landing page names %s", response.url, target)
    return download(http, target, dest_dir, options, _hops=hops + 1)


def _save(url: str, head: bytes, stream, dest_dir: Path, options: FetchOptions):
    fd, tmp = tempfile.mkstemp(prefix=".fetch-", suffix=".part", dir=dest_dir)
    h, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as f:
            for block in _chain(head, stream):
                size += len(block)
                if size > options.max_bytes:
                    raise FetchError(f"larger than the {options.max_mb:g} MB limit")
                h.update(block)
                f.write(block)
            f.flush()
            os.fsync(f.fileno())
    except requests.exceptions.RequestException as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FetchError(f"download interrupted after {size} bytes ({_cause(exc)})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), url, h.hexdigest(), size


def _chain(head: bytes, stream):
    if head:
        yield head
    yield from stream


def _cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, one line."""
    while exc.__context__ is not None and not str(exc):
        exc = exc.__context__
    reason = getattr(exc, "reason", None) or (exc.args[0] if exc.args else exc)
    while isinstance(reason, tuple) and reason:
        reason = reason[0]
    return " ".join(str(reason).split())[:200]


def _is_read_timeout(exc: BaseException) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    seen = exc
    while seen is not None:
        if isinstance(seen, ReadTimeoutError) or isinstance(
            getattr(seen, "reason", None), ReadTimeoutError
        ):
            return True
        if seen.args and isinstance(seen.args[0], ReadTimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# ---------------------------------------------------------------- sources


def offline_message(target: Path, corpus_dir: Path) -> str:
    return f"network unavailable: put the PDF at {_shown(target, corpus_dir)}"


def _shown(path: Path, corpus_dir: Path) -> str:
    """``corpus/official/x.pdf`` style: relative to the corpus folder's parent."""
    try:
        return path.relative_to(corpus_dir.parent).as_posix()
    except ValueError:
        return str(path)


def fetch_all(
    sources_file: Path,
    dest_dir: Path,
    options: FetchOptions | None = None,
    on_result: Callable[[FetchResult], None] | None = None,
) -> FetchReport:
    """Fetch every source of ``sources_file`` that has an address into
    ``dest_dir`` as ``<id>.pdf``; verify against the lock file beside it."""
    options = options or FetchOptions()
    corpus_dir = sources_file.parent
    lock_path = corpus_dir / LOCK_FILE
    lock = read_lock(lock_path)
    dest_dir.mkdir(parents=True, exist_ok=True)
    report = FetchReport()
    http = session(options)
    for source in load_sources(corpus_dir, sources_file.name):
        result = _fetch_one(http, source, dest_dir, corpus_dir, lock, options)
        if result.status == FETCHED or (result.status == UP_TO_DATE and source.id not in lock):
            lock[source.id] = {
                "file": _relative_to(dest_dir / f"{source.id}.pdf", corpus_dir),
                "sha256": result.sha256,
                "size": result.size,
                "url": result.url,
                "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            write_lock(lock_path, lock)  # after each file: an interruption loses nothing
        report.results.append(result)
        if on_result:
            on_result(result)
    return report


def _relative_to(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _fetch_one(http, source: Source, dest_dir, corpus_dir, lock, options) -> FetchResult:
    if source.file and not source.file.lower().endswith(".pdf"):
        # A web page or text file kept in the corpus itself; nothing to fetch.
        return FetchResult(source.id, LOCAL, source.file, source.file)
    target = dest_dir / f"{source.id}.pdf"
    shown = _shown(target, corpus_dir)
    urls = addresses(source, options)
    locked = lock.get(source.id)
    if target.exists():
        if not urls and not locked:
            return FetchResult(source.id, NO_IDENTIFIER, f"local file {shown}", shown)
        digest = sha256_file(target)
        if locked and digest != locked["sha256"]:
            return FetchResult(
                source.id,
                FAILED,
                f"{shown} does not match sources.lock (sha256 {digest[:12]}…, "
                f"locked {locked['sha256'][:12]}…); left as it is. Delete its lock entry to "
                "accept this file, or delete the file to fetch it again",
                shown,
                sha256=digest,
            )
        if locked:
            return FetchResult(source.id, UP_TO_DATE, "sha256 verified", shown, sha256=digest)
        return FetchResult(
            source.id,
            UP_TO_DATE,
            "placed by hand; its sha256 is now recorded in sources.lock",
            shown,
            sha256=digest,
            size=target.stat().st_size,
        )
    if not urls:
        return FetchResult(
            source.id,
            NO_IDENTIFIER,
            f"add url, handle or urn to sources.toml, or put the PDF at {shown}",
            shown,
        )
    reasons = []
    offline = True
    for url in urls:
        try:
            tmp, final_url, digest, size = download(http, url, dest_dir, options)
        except FetchError as exc:
            logger.info("%s: %s: %s", source.id, url, exc.reason)
            reasons.append(f"{url}: {exc.reason}")
            offline = offline and exc.offline
            continue
        if locked and digest != locked["sha256"]:
            aside = dest_dir / f"{source.id}.pdf.mismatch-{digest[:12]}"
            os.replace(tmp, aside)
            return FetchResult(
                source.id,
                FAILED,
                f"checksum mismatch: {final_url} now serves sha256 {digest[:12]}…, "
                f"sources.lock has {locked['sha256'][:12]}…; the download is kept aside at "
                f"{_shown(aside, corpus_dir)}, {shown} was not written",
                shown,
                final_url,
                digest,
                size,
            )
        os.replace(tmp, target)
        return FetchResult(
            source.id, FETCHED, f"{size / 2**20:.1f} MB", shown, final_url, digest, size
        )
    if offline:
        return FetchResult(source.id, FAILED, offline_message(target, corpus_dir), shown)
    return FetchResult(source.id, FAILED, "; ".join(reasons), shown)
