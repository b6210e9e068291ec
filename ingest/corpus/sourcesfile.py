"""Editing corpus/sources.toml without losing its comments or order.

tomlkit reads the file into a document that writes back byte for byte,
so an entry can be appended, changed or dropped while every comment, blank
line and the order of the other entries stay as they were. A new text is
written to a temporary file beside the old one, read back as the build
reads it (``load_sources``: an edit that would break the build is never
written), and renamed over the old one (``os.replace``): a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table

from ingest.corpus.sources import SOURCES_FILE, SourcesError, load_sources

HEADER = """Metadata for the documents of the knowledge base (see the README).
One [[document]] per file: id, file, title, lang, kind, group, url, note."""


def parse(text: str) -> tomlkit.TOMLDocument:
    """The document of a sources.toml text (a new one, with a header
    comment, when the text is empty). Raises SourcesError."""
    if not text.strip():
        doc = tomlkit.document()
        for line in HEADER.splitlines():
            doc.add(tomlkit.comment(line))
        doc.add(tomlkit.nl())
        return doc
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SourcesError(f"{SOURCES_FILE}: {exc}") from exc


def _entries(doc: tomlkit.TOMLDocument) -> AoT:
    if "document" not in doc:
        doc.append("document", tomlkit.aot())
    entries = doc["document"]
    if not isinstance(entries, AoT) and isinstance(entries, list) and not entries:
        doc["document"] = entries = tomlkit.aot()  # "document = []": the last one was removed
    if not isinstance(entries, AoT):
        raise SourcesError(f"{SOURCES_FILE}: 'document' must be a list of [[document]] tables")
    return entries


def append(doc: tomlkit.TOMLDocument, entry: dict[str, str]) -> None:
    """Add a ``[[document]]`` after the last one, its keys in ``entry``'s order."""
    table = tomlkit.table()
    for key, value in entry.items():
        table.add(key, value)
    text = tomlkit.dumps(doc)
    if text and not text.endswith("\n\n"):  # one blank line before it, as between the others
        table.trivia.indent = "\n" if text.endswith("\n") else "\n\n"
    _entries(doc).append(table)


def find(doc: tomlkit.TOMLDocument, doc_id: str) -> Table | None:
    return next((t for t in _entries(doc) if t.get("id") == doc_id), None)


def drop(doc: tomlkit.TOMLDocument, doc_id: str) -> None:
    """Remove the ``[[document]]`` of ``doc_id``; the others stay as they are."""
    entries = _entries(doc)
    for i, table in enumerate(entries):
        if table.get("id") == doc_id:
            del entries[i]
            if not entries:  # not "document = []", which tomlkit reads back as no table list
                del doc["document"]
            return
    raise SourcesError(f"{SOURCES_FILE}: no document {doc_id!r}")


def join_group(doc: tomlkit.TOMLDocument, other_id: str, listed) -> str:
    """The group a new language version of ``other_id`` joins: that
    document's group, or, when it has none, its id, which then becomes its
    group too (an entry is made for a file that has none). ``listed``: the
    corpus's documents (ingest.library.documents)."""
    table = find(doc, other_id)
    if table is not None:
        group = str(table.get("group", "")) or other_id
        if not table.get("group"):
            table["group"] = group
        return group
    other = next((d for d in listed if d.id == other_id), None)
    if other is None or not other.present:
        raise SourcesError(f"{SOURCES_FILE}: no document {other_id!r} to be a version of")
    entry = {"id": other_id, "file": other.path, "kind": other.kind, "group": other_id}
    append(doc, {k: v for k, v in entry.items() if k != "kind" or v != "other"})
    return other_id


def write(corpus_dir: Path, doc: tomlkit.TOMLDocument) -> None:
    """Write ``doc`` as ``corpus_dir``'s sources.toml, atomically, once it
    reads back as the build reads it. Raises SourcesError (the old file
    stays) or OSError."""
    text = tomlkit.dumps(doc).rstrip("\n") + "\n"  # one newline at the end, however edited
    fd, tmp = tempfile.mkstemp(prefix=f".{SOURCES_FILE}.", suffix=".tmp", dir=corpus_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        load_sources(corpus_dir, Path(tmp).name)  # SourcesError: not written
        target = corpus_dir / SOURCES_FILE
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
