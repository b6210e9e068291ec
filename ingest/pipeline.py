"""The ingestion pipeline: discover → extract → clean → structure → chunk → embed → store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import failpoints
from .chunk import Chunker
from .dspace import item_sources
from .embed import Embedder, load_embedder, resolve_model
from .errors import ExtractionError, IndexError_
from .model import sha256_file
from .readers import UNEXPECTED, extract_many, read_pages  # noqa: F401 - re-exported
from .records import Chunk, DocumentMeta, Page
from .sentences import build_sentences
from .settings import Settings
from .sources import Source, assign_ids, discover, load_sources, meta_for
from .store import FORMAT_VERSION
from .stores import open_store
from .versions import link_versions

logger = logging.getLogger(__name__)


@dataclass
class FileResult:
    path: str
    doc_id: str = ""
    status: str = "indexed"  # indexed | unchanged | failed | removed
    pages: int = 0
    chunks: int = 0
    error: str = ""


@dataclass
class BuildReport:
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0
    generation: str = ""
    written: bool = False
    embedded: int = 0
    full_rebuild: bool = False

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.files if f.status in ("indexed", "unchanged"))

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("indexed", "unchanged"))


def _reusable(prev_files: dict[str, dict], digests: dict[str, str]) -> dict[str, dict]:
    """The previous build's entries of files whose content is unchanged (by
    path). An id that two files shared in the previous index (a build before
    ids were unique) is not trusted: those files are read again."""
    count: dict[str, int] = {}
    for e in prev_files.values():
        doc_id = (e.get("doc") or {}).get("id", "")
        count[doc_id] = count.get(doc_id, 0) + 1
    return {
        rel: old
        for rel, old in prev_files.items()
        if rel in digests and _unchanged(old, digests[rel]) and count[old["doc"]["id"]] == 1
    }


def _unchanged(old: dict | None, digest: str) -> bool:
    """Whether a file indexed before is the same now, so its vectors are kept
    (a file that failed is always read again)."""
    return bool(old) and old["sha256"] == digest and old["status"] != "failed"


def _take(extracted: dict[Path, object], path: Path) -> tuple[str, list[Page]]:
    value = extracted[path]
    if isinstance(value, ExtractionError):
        raise value
    return value


def _chunk_settings(settings: Settings) -> dict:
    return {
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "splitter": "langchain RecursiveCharacterTextSplitter (token-sized)",
        # Version of how text becomes passages; a change rebuilds every index.
        # 2: title and heading path embedded with each passage, front matter
        # joined to the first section, plain-text headings.
        "passages": 2,
    }


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Bring the index in ``settings.index_dir`` (or, with ``settings.backend``,
    in PostgreSQL: ingest/stores.py) up to date with the corpus.

    Unchanged files keep their vectors; changed files are re-embedded; removed
    files leave the index. ``on_file`` hears about each file as it is done;
    ``progress(done, total)`` about embedding. The live index is replaced only
    when the new one is complete.
    """
    started = time.monotonic()
    report = BuildReport()

    def get_embedder() -> Embedder:
        nonlocal embedder
        if embedder is None:
            embedder = load_embedder(settings)
        return embedder

    store = open_store(settings)
    try:
        return _build(settings, store, report, started, embedder, get_embedder, on_file, progress)
    finally:
        store.close()


def _build(settings, store, report, started, embedder, get_embedder, on_file, progress):
    corpus = settings.corpus_dir
    if embedder is not None:
        model_name, fingerprint = embedder.name, embedder.fingerprint
    else:
        _, model_name, fingerprint = resolve_model(settings)
    with store.lock():
        stale = store.remove_stale()
        if stale:
            logger.info("removed %d temporary item(s) left by an interrupted build", len(stale))
        previous = None
        try:
            previous = store.previous()
        except IndexError_ as exc:
            if store.has_index():
                logger.warning("previous index unusable, rebuilding everything: %s", exc)
        reusable = (
            previous is not None
            and previous.manifest["model"]["fingerprint"] == fingerprint
            and previous.manifest["chunking"] == _chunk_settings(settings)
        )
        report.full_rebuild = previous is not None and not reusable
        prev_files = previous.manifest["files"] if reusable else {}
        prev_rows: dict[str, list[int]] = {}
        if reusable:
            for row, c in enumerate(previous.chunks):
                prev_rows.setdefault(c.doc_id, []).append(row)

        sources = load_sources(corpus)
        sources += item_sources(corpus, sources)  # a publication's other files (fetch)
        by_file: dict[str, Source] = {s.file: s for s in sources if s.file}
        now = datetime.now(UTC).isoformat(timespec="seconds")

        kept_vectors: list[np.ndarray] = []
        kept_chunks: list[Chunk] = []
        new_chunks: list[Chunk] = []
        files_manifest: dict[str, dict] = {}
        changed = False

        paths = list(discover(corpus, settings.extensions))
        digests = {path: sha256_file(path) for path in paths}
        reuse = _reusable(
            prev_files, {p.relative_to(corpus).as_posix(): d for p, d in digests.items()}
        )
        ids = assign_ids(
            [p.relative_to(corpus).as_posix() for p in paths],
            by_file,
            {rel: e["doc"]["id"] for rel, e in reuse.items()},
            {s.id for s in sources},
        )
        todo = [p for p in paths if p.relative_to(corpus).as_posix() not in reuse]
        extracted = extract_many(todo, settings)

        for path in paths:
            rel = path.relative_to(corpus).as_posix()
            result = FileResult(rel)
            digest = digests[path]
            old = reuse.get(rel)
            entry = {"sha256": digest, "size": path.stat().st_size}
            if old is not None:
                meta = DocumentMeta(**old["doc"])
                src = by_file.get(rel)
                if src is not None:  # metadata edits apply without re-embedding
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
                meta = replace(meta, id=ids[rel])
                rows = prev_rows.get(old["doc"]["id"], [])
                doc_fields = {
                    "doc_id": meta.id,
                    "title": meta.title,
                    "lang": meta.lang,
                    "kind": meta.kind,
                    "group": meta.group,
                }
                chunks = [replace(previous.chunks[r], **doc_fields) for r in rows]
                chunks = [replace(c, chunk_id=f"{meta.id}#{c.ordinal}") for c in chunks]
                if meta != DocumentMeta(**old["doc"]):
                    changed = True
                kept_vectors.append(previous.vectors(rows))
                kept_chunks.extend(chunks)
                result = FileResult(rel, meta.id, "unchanged", old["pages"], len(chunks))
                entry.update(old, doc=asdict(meta))
            else:
                changed = True
                try:
                    title_hint, pages = _take(extracted, path)
                    sample = " ".join(p.text for p in pages[:3])
                    meta = meta_for(path, corpus, by_file, title_hint, sample)
                    meta = replace(meta, id=ids[rel])
                    emb = get_embedder()
                    chunker = Chunker(
                        emb.count_tokens,
                        settings.chunk_tokens,
                        settings.chunk_overlap,
                        emb.passage_overhead,
                    )
                    chunks = chunker.chunk(meta, pages)
                    new_chunks.extend(chunks)
                    result = FileResult(rel, meta.id, "indexed", len(pages), len(chunks))
                    entry.update(
                        status="indexed",
                        error="",
                        pages=len(pages),
                        chunks=len(chunks),
                        indexed_at=now,
                        doc=asdict(meta),
                    )
                except ExtractionError as exc:
                    result = FileResult(rel, "", "failed", error=exc.reason)
                    entry.update(
                        status="failed",
                        error=exc.reason,
                        pages=0,
                        chunks=0,
                        indexed_at=now,
                        doc=None,
                    )
            files_manifest[rel] = entry
            report.files.append(result)
            if on_file:
                on_file(result)

        for rel in sorted(set(prev_files) - set(files_manifest)):
            changed = True
            doc_id = (prev_files[rel].get("doc") or {}).get("id", "")
            report.files.append(FileResult(rel, doc_id, "removed"))

        if previous is not None and not changed and reusable:
            report.generation = previous.name
            report.seconds = time.monotonic() - started
            return report

        if new_chunks:
            emb = get_embedder()
            total, done = len(new_chunks), 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(done, total)
                failpoints.reached("embed")

            new_vectors = emb.embed_passages([c.indexed_text for c in new_chunks], progress=tick)
            report.embedded = total
            dim = new_vectors.shape[1]
        else:
            new_vectors = None
            dim = previous.manifest["model"]["dim"] if reusable else (get_embedder().dim)

        # Row order: documents in file order, chunks in document order.
        all_chunks = kept_chunks + new_chunks
        parts = [v for v in kept_vectors if len(v)]
        if new_vectors is not None:
            parts.append(new_vectors)
        vectors = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        order_of = {rel: i for i, rel in enumerate(files_manifest)}
        doc_file = {e["doc"]["id"]: rel for rel, e in files_manifest.items() if e.get("doc")}
        order = sorted(
            range(len(all_chunks)),
            key=lambda i: (order_of[doc_file[all_chunks[i].doc_id]], all_chunks[i].ordinal),
        )
        all_chunks = [all_chunks[i] for i in order]
        vectors = vectors[order] if len(order) else vectors
        all_chunks, links = link_versions(all_chunks)  # language versions without a group

        manifest = {
            "format_version": FORMAT_VERSION,
            "created": now,
            "model": {"name": model_name, "fingerprint": fingerprint, "dim": int(dim)},
            "chunking": _chunk_settings(settings),
            "corpus": str(corpus.resolve()),  # what `ingest status --index X` lists against
            "versions": [link.to_json() for link in links],
            "counts": {
                "documents": sum(1 for e in files_manifest.values() if e.get("doc")),
                "pages": sum(e.get("pages", 0) for e in files_manifest.values()),
                "chunks": len(all_chunks),
                "failed": sum(1 for e in files_manifest.values() if e["status"] == "failed"),
            },
            "files": files_manifest,
        }
        sentences = None
        if store.keeps_sentences:  # for the page's best sentences
            sentences = build_sentences(
                all_chunks,
                get_embedder,
                getattr(previous, "sentences", None) if reusable else None,
                previous.chunks if reusable else (),
                progress,
            )
        report.generation = store.write(vectors, all_chunks, manifest, sentences)
        report.written = True
    report.seconds = time.monotonic() - started
    return report
