"""What a fetch reports, for every fetcher (fetch, webfetch, dspace) and
for availability: a source's addresses, the result of fetching it, and the
placing of a complete download beside the lock file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from ingest.corpus.sources import Source
from ingest.fetching.httpread import FetchOptions
from ingest.fetching.lock import LOCK_FILE
from kb.choices import Choice
from kb.hashing import sha256_file


class Availability(Choice):
    """Whether a document of sources.toml is here (``SourceState.state``)."""

    PRESENT = "present"  # its file is in the corpus folder
    MISSING = "missing"  # the detail says what to do
    FAILED = "failed"  # the last fetch could not get it, or the build could not read it


class FetchStatus(Choice):
    """What became of one source in a fetch (its value is what is printed and
    stored in ``.fetch-state.json``)."""

    FETCHED = "fetched"
    UP_TO_DATE = "up to date"
    FAILED = "failed"
    KEPT = "kept"  # a web page that could not be checked: its snapshot stays
    NO_IDENTIFIER = "no identifier"
    LOCAL = "local file"


@dataclass
class FetchResult:
    id: str
    status: FetchStatus
    detail: str = ""
    path: str = ""
    url: str = ""
    sha256: str = ""
    size: int = 0
    title: str = ""  # a publication's other file: its own name (ingest/fetching/dspace.py)
    parent: str = ""  # ... and the source it belongs to
    landing: tuple[str, str] | None = None  # (URL, HTML) of the landing page read, if one was


@dataclass
class FetchReport:
    results: list[FetchResult] = field(default_factory=list)
    removed_parts: list[str] = field(default_factory=list)  # left by killed fetches

    @property
    def failed(self) -> list[FetchResult]:
        return [r for r in self.results if r.status == FetchStatus.FAILED]

    @property
    def downloaded(self) -> list[FetchResult]:
        return [r for r in self.results if r.status == FetchStatus.FETCHED]


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


def offline_message(target: Path, corpus_dir: Path) -> str:
    return f"network unavailable: put the PDF at {shown_path(target, corpus_dir)}"


def shown_path(path: Path, corpus_dir: Path) -> str:
    """``corpus/official/x.pdf`` style: relative to the corpus folder's parent."""
    try:
        return path.relative_to(corpus_dir.parent).as_posix()
    except ValueError:
        return str(path)


def check_present(doc_id: str, target: Path, shown: str, locked: dict | None) -> FetchResult:
    """A file already at ``target``: verified against the lock, never replaced."""
    try:
        digest, size = sha256_file(target), target.stat().st_size
    except OSError as exc:
        return _cannot(doc_id, "read", shown, exc)
    if _differs(locked, digest):
        why = (
            f"{shown} does not match {LOCK_FILE} (sha256 {digest[:12]}…, "
            f"locked {locked['sha256'][:12]}…); left as it is. Delete its lock entry to "
            "accept this file, or delete the file to fetch it again"
        )
        return FetchResult(doc_id, FetchStatus.FAILED, why, shown, sha256=digest)
    if locked:
        return FetchResult(doc_id, FetchStatus.UP_TO_DATE, "sha256 verified", shown, sha256=digest)
    recorded = f"placed by hand; its sha256 is now recorded in {LOCK_FILE}"
    return FetchResult(doc_id, FetchStatus.UP_TO_DATE, recorded, shown, sha256=digest, size=size)


def place_download(
    doc_id, tmp: Path, target: Path, corpus_dir, locked, url, digest, size
) -> FetchResult:
    """Rename a complete download to ``target``, or aside when it does not
    match the lock."""
    shown = shown_path(target, corpus_dir)
    aside = target.with_name(f"{target.name}.mismatch-{digest[:12]}")
    differs = _differs(locked, digest)
    try:
        os.replace(tmp, aside if differs else target)
    except OSError as exc:
        return _cannot(doc_id, "write", shown, exc)
    status, detail = FetchStatus.FETCHED, f"{size / 2**20:.1f} MB"
    if differs:
        status, detail = (
            FetchStatus.FAILED,
            (
                f"checksum mismatch: {url} now serves sha256 {digest[:12]}…, "
                f"{LOCK_FILE} has {locked['sha256'][:12]}…; the download is kept aside at "
                f"{shown_path(aside, corpus_dir)}, {shown} was not written"
            ),
        )
    return FetchResult(doc_id, status, detail, shown, url, digest, size)


def _differs(locked: dict | None, digest: str) -> bool:
    """Whether a file's sha256 is not the one its lock entry holds."""
    return bool(locked) and digest != locked["sha256"]


def _cannot(doc_id: str, verb: str, shown: str, exc: OSError) -> FetchResult:
    """The result of a file that cannot be read or written."""
    why = f"cannot {verb} {shown} ({exc.strerror or exc})"
    return FetchResult(doc_id, FetchStatus.FAILED, why, shown)
