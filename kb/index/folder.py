"""The index folder: generations swapped in atomically, described by a manifest.

Layout::

    index/
      CURRENT          name of the live generation, replaced atomically
      .lock            held by the one build that may run at a time
      gen-<time>-<id>/ index.faiss, chunks.jsonl, bm25/, manifest.json (with the
                       sha256 of every other file, checked on load)
      .tmp-<id>/       a generation being written (removed if a build dies)

A build writes a whole generation into a temporary folder, renames it to
``gen-*``, then points ``CURRENT`` at it with ``os.replace``. A crash at any
moment leaves the previous generation live and loadable.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb import failpoints
from kb.errors import (
    BuildLockedError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
)
from kb.hashing import sha256_file
from kb.index.manifest import FORMAT_VERSION, Manifest, ManifestError
from kb.index.sentences import SENTENCES_DIR, SentencesUnreadable, SentenceVectors, load_sentences
from kb.records import Chunk
from kb.text.lexical import BM25_DIR, Analyses, LexicalIndex

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
LOCK = ".lock"
FAISS_FILE = "index.faiss"
CHUNKS_FILE = "chunks.jsonl"
MANIFEST_FILE = "manifest.json"
ANALYSES_FILE = "finnish.json"  # kb/text/morphology.py: word -> index terms
KEEP_GENERATIONS = 2  # the live one and the one before, for readers mid-swap


@dataclass
class Generation:
    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    index: object  # faiss.Index
    lexical: LexicalIndex | None = None
    sentences: SentenceVectors | None = None  # None: built before they were stored
    analyses: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Finnish words'

    @property
    def name(self) -> str:
        return self.path.name

    def vectors(self, rows: list[int]) -> np.ndarray:
        if not rows:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(r)) for r in rows]).astype(np.float32)


def current_name(index_dir: Path) -> str | None:
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def read_manifest(index_dir: Path) -> Manifest:
    name = current_name(index_dir)
    if name is None:
        raise IndexMissingError(index_dir, "no index has been built")
    return _read_manifest_file(index_dir, index_dir / name)


def _read_manifest_file(index_dir: Path, gen_dir: Path) -> Manifest:
    """The generation's manifest, of this format version, migrated
    (kb/index/manifest.py). IndexCorruptError / IndexMismatchError."""
    path = gen_dir / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(index_dir, f"{path.name} is missing from {gen_dir.name}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(index_dir, f"{path.name} is unreadable ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise IndexCorruptError(index_dir, f"{path.name} lacks the model it was built with")
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            index_dir,
            f"format version {data.get('format_version')} (this program reads {FORMAT_VERSION})",
        )
    try:
        return Manifest.from_json(data)
    except ManifestError as exc:
        raise IndexCorruptError(index_dir, f"{path.name}: {exc}") from exc


def file_digests(gen_dir: Path) -> dict[str, str]:
    """sha256 of every file of a generation but its manifest, by relative path."""
    return {
        path.relative_to(gen_dir).as_posix(): sha256_file(path)
        for path in sorted(gen_dir.rglob("*"))
        if path.is_file() and path.name != MANIFEST_FILE
    }


def _verify_checksums(index_dir: Path, gen_dir: Path, manifest: Manifest) -> None:
    """Every file the manifest lists is there with the same sha256: an edited,
    truncated or swapped file is caught before it is read."""
    expected = manifest.checksums
    if not expected:
        raise IndexCorruptError(index_dir, f"{MANIFEST_FILE} lists no checksums")
    actual = file_digests(gen_dir)
    for rel, digest in expected.items():
        if rel not in actual:
            raise IndexCorruptError(index_dir, f"{rel} is missing from {gen_dir.name}")
        if actual[rel] != digest:
            raise IndexCorruptError(
                index_dir, f"{rel} does not match its checksum (edited or damaged)"
            )


def load_generation(index_dir: Path, model_fingerprint: str | None = None) -> Generation:
    """Load the live generation, checking that its parts agree with each other
    and, if given, with the model that will query it."""
    import faiss

    name = current_name(index_dir)
    if name is None:
        raise IndexMissingError(index_dir, "no index has been built")
    gen_dir = index_dir / name
    if not gen_dir.is_dir():
        raise IndexCorruptError(index_dir, f"CURRENT names {name}, which does not exist")
    # The manifest of the folder CURRENT named, not of whatever CURRENT names
    # by now: a build may swap in between.
    manifest = _read_manifest_file(index_dir, gen_dir)
    model = manifest.model
    if model_fingerprint and model.fingerprint != model_fingerprint:
        raise IndexMismatchError(
            index_dir,
            f"built with model {model.name} ({model.fingerprint}), "
            f"not the configured one ({model_fingerprint})",
        )
    _verify_checksums(index_dir, gen_dir, manifest)
    try:
        index = faiss.read_index(str(gen_dir / FAISS_FILE))
    except RuntimeError as exc:
        raise IndexCorruptError(
            index_dir, f"{FAISS_FILE} is unreadable ({str(exc)[:120]})"
        ) from exc
    chunks = []
    try:
        with open(gen_dir / CHUNKS_FILE, encoding="utf-8") as f:
            for line in f:
                chunks.append(Chunk.from_json(json.loads(line)))
    except FileNotFoundError as exc:
        raise IndexCorruptError(index_dir, f"{CHUNKS_FILE} is missing") from exc
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(index_dir, f"{CHUNKS_FILE} is unreadable ({exc})") from exc
    expected = manifest.counts.chunks
    if not (index.ntotal == len(chunks) == expected):
        raise IndexCorruptError(
            index_dir,
            f"{index.ntotal} vectors, {len(chunks)} chunk records, manifest says {expected}",
        )
    if index.d != model.dim:
        raise IndexCorruptError(
            index_dir, f"vectors have {index.d} dimensions, manifest says {model.dim}"
        )
    lexical = None
    if chunks:
        try:
            lexical = LexicalIndex.load(gen_dir)
            n = len(lexical.scores(list(lexical.bm25.vocab_dict)[:1], len(chunks)))
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise IndexCorruptError(index_dir, f"{BM25_DIR}/ is unreadable ({exc})") from exc
        if n != len(chunks):
            raise IndexCorruptError(index_dir, f"BM25 holds {n} passages, there are {len(chunks)}")
    try:
        sentences = load_sentences(gen_dir, len(chunks), index.d)
    except SentencesUnreadable as exc:
        raise IndexCorruptError(index_dir, str(exc)) from exc
    analyses = _read_analyses(index_dir, gen_dir)
    return Generation(gen_dir, manifest, chunks, index, lexical, sentences, analyses)


def _read_analyses(index_dir: Path, gen_dir: Path) -> dict[str, tuple[str, ...]]:
    """The generation's Finnish analyses; {} for one built without them."""
    path = gen_dir / ANALYSES_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(w): tuple(str(t) for t in terms)
            for w, terms in data.items()
            if isinstance(terms, list)
        }
    except (OSError, ValueError, AttributeError) as exc:
        raise IndexCorruptError(index_dir, f"{ANALYSES_FILE} is unreadable ({exc})") from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_generation(
    index_dir: Path,
    vectors: np.ndarray,
    chunks: list[Chunk],
    manifest: Manifest | dict,
    sentences: SentenceVectors | None = None,
    analyses: Analyses | None = None,
) -> Path:
    """Write a complete generation and make it live. Returns its folder.
    ``manifest``: the record, or its JSON (read through Manifest.from_json);
    ``analyses``: the Finnish words' index terms (kb/text/morphology.py)."""
    import faiss

    if not isinstance(manifest, Manifest):
        manifest = Manifest.from_json(manifest)
    if len(vectors) != len(chunks):
        raise ValueError(f"{len(vectors)} vectors for {len(chunks)} chunks")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    except OSError as exc:
        raise IndexWriteError(index_dir, exc.strerror or str(exc)) from exc
    try:
        index = faiss.IndexFlatIP(manifest.model.dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        _write_faiss(faiss, index, tmp / FAISS_FILE)
        with open(tmp / CHUNKS_FILE, "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
        failpoints.reached("write")
        if chunks:
            texts, langs = [c.indexed_text for c in chunks], [c.lang for c in chunks]
            LexicalIndex.build(texts, langs, analyses).save(tmp)
        if analyses:
            (tmp / ANALYSES_FILE).write_text(
                json.dumps({w: list(t) for w, t in analyses.items()}, ensure_ascii=False),
                encoding="utf-8",
            )
        if sentences is not None:
            if sentences.chunks != len(chunks):
                raise ValueError(f"sentence vectors for {sentences.chunks} of {len(chunks)} chunks")
            sentences.save(tmp / SENTENCES_DIR)
        written = replace(manifest, checksums=file_digests(tmp))
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(written.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
        # Microseconds, so that names sort in the order the builds made them.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
        final = index_dir / name
        tmp.rename(final)
    except OSError as exc:  # a full disk, a folder made read-only meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        raise IndexWriteError(index_dir, exc.strerror or str(exc)) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    failpoints.reached("swap")
    try:
        _point_current(index_dir, name)
    except OSError as exc:
        if current_name(index_dir) != name:  # never remove what CURRENT names
            shutil.rmtree(final, ignore_errors=True)
        raise IndexWriteError(index_dir, exc.strerror or str(exc)) from exc
    prune(index_dir)
    return final


def _write_faiss(faiss, index, path: Path) -> None:
    """The index as faiss serialises it, written by Python: a full disk is
    an OSError here (the build's "cannot write the index"), where
    faiss.write_index raises a RuntimeError, or on a short index only
    prints its close error and leaves a truncated file."""
    writer = faiss.VectorIOWriter()  # faiss.serialize_index, spelled out
    faiss.write_index(index, writer)
    data = faiss.vector_to_array(writer.data)
    with open(path, "wb") as f:  # not numpy's tofile, which ignores write errors
        f.write(memoryview(data))
        f.flush()


def _point_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def prune(index_dir: Path) -> None:
    """Remove old generations beyond the newest few, never the live one."""
    live = current_name(index_dir)
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
    old = [p for p in gens if p.name != live][: max(0, len(gens) - KEEP_GENERATIONS)]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale(index_dir: Path) -> list[str]:
    """Remove what a build that died left: temporary folders and files, and a
    complete generation newer than the live one that CURRENT never came to
    name (killed just before the swap). Call with the lock held."""
    removed = []
    live = current_name(index_dir)
    # Orphans are only judged against a CURRENT that names a generation that
    # exists: one edited by hand ("garbage") must not make every generation
    # look newer than the live one, and so deleted.
    trusted = live is not None and live.startswith("gen-") and (index_dir / live).is_dir()
    orphans = [p for p in index_dir.glob("gen-*") if trusted and p.name > live and p.is_dir()]
    for path in list(index_dir.glob(".tmp-*")) + list(index_dir.glob(f".{CURRENT}.*")) + orphans:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


# Descriptors of the build locks this process holds. An flock belongs to the
# open file, which a forked child shares: a reader that outlived a killed
# build kept the index locked for good. So every forked child lets go of
# them at once. (POSIX record locks are not inherited, but they do not
# exclude a second build in the same process, such as the page's.)
_HELD: set[int] = set()


def _release_in_child() -> None:
    """After fork, in the child: point each held lock descriptor at
    /dev/null, so the child keeps no reference to the locked file (the
    descriptor number stays valid for the file object that owns it)."""
    if not _HELD:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        for fd in _HELD:
            os.dup2(null, fd)
    finally:
        os.close(null)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_release_in_child)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock, or raise BuildLockedError at once.
    Processes forked while it is held do not hold it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "w") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError(f"another build of {index_dir} is running") from exc
        _HELD.add(f.fileno())
        try:
            yield
        finally:
            _HELD.discard(f.fileno())
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
