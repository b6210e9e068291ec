"""Adding documents to the corpus and removing them: what the page's
documents view does, as library calls that tests reach without Streamlit.

A document comes as a file's bytes (an upload) or from an address, fetched
on request with fetch's own download code (ingest/corpus/address.py). It is
checked first (:func:`check_file`): a type the
build reads, within the build's size limit, readable (read as the build
reads it, in a reader process with its time limit), and not already in the
corpus or the index (same sha256). The check suggests a title (the file's
own, else its name) and a language (detected as the build does).

:func:`add` writes it under the corpus folder, named by a safe id made
from its name (``added/<id>.pdf``; never the uploaded name itself), and
adds its ``[[document]]`` to ``sources.toml``. A PDF from an address goes
where fetch puts PDFs (``official/<id>.pdf``), with its ``url``, so a later
fetch verifies it; a web page is kept as a snapshot (``added/<id>.html``)
that fetch refreshes like any web page source. :func:`remove` moves a
document's file and its entry to the trash (ingest/corpus/trash.py). ``sources.toml`` is edited with tomlkit,
which keeps its comments and order, written to a temporary file, checked
as the build reads it, and renamed over the old one. One edit at a time:
``.library.lock`` in the corpus folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from ingest.corpus import sourcesfile, trash
from ingest.corpus.sources import (
    KINDS,
    SOURCES_FILE,
    Source,
    assign_ids,
    detect_language,
    discover,
    load_sources,
)
from ingest.fetching.availability import expected_path, indexed_files
from kb.errors import ExtractionError, KBError
from kb.hashing import sha256_file
from kb.settings import Settings
from kb.terminal import printable

logger = logging.getLogger(__name__)

ADDED_DIR = "added"  # where uploads and web pages added from the page go
PDF_DIR = "official"  # where a PDF from an address goes: where fetch puts it
LOCK_NAME = ".library.lock"
# The types a document may be added as, and the suffix its file gets.
SUFFIXES = {
    ".pdf": ".pdf",
    ".md": ".md",
    ".markdown": ".md",
    ".txt": ".txt",
    ".html": ".html",
    ".htm": ".html",
}
MAX_ID = 60
MAX_TITLE = 300


class LibraryError(KBError):
    """A document could not be added or removed; names it and says why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class RefusedError(LibraryError):
    """Not added: a type the build does not read, too large, empty or unreadable."""


class DuplicateError(LibraryError):
    """Not added: the same file (sha256) or address is already in the corpus."""


class AddressError(LibraryError):
    """The address could not be fetched."""


class UnknownDocumentError(LibraryError):
    """No document of that id to remove."""


@dataclass(frozen=True)
class Candidate:
    """A checked file, not yet added: its bytes and what the form suggests."""

    name: str  # as given: untrusted, for messages only
    suffix: str  # one of SUFFIXES' values
    data: bytes
    sha256: str
    title: str
    lang: str
    kind: str
    url: str = ""  # where it was fetched from

    def __repr__(self) -> str:  # not the bytes
        return f"Candidate({self.name!r}, {self.suffix}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Form:
    """What the user chose for a candidate. ``version_of``: the id of a
    document this one is a language version of (their ``group``)."""

    title: str
    lang: str
    kind: str
    version_of: str = ""


@dataclass(frozen=True)
class Document:
    """A document that can be removed: an entry of sources.toml, a file of
    the corpus, or both; its id as the build gives it."""

    id: str
    title: str
    path: str  # relative to the corpus folder
    entry: bool  # has a [[document]] in sources.toml
    present: bool  # its file is there
    kind: str = "other"


# ---------------------------------------------------------------- names


def safe_id(name: str) -> str:
    """A document id, and so a file name, from an untrusted file name:
    ASCII letters, digits and '-' only (no '..', slash, hidden name or
    markup), at most 60 characters; "document" when nothing is left."""
    base = re.split(r"[/\\]", name)[-1]
    stem = base[: -len(PurePath(base).suffix)] if PurePath(base).suffix else base
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:MAX_ID].strip("-")
    return slug or "document"


def _unique(base: str, taken: set[str], exists) -> str:
    candidate, n = base, 2
    while candidate in taken or exists(candidate):
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def _title_from(name: str) -> str:
    base = re.split(r"[/\\]", name)[-1]
    stem = base[: -len(PurePath(base).suffix)] if PurePath(base).suffix else base
    return " ".join(stem.replace("_", " ").split())[:MAX_TITLE]


# ---------------------------------------------------------------- checking


def check_file(
    name: str, data: bytes, settings: Settings, *, url: str = "", title: str = ""
) -> Candidate:
    """Check a file before it is added: its type (by the suffix of
    ``name``, and a PDF must be one), its size, that the build can read it
    and that it is not in the corpus or the index already. Raises
    RefusedError or DuplicateError."""
    suffix = PurePath(re.split(r"[/\\]", name)[-1]).suffix.lower()
    if suffix not in SUFFIXES or suffix not in settings.extensions:
        kinds = "PDF, Markdown, HTML or text"
        raise RefusedError(name, f"type {suffix or '(none)'} is not accepted ({kinds})")
    limit = settings.max_file_mb * 1_000_000  # as the build counts it (ingest/reading/extract.py)
    if not data:
        raise RefusedError(name, "empty file")
    if len(data) > limit:
        raise RefusedError(
            name,
            f"file is {len(data) / 1e6:.1f} MB, over the limit of {settings.max_file_mb} MB "
            "(KB_MAX_FILE_MB)",
        )
    digest = hashlib.sha256(data).hexdigest()
    _refuse_duplicate(name, digest, len(data), url, settings)
    hint, sample = _read(name, SUFFIXES[suffix], data, settings)
    kind = "web page" if SUFFIXES[suffix] == ".html" else "other"
    title = " ".join((title or hint).split())[:MAX_TITLE] or _title_from(name)
    return Candidate(
        name, SUFFIXES[suffix], data, digest, title, detect_language(sample), kind, url
    )


def _read(name: str, suffix: str, data: bytes, settings: Settings) -> tuple[str, str]:
    """(title hint, text sample) as the build reads the file: in a reader
    process with the build's time limit. RefusedError when it cannot."""
    from ingest.reading.readers import extract_many

    with tempfile.TemporaryDirectory(prefix="kb-add-") as tmp:
        path = Path(tmp) / f"document{suffix}"
        path.write_bytes(data)
        value = extract_many([path], settings)[path]
    if isinstance(value, ExtractionError):
        raise RefusedError(name, f"cannot be read: {value.reason}")
    hint, pages = value
    return hint, " ".join(p.text for p in pages[:3])


def _refuse_duplicate(name: str, digest: str, size: int, url: str, settings: Settings) -> None:
    """DuplicateError when a file with this sha256 is indexed or in the
    corpus, or when a source already has this address."""
    corpus = settings.corpus_dir
    for rel, entry in (indexed_files(settings.index_dir, settings.backend) or {}).items():
        if entry.sha256 == digest:
            shown = f"{(entry.doc and entry.doc.title) or rel} ({rel})"
            raise DuplicateError(name, f"already indexed as {shown}")
    if corpus.is_dir():
        for path in discover(corpus, settings.extensions):
            try:
                same = path.stat().st_size == size and sha256_file(path) == digest
            except OSError:
                continue
            if same:
                rel = path.relative_to(corpus).as_posix()
                raise DuplicateError(name, f"already in the corpus as {rel}")
    if url:
        for src in load_sources(corpus):
            if src.url and src.url == url:
                raise DuplicateError(name, f"already a source: {src.id} ({src.url})")


# ---------------------------------------------------------------- add, remove


def add(settings: Settings, candidate: Candidate, form: Form) -> Document:
    """Write ``candidate``'s file into the corpus and its entry into
    sources.toml; returns the document added. Checks again for a duplicate
    (another session may have added the same file). Raises LibraryError,
    SourcesError."""
    corpus = settings.corpus_dir
    if form.kind not in KINDS:
        raise RefusedError(candidate.name, f"kind must be one of {', '.join(KINDS)}")
    with _edit_lock(corpus):
        trash.purge_expired(corpus, settings.trash_days)
        _refuse_duplicate(
            candidate.name, candidate.sha256, len(candidate.data), candidate.url, settings
        )
        text = _sources_text(corpus)
        listed = documents(settings)
        folder = PDF_DIR if candidate.url and candidate.suffix == ".pdf" else ADDED_DIR
        taken = {d.id for d in listed}
        doc_id = _unique(
            safe_id(candidate.name),
            taken,
            lambda i: (corpus / folder / f"{i}{candidate.suffix}").exists(),
        )
        rel = f"{folder}/{doc_id}{candidate.suffix}"
        doc = sourcesfile.parse(text)
        group = sourcesfile.join_group(doc, form.version_of, listed) if form.version_of else ""
        sourcesfile.append(doc, _entry(doc_id, rel, candidate, form, group))
        target = corpus / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_new(target, candidate.data)
        try:
            sourcesfile.write(corpus, doc)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    logger.info("added %s as %s", printable(candidate.name), rel)
    return Document(doc_id, form.title, rel, True, True, form.kind)


def _entry(doc_id: str, rel: str, candidate: Candidate, form: Form, group: str) -> dict:
    day = time.strftime("%Y-%m-%d", time.gmtime())
    how = f"fetched from {candidate.url}" if candidate.url else f"uploaded as {candidate.name}"
    entry = {
        "id": doc_id,
        "file": rel,
        "title": " ".join(form.title.split())[:MAX_TITLE],
        "lang": form.lang.strip(),
        "kind": form.kind,
        "group": group,
        "url": candidate.url,
        "note": f"Added from the page on {day}, {printable(how)[:300]}.",
    }
    return {k: v for k, v in entry.items() if v or k in ("id", "file")}


def remove(settings: Settings, doc_id: str, who: str = "") -> Document:
    """Move the document ``doc_id``'s file and its sources.toml entry to the
    trash (ingest/corpus/trash.py), from where it can be restored; the next build
    drops it from the index. Everything is checked before anything is
    changed. Raises UnknownDocumentError, LibraryError, SourcesError."""
    corpus = settings.corpus_dir
    with _edit_lock(corpus):
        trash.purge_expired(corpus, settings.trash_days)
        found = next((d for d in documents(settings) if d.id == doc_id), None)
        if found is None:
            raise UnknownDocumentError(doc_id, "no such document in the corpus")
        if found.present and not trash.safe_rel(found.path):
            raise LibraryError(found.path, "not a document file of the corpus")
        doc, entry = None, None
        if found.entry:
            doc = sourcesfile.parse(_sources_text(corpus))
            table = sourcesfile.find(doc, doc_id)
            entry = table.unwrap() if table is not None else None
            sourcesfile.drop(doc, doc_id)
        try:
            item = trash.put(corpus, doc_id, found.path, found.title, entry, who, found.present)
        except trash.TrashError as exc:
            raise LibraryError(found.path, f"cannot be moved to the trash ({exc})") from exc
        if doc is not None:
            try:
                sourcesfile.write(corpus, doc)
            except BaseException:
                trash.undo_put(corpus, item)
                raise
    logger.info("removed %s (%s) to the trash", doc_id, printable(found.path))
    return found


def documents(settings: Settings) -> list[Document]:
    """Every document of the corpus folder: the entries of sources.toml (in
    its order) and the files without one, each with the id the build gives
    it. Raises SourcesError."""
    corpus = settings.corpus_dir
    sources = load_sources(corpus)
    manifest = indexed_files(settings.index_dir, settings.backend) or {}
    indexed = {rel: e.doc for rel, e in manifest.items() if e.doc is not None}
    files = (
        [p.relative_to(corpus).as_posix() for p in discover(corpus, settings.extensions)]
        if corpus.is_dir()
        else []
    )
    by_file: dict[str, Source] = {s.file: s for s in sources if s.file}
    previous = {rel: e.doc_id for rel, e in manifest.items()}
    ids = assign_ids(files, by_file, previous, {s.id for s in sources})
    present = set(files)
    out = []
    for src in sources:
        rel = expected_path(src)
        title = src.title or getattr(indexed.get(rel), "title", "")
        out.append(Document(src.id, title, rel, True, rel in present, src.kind))
    listed = {d.path for d in out}
    for rel in files:
        if rel not in listed:
            doc = indexed.get(rel)
            title = (doc and doc.title) or _title_from(rel)
            kind = (doc and doc.kind) or "other"
            out.append(Document(ids[rel], title, rel, False, True, kind))
    return out


# ---------------------------------------------------------------- files


def _sources_text(corpus: Path) -> str:
    path = corpus / SOURCES_FILE
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError(str(path), f"cannot be read ({exc})") from exc


def _write_new(target: Path, data: bytes) -> None:
    """Write ``data`` at ``target`` (which must not exist) through a hidden
    temporary file: never a partial file under the final name."""
    fd, tmp = tempfile.mkstemp(prefix=".add-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # as the other files of the corpus, not mkstemp's 0600
        os.link(tmp, target)  # fails if target exists: nothing is replaced
    except OSError as exc:
        raise LibraryError(target.name, f"cannot be written ({exc.strerror or exc})") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def _edit_lock(corpus: Path) -> Iterator[None]:
    """One edit of the corpus at a time (across sessions and processes)."""
    corpus.mkdir(parents=True, exist_ok=True)
    fd = os.open(corpus / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
