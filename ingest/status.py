"""What the index holds, per document, for the CLI and the app."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ingest.fetching.availability import PRESENT, Reason, Why, source_states
from ingest.storage.stores import live_manifest
from kb.text import dictionaries


@dataclass(frozen=True)
class DocStatus:
    path: str
    doc_id: str
    title: str
    lang: str
    kind: str
    pages: int
    chunks: int
    # indexed | failed (unreadable, or its fetch failed) | missing (listed in
    # sources.toml, no file: error says what to do) | not indexed (new file)
    status: str
    error: str
    indexed_at: str
    reasons: tuple[Reason, ...] = ()  # why, and what to do, as codes the page translates


def index_status(
    index_dir: Path, corpus_dir: Path | None = None, backend: str = ""
) -> tuple[dict, list[DocStatus]]:
    """(manifest without the per-file table, one row per document), with the
    sources.toml entries of ``corpus_dir`` (default: the corpus the index was
    built from) that are not in the index, each saying what to do
    (ingest/fetching/availability.py). Raises
    IndexMissingError / IndexCorruptError when there is nothing to read.
    ``backend``: a PostgreSQL address to read the live generation from."""
    name, manifest = live_manifest(index_dir, backend)
    rows = []
    for rel, entry in manifest["files"].items():
        doc = entry.get("doc") or {}
        rows.append(
            DocStatus(
                path=rel,
                doc_id=doc.get("id", ""),
                title=doc.get("title", ""),
                lang=doc.get("lang", ""),
                kind=doc.get("kind", ""),
                pages=entry.get("pages", 0),
                chunks=entry.get("chunks", 0),
                status=entry["status"],
                error=entry.get("error", ""),
                indexed_at=entry.get("indexed_at", ""),
                reasons=(Reason(Why.UNREADABLE, (), entry.get("error", "")),)
                if entry["status"] == "failed"
                else (),
            )
        )
    if corpus_dir is None and manifest.get("corpus"):
        corpus_dir = Path(manifest["corpus"])  # the corpus this index was built from
    if corpus_dir is not None and corpus_dir.is_dir():
        present = {r.path: i for i, r in enumerate(rows)}
        for src in source_states(corpus_dir, manifest["files"]):
            if src.path in present:
                i = present[src.path]
                if not rows[i].doc_id:  # a file that failed: named by its entry
                    title = src.title or src.id
                    rows[i] = replace(
                        rows[i], doc_id=src.id, title=title, lang=src.lang, kind=src.kind
                    )
                continue
            status = "not indexed" if src.state == PRESENT else src.state
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
    facts = {k: v for k, v in manifest.items() if k != "files"}
    facts["generation"] = name
    facts["dictionaries"] = dictionaries.status_note()  # None: the lexical bridge is whole
    return facts, rows


def row_counts(rows: list[DocStatus]) -> dict[str, int]:
    """Counts that agree with the rows: documents, pages and passages
    indexed, and how many failed, are missing or are not indexed yet."""
    indexed = [r for r in rows if r.status == "indexed"]
    return {
        "documents": len(indexed),
        "pages": sum(r.pages for r in indexed),
        "chunks": sum(r.chunks for r in indexed),
        "failed": sum(r.status == "failed" for r in rows),
        "missing": sum(r.status == "missing" for r in rows),
        "waiting": sum(r.status == "not indexed" for r in rows),
    }
