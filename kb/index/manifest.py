"""The manifest of an index generation as a typed record.

A generation's ``manifest.json`` (the folder) or ``kb_generations.manifest``
(PostgreSQL) says what the generation was built with and from: the model,
the chunk settings, the corpus folder, the language versions linked, the
counts, one entry per corpus file (its sha256, outcome and document record)
and, in the folder, the sha256 of every other file of the generation.

``Manifest.from_json`` reads that JSON through ``migrate``, the one place
that knows what older builds of the same format version left out, and
checks its shape (``ManifestError`` names what is wrong); ``to_json``
writes the same JSON the builds have always written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields

from kb.choices import Choice
from kb.errors import KBError
from kb.records import DocumentMeta

logger = logging.getLogger(__name__)

# 2: the manifest holds the sha256 of every other file of the generation.
FORMAT_VERSION = 2

_DOC_FIELDS = frozenset(f.name for f in fields(DocumentMeta))


class ManifestError(KBError, ValueError):
    """A manifest whose JSON is not the shape this program writes."""


class EntryStatus(Choice):
    """What the build made of one corpus file."""

    INDEXED = "indexed"
    FAILED = "failed"  # unreadable: ``error`` says why


@dataclass(frozen=True)
class ModelInfo:
    name: str
    fingerprint: str
    dim: int


@dataclass
class FileEntry:
    """One corpus file as the build found it (by its path in the manifest)."""

    sha256: str
    size: int = 0
    status: EntryStatus = EntryStatus.INDEXED
    error: str = ""
    pages: int = 0
    chunks: int = 0
    indexed_at: str = ""
    doc: DocumentMeta | None = None  # None: it failed
    described: bool = True  # its metadata from a sources.toml entry

    @property
    def failed(self) -> bool:
        return self.status == EntryStatus.FAILED

    @property
    def doc_id(self) -> str:
        return self.doc.id if self.doc is not None else ""

    def to_json(self) -> dict:
        return asdict(self)  # the status a StrEnum: its JSON is the word

    @classmethod
    def from_json(cls, d: dict) -> FileEntry:
        known = {k: v for k, v in d.items() if k in _ENTRY_FIELDS}
        doc, status = known.get("doc"), known.get("status", EntryStatus.INDEXED)
        known.update(doc=DocumentMeta(**doc) if doc else None, status=EntryStatus.from_str(status))
        return cls(**known)


_ENTRY_FIELDS = frozenset(f.name for f in fields(FileEntry))


@dataclass
class Counts:
    documents: int = 0
    pages: int = 0
    chunks: int = 0
    failed: int = 0

    @classmethod
    def of(cls, files: dict[str, FileEntry], chunks: int) -> Counts:
        return cls(
            documents=sum(1 for e in files.values() if e.doc is not None),
            pages=sum(e.pages for e in files.values()),
            chunks=chunks,
            failed=sum(1 for e in files.values() if e.failed),
        )


@dataclass
class Manifest(Mapping):
    """What one generation was built with and from.

    It also reads as the JSON mapping it is written as (``manifest["files"]``),
    for callers written against the dict it used to be; new code reads the
    fields. Two manifests are equal when their fields are (the dataclass's
    ``__eq__``, not Mapping's)."""

    model: ModelInfo
    chunking: dict = field(default_factory=dict)  # the chunk settings, compared as a whole
    files: dict[str, FileEntry] = field(default_factory=dict)  # by path in the corpus
    created: str = ""  # when the build finished (its generation complete)
    corpus: str = ""  # the corpus folder it was built from ("": not recorded)
    versions: list[dict] = field(default_factory=list)  # ingest/versions.py's links
    counts: Counts = field(default_factory=Counts)
    checksums: dict[str, str] = field(default_factory=dict)  # the folder's files, by path
    format_version: int = FORMAT_VERSION
    started: str = ""  # when the build began ("": not recorded, builds before it)
    # What BM25's terms were made with (kb/text/morphology.analysis(); "": not
    # recorded, builds before it): a build with another analysis writes anew.
    lexical: str = ""

    def documents(self) -> Iterator[tuple[str, FileEntry]]:
        """(path, entry) of every file indexed as a document, in file order."""
        for rel, entry in self.files.items():
            if entry.doc is not None and not entry.failed:
                yield rel, entry

    def to_json(self) -> dict:
        d = {
            "format_version": self.format_version,
            "created": self.created,
            "model": asdict(self.model),
            "chunking": dict(self.chunking),
            "corpus": self.corpus,
            "versions": [dict(v) for v in self.versions],
            "counts": asdict(self.counts),
            "files": {rel: e.to_json() for rel, e in self.files.items()},
        }
        if self.checksums:
            d["checksums"] = dict(self.checksums)
        if self.started:
            d["started"] = self.started
        if self.lexical:
            d["lexical"] = self.lexical
        return d

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The record of a manifest's JSON (migrated first). Raises
        ManifestError naming what does not fit."""
        if not isinstance(data, dict):
            raise ManifestError("the manifest is not a JSON object")
        d = migrate(data)
        try:
            model = ModelInfo(
                str(d["model"]["name"]), str(d["model"]["fingerprint"]), int(d["model"]["dim"])
            )
            files = {str(rel): FileEntry.from_json(e) for rel, e in d["files"].items()}
            counts = Counts(**{k: int(v) for k, v in d["counts"].items()})
            return cls(
                model=model,
                chunking=dict(d["chunking"]),
                files=files,
                created=str(d["created"]),
                corpus=str(d["corpus"]),
                versions=[dict(v) for v in d["versions"]],
                counts=counts,
                checksums=dict(d["checksums"]),
                format_version=int(d["format_version"]),
                started=str(d.get("started", "")),
                lexical=str(d.get("lexical", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ManifestError(f"the manifest does not fit this program ({exc!r})") from exc

    # The JSON form, read-only, for callers still reading the dict.
    def __getitem__(self, key: str):
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


def migrate(data: dict) -> dict:
    """A manifest's JSON as this program reads it: what builds of the same
    format version wrote before a field existed, given the value that means
    what those builds did. Returns a new dict; ``data`` is not changed.

    - ``corpus`` (the corpus folder, for ``ingest status --index``): ""
      (not recorded, so status lists no missing sources);
    - ``versions`` (language versions linked without a group): none;
    - ``counts``: counted from the entries (chunks: as many as the vectors);
    - an entry's ``described`` (metadata from a sources.toml entry): true,
      so that a file whose entry is gone now is read again once;
    - a document's ``retrieved``, ``path`` ...: DocumentMeta's defaults;
      fields this program does not know are dropped.
    """
    d = dict(data)
    filled = []
    for key, default in (("created", ""), ("corpus", ""), ("versions", []), ("checksums", {})):
        if key not in d:
            d[key] = default
            filled.append(key)
    files = d.get("files")
    if isinstance(files, dict):
        d["files"] = {rel: _migrate_entry(e) for rel, e in files.items()}
        if "counts" not in d:
            d["counts"] = {
                "documents": sum(1 for e in files.values() if isinstance(e, dict) and e.get("doc")),
                "pages": sum(e.get("pages", 0) for e in files.values() if isinstance(e, dict)),
                "chunks": sum(e.get("chunks", 0) for e in files.values() if isinstance(e, dict)),
                "failed": sum(
                    1
                    for e in files.values()
                    if isinstance(e, dict) and e.get("status") == EntryStatus.FAILED
                ),
            }
            filled.append("counts")
    if filled:
        logger.debug("manifest from an earlier build: %s filled in", ", ".join(filled))
    return d


def _migrate_entry(entry: object) -> object:
    if not isinstance(entry, dict):
        return entry  # from_json says what is wrong
    e = dict(entry)
    e.setdefault("described", True)
    doc = e.get("doc")
    if isinstance(doc, dict):
        e["doc"] = {k: v for k, v in doc.items() if k in _DOC_FIELDS}
    return e


__all__ = [
    "FORMAT_VERSION",
    "Counts",
    "EntryStatus",
    "FileEntry",
    "Manifest",
    "ManifestError",
    "ModelInfo",
    "migrate",
]
