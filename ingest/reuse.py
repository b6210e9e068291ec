"""What a build takes over from the live generation: the entries, chunks
and vectors of files whose content did not change (by sha256), so that only
new and changed files are read and embedded. A new model or new chunk
settings make nothing reusable: everything is rebuilt."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from ingest.corpus.sources import Source
from ingest.storage.stores import IndexStore, PreviousIndex
from kb.errors import IndexError_
from kb.index.manifest import FileEntry
from kb.records import Chunk, DocumentMeta

logger = logging.getLogger(__name__)


@dataclass
class Prior:
    """The live generation as this build sees it."""

    index: PreviousIndex | None = None
    reusable: bool = False  # same model and chunk settings
    files: dict[str, FileEntry] = field(default_factory=dict)  # its manifest's, when reusable
    rows: dict[str, list[int]] = field(default_factory=dict)  # doc id -> its rows


def prior_index(store: IndexStore, fingerprint: str, chunking: dict) -> Prior:
    """The live generation, with what of it can be reused; an unreadable one
    is reported and rebuilt from scratch. Removes what interrupted builds
    left behind first. Call with the store's lock held."""
    stale = store.remove_stale()
    if stale:
        logger.info("removed %d temporary item(s) left by an interrupted build", len(stale))
    try:
        previous = store.previous()
    except IndexError_ as exc:
        if store.has_index():
            logger.warning("previous index unusable, rebuilding everything: %s", exc)
        return Prior()
    if previous is None:
        return Prior()
    manifest = previous.manifest
    if manifest.model.fingerprint != fingerprint or manifest.chunking != chunking:
        return Prior(previous)
    rows: dict[str, list[int]] = {}
    for row, c in enumerate(previous.chunks):
        rows.setdefault(c.doc_id, []).append(row)
    return Prior(previous, True, manifest.files, rows)


def reusable_entries(
    prev_files: dict[str, FileEntry], digests: dict[str, str], described: set[str]
) -> dict[str, FileEntry]:
    """The previous build's entries of files whose content is unchanged (by
    path). An id that two files shared in the previous index (a build before
    ids were unique) is not trusted: those files are read again. Nor is the
    metadata of a file whose ``sources.toml`` entry was removed (it is not in
    ``described`` now): it is read again and gets what the file alone gives,
    as in a fresh build (an index from before entries were marked reads as
    described: kb/index/manifest.py's migrate)."""
    count: dict[str, int] = {}
    for e in prev_files.values():
        count[e.doc_id] = count.get(e.doc_id, 0) + 1
    return {
        rel: old
        for rel, old in prev_files.items()
        if rel in digests
        and unchanged(old, digests[rel])
        and count[old.doc_id] == 1
        and (rel in described or not old.described)
    }


def unchanged(old: FileEntry | None, digest: str) -> bool:
    """Whether a file indexed before is the same now, so its vectors are kept
    (a file that failed is always read again)."""
    return old is not None and old.sha256 == digest and not old.failed and old.doc is not None


@dataclass
class KeptDocument:
    meta: DocumentMeta
    chunks: list[Chunk]
    vectors: np.ndarray
    edited: bool  # its metadata changed (sources.toml, or a new id)


def kept_document(prior: Prior, old: FileEntry, src: Source | None, doc_id: str) -> KeptDocument:
    """An unchanged file's chunks and vectors, under its metadata as
    ``sources.toml`` now gives it (edits apply without re-embedding) and
    the id this build assigned."""
    before = old.doc
    meta = before
    if src is not None:
        meta = replace(
            meta,
            id=src.id,
            title=src.title or meta.title,
            lang=src.lang or meta.lang,
            kind=src.kind,
            group=src.group,
            url=src.url,
            identifier=src.identifier,
        )
    meta = replace(meta, id=doc_id)
    rows = prior.rows.get(before.id, [])
    fields = {
        "doc_id": meta.id,
        "title": meta.title,
        "lang": meta.lang,
        "kind": meta.kind,
        "group": meta.group,
    }
    chunks = [
        replace(
            prior.index.chunks[r], **fields, chunk_id=f"{meta.id}#{prior.index.chunks[r].ordinal}"
        )
        for r in rows
    ]
    return KeptDocument(meta, chunks, prior.index.vectors(rows), meta != before)
