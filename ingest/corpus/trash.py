"""The trash: a removed document's file and its ``sources.toml`` entry are
kept in ``<corpus>/.trash/<UTC time>-<id>/`` (hidden: the build never reads
it) for ``trash_days`` days, and can be put back (:func:`restore`). An
item older than that is deleted at the next edit (:func:`purge_expired`).

An item holds ``item.json`` (the id, the file's path in the corpus, the
entry as it was, when it was removed) and the file itself as ``file``
(a symbolic link stays a link: what it points to is never touched).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePath

from kb.errors import KBError
from kb.terminal import printable

logger = logging.getLogger(__name__)

TRASH_DIR = ".trash"
ITEM_FILE = "item.json"
KEPT_FILE = "file"
NAME = re.compile(r"^\d{8}T\d{6}Z-[a-z0-9-]{1,80}$")  # the names trash_name makes


class TrashError(KBError):
    """An item cannot be put in the trash, restored or found."""


@dataclass(frozen=True)
class Item:
    name: str  # the folder's name under .trash/
    id: str
    path: str  # the file's place in the corpus, relative
    title: str
    entry: dict | None  # its [[document]] as it was, or None
    removed_at: float  # seconds since the epoch
    who: str = ""

    def expires(self, days: int) -> float:
        return self.removed_at + days * 86_400


def trash_dir(corpus: Path) -> Path:
    return corpus / TRASH_DIR


def safe_rel(rel: str) -> bool:
    """A path inside the corpus and outside its hidden folders."""
    parts = PurePath(rel).parts
    return (
        bool(parts)
        and not PurePath(rel).is_absolute()
        and not any(p.startswith(".") or p == ".." for p in parts)
    )


def put(
    corpus: Path, doc_id: str, rel: str, title: str, entry: dict | None, who: str, move: bool
) -> Item:
    """Move the file ``rel`` (when ``move``) into a new trash item with the
    entry beside it. The caller drops the entry from sources.toml and, if
    that fails, calls :func:`undo_put`. Raises TrashError."""
    if move and not safe_rel(rel):
        raise TrashError(f"{printable(rel)}: not a document file of the corpus")
    now = time.time()
    slug = re.sub(r"[^a-z0-9-]+", "-", doc_id.lower()).strip("-")[:80] or "document"
    base = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)) + f"-{slug}"
    name, n = base, 2
    while (trash_dir(corpus) / name).exists():
        name, n = f"{base}-{n}", n + 1
    item = Item(name, doc_id, rel, title, entry, now, who)
    folder = trash_dir(corpus) / name
    try:
        folder.mkdir(parents=True, mode=0o700)
        _write_item(folder, item)
        source = corpus / rel
        if move and (source.is_symlink() or source.exists()):
            os.rename(source, folder / KEPT_FILE)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise TrashError(f"{printable(rel)}: cannot be moved to the trash ({exc})") from exc
    logger.info("moved %s to %s/%s", printable(rel), TRASH_DIR, name)
    return item


def undo_put(corpus: Path, item: Item) -> None:
    """Put the file of an item just made back (its entry was not dropped)."""
    folder = trash_dir(corpus) / item.name
    kept = folder / KEPT_FILE
    if kept.is_symlink() or kept.exists():
        os.rename(kept, corpus / item.path)
    shutil.rmtree(folder, ignore_errors=True)


def items(corpus: Path) -> list[Item]:
    """The trash's items, newest first; an unreadable one is skipped."""
    root = trash_dir(corpus)
    if not root.is_dir():
        return []
    out = []
    for folder in root.iterdir():
        if not NAME.match(folder.name) or not folder.is_dir():
            continue
        try:
            out.append(_read_item(folder))
        except TrashError as exc:
            logger.warning("%s", exc)
    return sorted(out, key=lambda i: i.removed_at, reverse=True)


def find(corpus: Path, name: str) -> Item:
    if not NAME.match(name) or not (trash_dir(corpus) / name).is_dir():
        raise TrashError(f"{printable(name)}: no such item in the trash")
    return _read_item(trash_dir(corpus) / name)


def take_back(corpus: Path, item: Item) -> None:
    """Move the item's file back to its place (which must be free)."""
    kept = trash_dir(corpus) / item.name / KEPT_FILE
    target = corpus / item.path
    if kept.is_symlink() or kept.exists():
        if not safe_rel(item.path):
            raise TrashError(f"{printable(item.path)}: not a document file of the corpus")
        if target.is_symlink() or target.exists():
            raise TrashError(f"{printable(item.path)}: a file of that name is in the corpus again")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(kept, target)
        except OSError as exc:
            raise TrashError(f"{printable(item.path)}: cannot be put back ({exc})") from exc


def discard(corpus: Path, item: Item) -> None:
    shutil.rmtree(trash_dir(corpus) / item.name, ignore_errors=True)


def purge_expired(corpus: Path, days: int, now: float | None = None) -> list[Item]:
    """Delete the items removed more than ``days`` days ago; returns them."""
    now = time.time() if now is None else now
    gone = [i for i in items(corpus) if i.expires(days) <= now]
    for item in gone:
        discard(corpus, item)
        logger.info("purged %s from the trash", item.name)
    return gone


def _write_item(folder: Path, item: Item) -> None:
    data = {
        "id": item.id,
        "path": item.path,
        "title": item.title,
        "entry": item.entry,
        "removed_at": item.removed_at,
        "who": item.who,
    }
    (folder / ITEM_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _read_item(folder: Path) -> Item:
    try:
        data = json.loads((folder / ITEM_FILE).read_text(encoding="utf-8"))
        entry = data.get("entry")
        return Item(
            folder.name,
            str(data["id"]),
            str(data["path"]),
            str(data.get("title", "")),
            entry if isinstance(entry, dict) else None,
            float(data["removed_at"]),
            str(data.get("who", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TrashError(f"{TRASH_DIR}/{folder.name}: not a trash item ({exc})") from exc
