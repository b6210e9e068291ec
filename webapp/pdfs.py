"""Open a hit's PDF at its page: the app serves the indexed PDFs through
Streamlit's static file serving (``static/`` beside app.py, served at
``app/static/``) and links to ``<file>#page=N``, which browsers' PDF
viewers honour.

Streamlit serves only files inside ``static/`` (symlinks out of it are
refused), so each PDF is hard-linked there, or copied where a hard link is
impossible, under ``<doc id>-<sha256 prefix>.pdf``: a rebuilt file gets a new
address, and no browser shows a stale copy.

Only what was indexed is served. The source is opened without following any
symbolic link below the corpus folder (``O_NOFOLLOW`` on every part of its
path), must be a regular file, and the bytes placed in ``static/`` must have
the sha256 the manifest holds: a hard link must be the very file opened and a
copy is hashed while it is written. A PDF replaced by a link (to any file the
page could read) or changed since indexing gets no link, and an earlier copy
of it is removed.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from kb.records import IndexedDocument

logger = logging.getLogger(__name__)

STATIC_SUBDIR = "docs"
URL_PREFIX = "app/static/" + STATIC_SUBDIR
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_BLOCK = 1 << 20
# O_NONBLOCK: a FIFO put in place of a PDF must not hang the page on open.
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotServable(OSError):
    """The indexed file cannot be served as it is now (a link, not a regular
    file, or other content than was indexed)."""


def served_name(doc_id: str, sha256: str) -> str:
    return f"{_SAFE.sub('-', doc_id)}-{sha256[:12]}.pdf"


def publish(
    documents: dict[str, IndexedDocument], corpus_dir: Path, static_dir: Path
) -> dict[str, str]:
    """Make each indexed PDF servable; returns the link (without #page) by
    doc id. Files of documents no longer indexed, or whose source no longer
    qualifies, are removed from the folder. A PDF that cannot be placed is
    logged and left without a link."""
    target_dir = static_dir / STATIC_SUBDIR
    links: dict[str, str] = {}
    wanted: set[str] = set()
    for doc_id, doc in documents.items():
        rel, digest = doc.path, doc.sha256
        if not rel.lower().endswith(".pdf") or not digest:
            continue
        name = served_name(doc_id, digest)
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            _publish_one(corpus_dir, rel, digest, target_dir / name)
        except OSError as exc:
            logger.warning("%s: not served for 'open at page' (%s)", corpus_dir / rel, exc)
            continue
        wanted.add(name)
        links[doc_id] = f"{URL_PREFIX}/{quote(name)}"
    if target_dir.is_dir():
        for old in target_dir.glob("*.pdf"):
            if old.name not in wanted:
                old.unlink(missing_ok=True)
    return links


def _publish_one(corpus_dir: Path, rel: str, digest: str, target: Path) -> None:
    """Place ``corpus_dir/rel`` at ``target`` if it is a regular file reached
    through no symlink whose content hashes to ``digest``; raises OSError
    (NotServable) otherwise."""
    dir_fd, name, fd = _open_source(corpus_dir, rel)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotServable(errno.EINVAL, "not a regular file")
        if _kept(target, fd, info, digest):
            return
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            placed = _link(dir_fd, name, fd, info, tmp) or _copy(fd, tmp)
            if placed != digest:
                raise NotServable(errno.EINVAL, "its content changed since it was indexed")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        os.close(fd)
        os.close(dir_fd)


def _open_source(corpus_dir: Path, rel: str) -> tuple[int, str, int]:
    """(fd of its folder, its name, fd of the file) for ``rel`` under
    ``corpus_dir``, walking the path one part at a time with O_NOFOLLOW, so
    that no symlink below the corpus folder is followed."""
    path = PurePosixPath(rel)
    parts = path.parts
    if not parts or path.is_absolute() or any(p in (".", "..") for p in parts):
        raise NotServable(errno.EINVAL, "not a path inside the corpus folder")
    dir_fd = os.open(corpus_dir, _DIR)
    try:
        for part in parts[:-1]:
            try:
                sub = os.open(part, _DIR | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as exc:
                raise _named(exc, "a folder on its path is a symbolic link") from exc
            os.close(dir_fd)
            dir_fd = sub
        try:
            fd = os.open(parts[-1], _READ, dir_fd=dir_fd)
        except OSError as exc:
            raise _named(exc, "it is a symbolic link") from exc
    except BaseException:
        os.close(dir_fd)
        raise
    return dir_fd, parts[-1], fd


def _named(exc: OSError, link_reason: str) -> OSError:
    """ELOOP/ENOTDIR from O_NOFOLLOW means a symlink; say so."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return NotServable(exc.errno, link_reason)
    return exc


def _kept(target: Path, fd: int, info: os.stat_result, digest: str) -> bool:
    """Whether ``target`` already serves this source: a regular file with the
    indexed content, and the source has it too."""
    try:
        placed = os.lstat(target)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(placed.st_mode):
        return False
    if (placed.st_dev, placed.st_ino) == (info.st_dev, info.st_ino):
        return _sha256_fd(fd) == digest  # a hard link: the same bytes
    return _sha256_path(target) == digest and _sha256_fd(fd) == digest


def _link(dir_fd: int, name: str, fd: int, info: os.stat_result, tmp: Path) -> str | None:
    """Hard-link the opened file at ``tmp`` and return the sha256 of what
    was linked; None where no hard link can be made (another file system)
    or the name no longer points at the file opened."""
    try:
        os.link(name, tmp, src_dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None
    linked = os.lstat(tmp)
    if (linked.st_dev, linked.st_ino) != (info.st_dev, info.st_ino):
        tmp.unlink(missing_ok=True)  # replaced since it was opened
        return None
    return _sha256_fd(fd)


def _copy(fd: int, tmp: Path) -> str:
    """Copy the opened file to ``tmp``; the sha256 of the bytes written."""
    h = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with open(os.open(tmp, flags, 0o644), "wb") as out:
        while block := os.read(fd, _BLOCK):
            h.update(block)
            out.write(block)
    return h.hexdigest()


def _sha256_fd(fd: int) -> str:
    h = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    while block := os.read(fd, _BLOCK):
        h.update(block)
    return h.hexdigest()


def _sha256_path(path: Path) -> str:
    fd = os.open(path, _READ)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return _sha256_fd(fd)
    finally:
        os.close(fd)


def page_link(base: str, page: int) -> str:
    """The link that opens the PDF at physical page ``page`` (1-based)."""
    return f"{base}#page={int(page)}"
