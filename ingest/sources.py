"""Discover corpus files and attach metadata from corpus/sources.toml."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import KBError
from .records import DocumentMeta

logger = logging.getLogger(__name__)

SOURCES_FILE = "sources.toml"
KINDS = ("strategy", "annex", "report", "web page", "other")
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
    pages: int = 0
    note: str = ""

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
    known = set(Source.__dataclass_fields__)
    sources: list[Source] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("document", []), start=1):
        unknown = set(entry) - known
        if unknown:
            raise SourcesError(f"{path}: document {i} has unknown keys {sorted(unknown)}")
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
    """Metadata for a file: its sources.toml entry, or sensible defaults."""
    rel = path.relative_to(corpus_dir).as_posix()
    src = by_file.get(rel)
    if src is None:
        title = title_hint.strip() or path.stem
        return DocumentMeta(
            id=slug(Path(rel).with_suffix("").as_posix()),
            title=title,
            lang=detect_language(text_sample),
            path=rel,
        )
    return DocumentMeta(
        id=src.id,
        title=src.title or title_hint.strip() or path.stem,
        lang=src.lang or detect_language(text_sample),
        kind=src.kind,
        group=src.group,
        url=src.url,
        identifier=src.identifier,
        path=rel,
    )
