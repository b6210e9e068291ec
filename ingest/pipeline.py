"""The ingestion pipeline: discover → extract → clean → structure → chunk → embed → store."""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import connection as mp_connection
from pathlib import Path

import numpy as np

from . import failpoints
from .chunk import Chunker
from .clean import clean_pages
from .embed import Embedder, load_embedder, resolve_model
from .errors import ExtractionError, IndexError_
from .extract import extract
from .model import sha256_file
from .records import Chunk, DocumentMeta, Page
from .settings import Settings
from .sources import Source, assign_ids, discover, load_sources, meta_for
from .store import FORMAT_VERSION, build_lock, load_generation, remove_stale, write_generation
from .structure import HeadingFinder

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


def read_pages(path: Path, settings: Settings) -> tuple[str, list[Page]]:
    """Extract, clean and find headings: (title hint, cleaned pages)."""
    raw = extract(path, settings.max_file_mb * 1_000_000, settings.max_pages)
    texts = clean_pages([text for _, text in raw.pages])
    finder = HeadingFinder(raw.hints)
    pages = [
        Page(number=i + 1, label=label, text=text, headings=finder.find(i + 1, text))
        for i, ((label, _), text) in enumerate(zip(raw.pages, texts, strict=True))
    ]
    if not any(p.text for p in pages):
        raise ExtractionError(path, "no text left after cleaning")
    return raw.title_hint, pages


UNEXPECTED = "unexpected error while reading"


def _read_pages_or_reason(path: Path, settings: Settings):
    """The result, or the reason as a plain string (an ExtractionError with
    its two arguments does not survive pickling). An exception of any other
    type is a bug in a reader: it becomes a reason too, marked as unexpected,
    so one strange file never stops a build."""
    try:
        return read_pages(path, settings)
    except ExtractionError as exc:
        return exc.reason
    except RecursionError:
        return "corrupt PDF (structure nested too deeply)"
    except MemoryError:
        return "file needs more memory than is available to read"
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.exception("%s: unexpected error while reading", path)
        return f"{UNEXPECTED} ({type(exc).__name__}: {str(exc)[:160]})"


def _reader_child(conn, path: Path, settings: Settings) -> None:
    """Entry point of a reader process: one file, its result down the pipe."""
    try:
        conn.send(_read_pages_or_reason(path, settings))
    finally:
        conn.close()


def extract_many(paths: list[Path], settings: Settings) -> dict[Path, object]:
    """Read many files: path → (title hint, pages) or ExtractionError.

    PDFs are read in child processes, ``settings.workers`` at a time (pypdf
    is pure Python, so threads would not help), each with a time limit of
    ``settings.file_timeout`` seconds: a reader that takes longer is killed
    and its file reported, and a reader that dies takes only its own file
    down. Text formats are read in this process. With ``file_timeout`` 0
    and one worker, PDFs are read in this process too, unguarded.
    """
    pdfs = [p for p in paths if p.suffix.lower() == ".pdf"]
    out: dict[Path, object] = {}
    if pdfs and (settings.file_timeout > 0 or settings.workers > 1):
        out.update(_read_in_children(pdfs, settings))
    for path in paths:
        if path not in out:
            value = _read_pages_or_reason(path, settings)
            out[path] = ExtractionError(path, value) if isinstance(value, str) else value
    return out


def _read_in_children(pdfs: list[Path], settings: Settings) -> dict[Path, object]:
    # fork where there is one: spawn and forkserver children re-import the
    # parent's __main__, which under Streamlit (or its AppTest) is the page
    # script. The children only run pypdf, never torch.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    limit = settings.file_timeout or None
    waiting = sorted(pdfs, key=lambda p: p.stat().st_size, reverse=True)  # largest first
    running: dict[object, tuple[object, Path, float | None]] = {}
    out: dict[Path, object] = {}
    workers = max(1, settings.workers)
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                path = waiting.pop(0)
                receive, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_reader_child, args=(send, path, settings), daemon=True)
                proc.start()
                send.close()
                deadline = time.monotonic() + limit if limit else None
                running[receive] = (proc, path, deadline)
            failpoints.reached("extract")
            deadlines = [d for _, _, d in running.values() if d is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            for conn in mp_connection.wait(list(running), timeout):
                proc, path, _ = running.pop(conn)
                try:
                    value = conn.recv()
                except (EOFError, OSError):
                    value = None
                conn.close()
                proc.join()
                if value is None:
                    value = f"the reader crashed on this file (exit code {proc.exitcode})"
                out[path] = ExtractionError(path, value) if isinstance(value, str) else value
            now = time.monotonic()
            for conn, (proc, path, deadline) in list(running.items()):
                if deadline is not None and now >= deadline:
                    proc.kill()
                    proc.join()
                    conn.close()
                    del running[conn]
                    out[path] = ExtractionError(
                        path,
                        f"reading took longer than {settings.file_timeout} s (KB_FILE_TIMEOUT); "
                        "skipped",
                    )
    finally:
        for conn, (proc, _, _) in running.items():
            proc.kill()
            proc.join()
            conn.close()
    return out


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
    }


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Bring the index in ``settings.index_dir`` up to date with the corpus.

    Unchanged files keep their vectors; changed files are re-embedded; removed
    files leave the index. ``on_file`` hears about each file as it is done;
    ``progress(done, total)`` about embedding. The live index is replaced only
    when the new one is complete.
    """
    started = time.monotonic()
    report = BuildReport()
    corpus, index_dir = settings.corpus_dir, settings.index_dir
    if embedder is not None:
        model_name, fingerprint = embedder.name, embedder.fingerprint
    else:
        _, model_name, fingerprint = resolve_model(settings)

    def get_embedder() -> Embedder:
        nonlocal embedder
        if embedder is None:
            embedder = load_embedder(settings)
        return embedder

    with build_lock(index_dir):
        stale = remove_stale(index_dir)
        if stale:
            logger.info("removed %d temporary item(s) left by an interrupted build", len(stale))
        previous = None
        try:
            previous = load_generation(index_dir)
        except IndexError_ as exc:
            if (index_dir / "CURRENT").exists():
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

            new_vectors = emb.embed_passages([c.text for c in new_chunks], progress=tick)
            report.embedded = total
            dim = new_vectors.shape[1]
        else:
            new_vectors = None
            dim = previous.index.d if reusable else (get_embedder().dim)

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

        manifest = {
            "format_version": FORMAT_VERSION,
            "created": now,
            "model": {"name": model_name, "fingerprint": fingerprint, "dim": int(dim)},
            "chunking": _chunk_settings(settings),
            "corpus": str(corpus.resolve()),  # what `ingest status --index X` lists against
            "counts": {
                "documents": sum(1 for e in files_manifest.values() if e.get("doc")),
                "pages": sum(e.get("pages", 0) for e in files_manifest.values()),
                "chunks": len(all_chunks),
                "failed": sum(1 for e in files_manifest.values() if e["status"] == "failed"),
            },
            "files": files_manifest,
        }
        final = write_generation(index_dir, vectors, all_chunks, manifest)
        report.generation = final.name
        report.written = True
    report.seconds = time.monotonic() - started
    return report
