"""The ingestion pipeline: discover → extract → clean → structure → chunk → embed → store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.chunk import Chunker
from ingest.corpus.sources import Source, assign_ids, discover, meta_for
from ingest.fetching.discovery import discovered_sources
from ingest.fetching.dspace import item_sources
from ingest.fetching.filling import filled_sources
from ingest.progress import FileOutcome, Stage, StageProgress, no_progress
from ingest.reading.readers import UNEXPECTED, extract_many, read_pages  # noqa: F401 - re-exported
from ingest.reuse import Prior, kept_document, prior_index, reusable_entries
from ingest.storage.buildwait import corpus_read_lock
from ingest.storage.stores import open_store
from ingest.versions import link_versions
from kb import failpoints
from kb.errors import ExtractionError
from kb.hashing import sha256_file
from kb.index.manifest import Counts, EntryStatus, FileEntry, Manifest, ModelInfo
from kb.index.sentences import build_sentences
from kb.model.embedder import Embedder, load_embedder, resolve_model
from kb.model.indexed import indexed_model
from kb.records import Chunk, Page
from kb.settings import Settings
from kb.text import dictionaries, morphology

logger = logging.getLogger(__name__)


_READ = (FileOutcome.INDEXED, FileOutcome.UNCHANGED)  # in the index after the build


@dataclass
class FileResult:
    path: str
    doc_id: str = ""
    status: FileOutcome = FileOutcome.INDEXED
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
        return [f for f in self.files if f.status == FileOutcome.FAILED]

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.files if f.status in _READ)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files if f.status in _READ)


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
    stages: StageProgress | None = None,
) -> BuildReport:
    """Bring the index in ``settings.index_dir`` (or, with ``settings.backend``,
    in PostgreSQL: ingest/storage/stores.py) up to date with the corpus.

    Unchanged files keep their vectors; changed files are re-embedded; removed
    files leave the index. ``on_file`` hears about each file as it is done;
    ``progress(done, total)`` about embedding; ``stages`` about every stage
    (ingest/progress.py). The live index is replaced only when the new one
    is complete.
    """
    started = time.monotonic()
    report = BuildReport()
    store = open_store(settings)
    try:
        return _build(
            settings, store, report, started, embedder, on_file, progress, stages or no_progress
        )
    finally:
        store.close()


def _lazy(settings: Settings, embedder: Embedder | None) -> Callable[[], Embedder]:
    """The embedder, loaded for ``settings`` at its first use (an
    incremental build with nothing new loads no model)."""
    loaded = [embedder]

    def get_embedder() -> Embedder:
        if loaded[0] is None:
            loaded[0] = load_embedder(settings)
        return loaded[0]

    return get_embedder


def _build(settings, store, report, started, embedder, on_file, progress, stages):
    with store.lock(), corpus_read_lock(settings.corpus_dir):
        if embedder is None:
            # An adapted model stays in use (kb/model/indexed.py), chosen under
            # the lock: a build queued behind a model switch sees the switch.
            settings = indexed_model(settings)
            _, model_name, fingerprint = resolve_model(settings)
        else:
            model_name, fingerprint = embedder.name, embedder.fingerprint
        get_embedder = _lazy(settings, embedder)
        prior = prior_index(store, fingerprint, _chunk_settings(settings))
        report.full_rebuild = prior.index is not None and not prior.reusable
        docs = _gather(settings, prior, get_embedder, report, on_file, stages)
        if prior.reusable and not docs.changed:
            if prior.index.manifest.lexical == morphology.analysis():
                report.generation = prior.index.name
                report.seconds = time.monotonic() - started
                return report
            logger.info(
                "the lexical analysis changed (%s, now %s): writing BM25's terms anew",
                prior.index.manifest.lexical or "not recorded",
                morphology.analysis(),
            )
        new_vectors = _embed(docs.new_chunks, get_embedder, progress, report, stages)
        if new_vectors is not None:
            dim = new_vectors.shape[1]
        else:
            dim = prior.index.manifest.model.dim if prior.reusable else get_embedder().dim
        all_chunks, vectors = _in_file_order(docs, new_vectors, dim)
        all_chunks, links = link_versions(all_chunks)  # language versions without a group
        manifest = Manifest(
            model=ModelInfo(model_name, fingerprint, int(dim)),
            chunking=_chunk_settings(settings),
            files=docs.files,
            created=docs.now,
            corpus=str(settings.corpus_dir.resolve()),  # what `ingest status --index X` lists
            versions=[link.to_json() for link in links],
            counts=Counts.of(docs.files, len(all_chunks)),
            lexical=morphology.analysis(),
        )
        sentences = None
        if store.keeps_sentences:  # for the page's best sentences
            sentences = build_sentences(
                all_chunks,
                get_embedder,
                getattr(prior.index, "sentences", None) if prior.reusable else None,
                prior.index.chunks if prior.reusable else (),
                _both(progress, stages, Stage.SENTENCES),
            )
        analyses = _finnish_analyses(all_chunks, prior, _both(None, stages, Stage.ANALYSING))
        stages(Stage.WRITING, 0, 1)
        _stamp_finished(manifest, docs.now)
        report.generation = store.write(vectors, all_chunks, manifest, sentences, analyses)
        stages(Stage.WRITING, 1, 1)
        report.written = True
    report.seconds = time.monotonic() - started
    return report


def _finnish_analyses(chunks: list[Chunk], prior: Prior, progress) -> dict:
    """The index terms of the Finnish passages' words and of the lexical
    bridge's Finnish translations (kb/text/morphology.py): the live
    generation's where it made them with the same analysis, the new words
    analysed in a child process."""
    if not morphology.available():
        return {}
    texts = [c.indexed_text for c in chunks if c.lang == "fi"]
    if not texts:
        return {}
    words = morphology.finnish_words(texts) | dictionaries.words_into("fi")
    same = prior.index is not None and prior.index.manifest.lexical == morphology.analysis()
    known = getattr(prior.index, "analyses", None) if same else None
    return morphology.with_stems(morphology.analyse(words, known, progress))


def _stamp_finished(manifest: Manifest, started: str) -> None:
    """ "Built" and each file read by this build's "indexed" say when the
    build finished (its generation is complete), not when it began; the
    start stays as ``started``. Files kept from an earlier build keep theirs."""
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    manifest.started, manifest.created = started, finished
    for entry in manifest.files.values():
        if entry.indexed_at == started:
            entry.indexed_at = finished


@dataclass
class _Documents:
    """The corpus as this build found it, file by file."""

    now: str
    files: dict[str, FileEntry] = field(default_factory=dict)  # the manifest's, by path
    kept_chunks: list[Chunk] = field(default_factory=list)
    kept_vectors: list[np.ndarray] = field(default_factory=list)
    new_chunks: list[Chunk] = field(default_factory=list)
    changed: bool = False


def _gather(settings, prior: Prior, get_embedder, report, on_file, stages) -> _Documents:
    """Every file of the corpus: kept (unchanged, its chunks and vectors
    taken over), read and chunked (new or changed), or failed; and the
    files that left. Reports each file as it is done."""
    corpus = settings.corpus_dir
    sources = filled_sources(corpus)  # an entry's address may come from the pages
    sources += discovered_sources(corpus, sources)  # found on the official pages (fetch)
    sources += item_sources(corpus, sources)  # a publication's other files (fetch)
    by_file: dict[str, Source] = {s.file: s for s in sources if s.file}
    docs = _Documents(now=datetime.now(UTC).isoformat(timespec="seconds"))
    paths = list(discover(corpus, settings.extensions))
    stages(Stage.READING, 0, len(paths))
    digests = {path.relative_to(corpus).as_posix(): sha256_file(path) for path in paths}
    reuse = reusable_entries(prior.files, digests, set(by_file))
    ids = assign_ids(
        list(digests),
        by_file,
        {rel: e.doc_id for rel, e in reuse.items()},
        {s.id for s in sources},
    )
    extracted = extract_many(
        [p for p in paths if p.relative_to(corpus).as_posix() not in reuse], settings
    )
    for path in paths:
        rel = path.relative_to(corpus).as_posix()
        entry = FileEntry(sha256=digests[rel], size=path.stat().st_size)
        if rel in reuse:
            kept = kept_document(prior, reuse[rel], by_file.get(rel), ids[rel])
            docs.changed |= kept.edited
            docs.kept_vectors.append(kept.vectors)
            docs.kept_chunks.extend(kept.chunks)
            result = FileResult(
                rel, kept.meta.id, FileOutcome.UNCHANGED, reuse[rel].pages, len(kept.chunks)
            )
            entry = replace(reuse[rel], size=entry.size, doc=kept.meta)
        else:
            docs.changed = True
            entry, result = _read_file(
                settings, path, rel, ids[rel], by_file, extracted, get_embedder, docs, entry
            )
        entry.described = rel in by_file  # its metadata from a sources.toml entry
        docs.files[rel] = entry
        report.files.append(result)
        stages(Stage.READING, len(report.files), len(paths))
        if on_file:
            on_file(result)
    for rel in sorted(set(prior.files) - set(docs.files)):
        docs.changed = True
        report.files.append(FileResult(rel, prior.files[rel].doc_id, FileOutcome.REMOVED))
    return docs


def _read_file(settings, path, rel, doc_id, by_file, extracted, get_embedder, docs, entry):
    """A new or changed file: its metadata and chunks (added to ``docs``),
    or the reason it failed: (its manifest entry, its result)."""
    try:
        title_hint, pages = _take(extracted, path)
        sample = " ".join(p.text for p in pages[:3])
        meta = replace(meta_for(path, settings.corpus_dir, by_file, title_hint, sample), id=doc_id)
        emb = get_embedder()
        chunker = Chunker(
            emb.count_tokens, settings.chunk_tokens, settings.chunk_overlap, emb.passage_overhead
        )
        chunks = chunker.chunk(meta, pages)
    except ExtractionError as exc:
        entry = replace(
            entry, status=EntryStatus.FAILED, error=exc.reason, indexed_at=docs.now, doc=None
        )
        return entry, FileResult(rel, "", FileOutcome.FAILED, error=exc.reason)
    docs.new_chunks.extend(chunks)
    entry = replace(
        entry,
        status=EntryStatus.INDEXED,
        pages=len(pages),
        chunks=len(chunks),
        indexed_at=docs.now,
        doc=meta,
    )
    return entry, FileResult(rel, meta.id, FileOutcome.INDEXED, len(pages), len(chunks))


def _embed(chunks: list[Chunk], get_embedder, progress, report, stages) -> np.ndarray | None:
    """The new chunks' vectors (None when there are none)."""
    if not chunks:
        return None
    total, done = len(chunks), 0
    stages(Stage.PASSAGES, 0, total)

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)
        stages(Stage.PASSAGES, done, total)
        failpoints.reached("embed")

    vectors = get_embedder().embed_passages([c.indexed_text for c in chunks], progress=tick)
    report.embedded = total
    return vectors


def _both(progress, stages: StageProgress, stage: Stage) -> Callable[[int, int], None]:
    """One ``(done, total)`` callback feeding the old ``progress`` and ``stages``."""

    def call(done: int, total: int) -> None:
        if progress:
            progress(done, total)
        stages(stage, done, total)

    return call


def _in_file_order(docs: _Documents, new_vectors, dim: int) -> tuple[list[Chunk], np.ndarray]:
    """Chunks and their vectors in row order: documents in file order,
    chunks in document order."""
    all_chunks = docs.kept_chunks + docs.new_chunks
    parts = [v for v in docs.kept_vectors if len(v)]
    if new_vectors is not None:
        parts.append(new_vectors)
    vectors = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)
    order_of = {rel: i for i, rel in enumerate(docs.files)}
    doc_file = {e.doc.id: rel for rel, e in docs.files.items() if e.doc is not None}
    order = sorted(
        range(len(all_chunks)),
        key=lambda i: (order_of[doc_file[all_chunks[i].doc_id]], all_chunks[i].ordinal),
    )
    return [all_chunks[i] for i in order], (vectors[order] if order else vectors)
