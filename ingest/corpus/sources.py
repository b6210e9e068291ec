"""Discover corpus files and attach metadata from corpus/sources.toml."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.reading.webpage import is_html_file, read_snapshot
from kb.errors import KBError
from kb.records import DocumentMeta

logger = logging.getLogger(__name__)

SOURCES_FILE = "sources.toml"
KINDS = ("strategy", "annex", "report", "law", "web page", "other")
WEB_DIR = "web"  # where a fetched web page's snapshot goes when its entry names no file
LANGS = ("fi", "sv", "en")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class SourcesError(KBError):
    """corpus/sources.toml is malformed."""


@dataclass(frozen=True)
class Source:
    """One [[document]] entry of sources.toml."""

    id: str
    title: str = ""
    lang: str = ""
    kind: str = "other"
    group: str = ""
    url: str = ""
    handle: str = ""
    urn: str = ""
    file: str = ""
    published: str = ""
    retrieved: str = ""  # YYYY-MM-DD: when a web page's text was taken from its address
    pages: int = 0
    note: str = ""
    # Not a sources.toml key: the language a discovered document's page gave
    # (ingest/fetching/discovery.py), taken where the file's own text tells no fi/sv/en.
    lang_hint: str = ""

    @property
    def identifier(self) -> str:
        return self.urn or (f"hdl:{self.handle}" if self.handle else "")


def load_sources(corpus_dir: Path, filename: str = SOURCES_FILE) -> list[Source]:
    path = corpus_dir / filename
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: {exc}") from exc
    except RecursionError as exc:  # arrays or tables nested ~1,000 deep
        raise SourcesError(f"{path}: nested too deeply to be a sources file") from exc
    known = set(Source.__dataclass_fields__) - {"lang_hint"}
    sources: list[Source] = []
    seen: set[str] = set()
    documents = data.get("document", [])
    if not isinstance(documents, list) or not all(isinstance(e, dict) for e in documents):
        raise SourcesError(f"{path}: 'document' must be a list of [[document]] tables")
    for i, entry in enumerate(documents, start=1):
        unknown = set(entry) - known
        if unknown:
            raise SourcesError(f"{path}: document {i} has unknown keys {sorted(unknown)}")
        for key, value in entry.items():
            expected = int if key == "pages" else str
            if not isinstance(value, expected) or isinstance(value, bool):
                raise SourcesError(
                    f"{path}: document {i}: {key} must be a "
                    f"{'whole number' if expected is int else 'string'}, got {value!r}"
                )
        if not entry.get("id"):
            raise SourcesError(f"{path}: document {i} has no id")
        if entry["id"] in seen:
            raise SourcesError(f"{path}: duplicate document id {entry['id']!r}")
        if not _ID.fullmatch(str(entry["id"])):
            raise SourcesError(
                f"{path}: document id {entry['id']!r} must be letters, digits, '.', '_' or '-' "
                "(it names files and links)"
            )
        file = str(entry.get("file", ""))
        if file and (Path(file).is_absolute() or ".." in Path(file).parts or "\\" in file):
            raise SourcesError(
                f"{path}: document {entry['id']!r}: file {file!r} must be a path inside the "
                "corpus folder (relative, no '..')"
            )
        if entry.get("kind", "other") not in KINDS:
            raise SourcesError(f"{path}: document {entry['id']!r}: kind must be one of {KINDS}")
        seen.add(entry["id"])
        if not file and entry.get("kind") == "web page" and entry.get("url"):
            entry = {**entry, "file": f"{WEB_DIR}/{entry['id']}.html"}
        sources.append(Source(**entry))
    return sources


def discover(corpus_dir: Path, extensions: tuple[str, ...]) -> Iterator[Path]:
    """Yield indexable files under ``corpus_dir``, sorted, never leaving it.

    Hidden files and folders are skipped, and so are symlinks that resolve
    outside the corpus folder.
    """
    root = corpus_dir.resolve()
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in extensions or not path.is_file():
            continue
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            logger.warning("%s: skipped, it points outside the corpus folder", path)
            continue
        yield path


def slug(text: str) -> str:
    s = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return s or "document"


def detect_language(text: str) -> str:
    """Language of ``text`` by py3langid (offline, maintained), or "" if unsure."""
    sample = text[:5000].strip()
    if len(sample) < 20:
        return ""
    import py3langid

    lang, _score = py3langid.classify(sample)
    return lang


def meta_for(
    path: Path, corpus_dir: Path, by_file: dict[str, Source], title_hint: str, text_sample: str
) -> DocumentMeta:
    """Metadata for a file: its sources.toml entry, or sensible defaults. A
    web page's snapshot adds its address (when the entry has none) and the
    date it was retrieved."""
    rel = path.relative_to(corpus_dir).as_posix()
    src = by_file.get(rel)
    snapshot = read_snapshot(path) if is_html_file(rel) else None
    # The day of the snapshot (its comment holds the whole UTC time).
    url, retrieved = (snapshot.url, snapshot.retrieved[:10]) if snapshot else ("", "")
    if src is None:
        title = title_hint.strip() or path.stem
        return DocumentMeta(
            id=derived_id(rel),
            title=title,
            lang=detect_language(text_sample),
            kind="web page" if snapshot else "other",
            url=url,
            path=rel,
            retrieved=retrieved,
        )
    return DocumentMeta(
        id=src.id,
        title=src.title or title_hint.strip() or path.stem,
        lang=src.lang or _confirmed(detect_language(text_sample), src.lang_hint),
        kind=src.kind,
        group=src.group,
        url=src.url or url,
        identifier=src.identifier,
        path=rel,
        retrieved=src.retrieved or retrieved,
    )


def _confirmed(detected: str, hint: str) -> str:
    """The language detected in the file, unless it is none of fi/sv/en
    (a short text read as Latin) and a hint says which."""
    return hint if hint in LANGS and detected not in LANGS else detected


def derived_id(rel: str) -> str:
    """The id of a file without a sources.toml entry: its path without the
    extension, as a slug ("web/sivu.md" -> "web-sivu")."""
    return slug(Path(rel).with_suffix("").as_posix())


def assign_ids(
    files: list[str],
    by_file: dict[str, Source],
    previous: dict[str, str],
    declared: set[str] | frozenset[str] = frozenset(),
) -> dict[str, str]:
    """A unique document id for every file of one build (paths relative to
    the corpus). Declared ids (sources.toml) come first; then a file keeps the
    id it had in the previous build (``previous``: path -> id) while nothing
    declared or earlier claims it; then each new file gets its derived id, or
    that id with "-2", "-3"... when taken. So "ohje.txt" indexed before keeps
    "ohje" and a new "ohje.md" becomes "ohje-2", whatever their order.
    ``declared``: every id of sources.toml, present as a file or not."""
    ids: dict[str, str] = {}
    taken = {s.id for s in by_file.values()} | set(declared)
    for rel in files:
        if rel in by_file:
            ids[rel] = by_file[rel].id
    rest = [rel for rel in files if rel not in ids]
    for rel in rest:
        old = previous.get(rel, "")
        if old and old not in taken:
            ids[rel] = old
            taken.add(old)
    for rel in rest:
        if rel in ids:
            continue
        base = candidate = derived_id(rel)
        n = 2
        while candidate in taken:
            candidate = f"{base}-{n}"
            n += 1
        ids[rel] = candidate
        taken.add(candidate)
    return ids
