"""corpus/sources.lock: what ``python -m ingest fetch`` downloaded, by
document id (file, sha256, size, final address, date), so that a later
fetch verifies what is there instead of downloading it again. Written
atomically after each file."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from ingest.fetching.httpread import FetchError

LOCK_FILE = "sources.lock"
LOCK_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


class LockFileError(FetchError):
    """sources.lock, or one of its entries, is not what fetch wrote."""


def read_lock(path: Path) -> dict[str, object]:
    """Entries of sources.lock by document id; {} when there is none yet.
    Raises LockFileError when the file is not a lock file; entries are
    checked one by one (``locked_entry``)."""
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, not UTF-8
        raise LockFileError(
            f"{path} is not a readable lock file ({exc}); fix or delete it"
        ) from exc
    if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
        version = data.get("version") if isinstance(data, dict) else None
        raise LockFileError(
            f"{path} is not a readable lock file (expected a JSON object with version "
            f"{LOCK_VERSION}, found {type(data).__name__} version {version!r}); fix or delete it"
        )
    if not isinstance(data.get("files"), dict):
        raise LockFileError(
            f'{path} is not a readable lock file (its "files" is not an object); fix or delete it'
        )
    return data["files"]


def locked_entry(lock: dict[str, object], doc_id: str, lock_name: str) -> dict | None:
    """The lock entry of ``doc_id``, or None; LockFileError when it is
    malformed (it is then left as it is in the file)."""
    entry = lock.get(doc_id)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        why = f"an object was expected, found {type(entry).__name__}"
    elif not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
        why = "its sha256 is missing or not 64 hex digits"
    else:
        return entry
    raise LockFileError(
        f"entry {doc_id!r} of {lock_name} is malformed ({why}); left as it is: fix the "
        "entry or delete it (the file is then fetched or recorded anew)"
    )


def write_lock(path: Path, files: dict[str, dict]) -> None:
    text = json.dumps(
        {"version": LOCK_VERSION, "files": dict(sorted(files.items()))},
        indent=2,
        ensure_ascii=False,
    )
    atomic_write(path, (text + "\n").encode("utf-8"))


def atomic_write(path: Path, data: bytes) -> None:
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
