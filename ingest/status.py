"""What the index holds, per document, for the CLI and the app."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ingest.fetching.availability import Availability, Reason, Why, source_states
from ingest.storage.stores import live_manifest
from kb.choices import Choice
from kb.index.manifest import Manifest
from kb.records import DocumentMeta
from kb.text import dictionaries, morphology


class DocState(Choice):
    """A document's row in ``ingest status`` and the page's documents view."""

    INDEXED = "indexed"
    FAILED = "failed"  # unreadable, or its fetch failed
    MISSING = "missing"  # listed in sources.toml, no file: the error says what to do
    NOT_INDEXED = "not indexed"  # a file the live index does not hold yet


@dataclass(frozen=True)
class DocStatus:
    path: str
    doc_id: str
    title: str
    lang: str
    kind: str
    pages: int
    chunks: int
    status: DocState
    error: str
    indexed_at: str
    reasons: tuple[Reason, ...] = ()  # why, and what to do, as codes the page translates


@dataclass(frozen=True)
class IndexFacts:
    """What ``ingest status`` and the documents view say of the live index."""

    manifest: Manifest
    generation: str | None
    dictionaries: str | None  # what the lexical bridge lacks; None: it is whole
    morphology: str | None = None  # what Finnish lexical search lacks; None: nothing

    def to_json(self) -> dict:
        """``ingest status --json``'s "index": the manifest but its files."""
        facts = {k: v for k, v in self.manifest.to_json().items() if k != "files"}
        return facts | {
            "generation": self.generation,
            "dictionaries": self.dictionaries,
            "morphology": self.morphology,
        }


_UNNAMED = DocumentMeta(id="", title="", lang="", kind="")  # a file that failed


def index_status(
    index_dir: Path, corpus_dir: Path | None = None, backend: str = ""
) -> tuple[IndexFacts, list[DocStatus]]:
    """(the index's facts, one row per document), with the
    sources.toml entries of ``corpus_dir`` (default: the corpus the index was
    built from) that are not in the index, each saying what to do
    (ingest/fetching/availability.py). Raises
    IndexMissingError / IndexCorruptError when there is nothing to read.
    ``backend``: a PostgreSQL address to read the live generation from."""
    name, manifest = live_manifest(index_dir, backend)
    rows = []
    for rel, entry in manifest.files.items():
        doc = entry.doc or _UNNAMED
        status = DocState(entry.status)
        rows.append(
            DocStatus(rel, doc.id, doc.title, doc.lang, doc.kind, entry.pages, entry.chunks,
                      status, entry.error, entry.indexed_at,
                      (Reason(Why.UNREADABLE, (), entry.error),) if entry.failed else ())
        )  # fmt: skip
    if corpus_dir is None and manifest.corpus:
        corpus_dir = Path(manifest.corpus)  # the corpus this index was built from
    if corpus_dir is not None and corpus_dir.is_dir():
        present = {r.path: i for i, r in enumerate(rows)}
        for src in source_states(corpus_dir, manifest.files):
            if src.path in present:
                i = present[src.path]
                if not rows[i].doc_id:  # a file that failed: named by its entry
                    title = src.title or src.id
                    rows[i] = replace(
                        rows[i], doc_id=src.id, title=title, lang=src.lang, kind=src.kind
                    )
                continue
            status = (
                DocState.NOT_INDEXED if src.state is Availability.PRESENT else DocState(src.state)
            )
            title = src.title or src.id  # a title read from the file later: its id till then
            rows.append(
                DocStatus(
                    src.path,
                    src.id,
                    title,
                    src.lang,
                    src.kind,
                    0,
                    0,
                    status,
                    src.detail,
                    "",
                    tuple(r for r in src.reasons if r.why is not Why.SNAPSHOT),
                )
            )
    facts = IndexFacts(manifest, name, dictionaries.status_note(), morphology.status_note())
    return facts, rows


def row_counts(rows: list[DocStatus]) -> dict[str, int]:
    """Counts that agree with the rows: documents, pages and passages
    indexed, and how many failed, are missing or are not indexed yet."""
    indexed = [r for r in rows if r.status == DocState.INDEXED]
    return {
        "documents": len(indexed),
        "pages": sum(r.pages for r in indexed),
        "chunks": sum(r.chunks for r in indexed),
        "failed": sum(r.status == DocState.FAILED for r in rows),
        "missing": sum(r.status == DocState.MISSING for r in rows),
        "waiting": sum(r.status == DocState.NOT_INDEXED for r in rows),
    }
