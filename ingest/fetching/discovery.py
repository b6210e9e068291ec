"""Documents discovered from the official web pages of sources.toml.

When ``python -m ingest fetch`` has read a web page of sources.toml (its
snapshot, ingest/fetching/webfetch.py), the page's links to documents are followed,
one hop: links to PDFs, and to publication pages of the government's
repository (``/handle/<prefix>/<n>``, whose files ingest/fetching/dspace.py fetches),
and only to the sites the entries already name. Each is a *discovered
source*, recorded in ``sources.discovered.json`` beside ``sources.lock``:

- ``title_hint``: the link's text; ``lang_hint``: the page's language (the
  build confirms the language from the file itself);
- ``kind``: guessed from the link text (strategy, annex, report, else
  other); an entry of sources.toml with the same address overrides it, and
  everything else (sources.toml is never written);
- ``found_on`` / ``found_at``: the page it came from;
- ``group``: the language versions of one document where the pages say so:
  the link at the same position among the document links of the fi, sv and
  en versions of a page (the pages of one sources.toml group, when each
  lists as many documents), or a publication page's link to its version in
  another language (``hreflang``, or a text such as "På svenska").

Nothing is invented: a discovery is a link as the page gave it, and is
fetched like any source (same download code, so the same limits and
guards), refused when it answers with HTML where a PDF was promised.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ingest.corpus.sources import _ID, KINDS, LANGS, Source, load_sources
from ingest.fetching.lock import LOCK_FILE, LockFileError, atomic_write, read_lock
from ingest.fetching.pagelinks import read_links
from ingest.fetching.results import Availability
from ingest.reading.webpage import is_html_file
from kb.errors import KBError
from kb.terminal import printable

logger = logging.getLogger(__name__)

DISCOVERED_FILE = "sources.discovered.json"
VERSION = 1
MAX_LINKS_PER_PAGE = 50  # a page linking to more documents is a listing, not a source's page
_HANDLE = re.compile(r"/handle/\d+(?:\.\d+)*/\d+/?$")
_ANNEX = re.compile(
    r"^(?:liite|bilaga|annex|appendix)\b|\b(?:liite|bilaga|annex|appendix)\s+\d", re.I
)
_REPORT = re.compile(r"raportti|rapport|report|tilannekuva|lägesbild|selvitys|situation", re.I)
_STRATEGY = re.compile(r"strategia|strategi|strategy", re.I)
# A publication page's link to its version in another language.
_VERSION_TEXT = {
    "fi": re.compile(r"suomeksi|suomenkielinen|på finska|in finnish|finnish version", re.I),
    "sv": re.compile(
        r"ruotsiksi|ruotsinkielinen|på svenska|svenskspråkig|in swedish|swedish version", re.I
    ),
    "en": re.compile(r"englanniksi|englanninkielinen|på engelska|in english|english version", re.I),
}


class DiscoveredFileError(KBError):
    """sources.discovered.json cannot be read or written."""


@dataclass(frozen=True)
class Discovered:
    id: str
    url: str
    title_hint: str
    lang_hint: str
    kind: str
    found_on: str  # the id of the page (or publication) it was found on
    found_at: str  # that page's address
    group: str = ""


@dataclass(frozen=True)
class DocLink:
    url: str
    text: str
    hreflang: str = ""


def document_links(html: str, base: str, sites: set[str]) -> list[DocLink]:
    """The page's links to documents on ``sites`` (``host[:port]``), in
    page order, each address once: PDFs and repository publication pages."""
    out: dict[str, DocLink] = {}
    for link in read_links(html).links:
        try:
            url = urljoin(base, link.href).split("#", 1)[0]
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in sites:
            continue
        if not (parts.path.lower().endswith(".pdf") or _HANDLE.search(parts.path)):
            continue
        out.setdefault(url, DocLink(url, link.text[:200], link.hreflang[:2]))
    return list(out.values())[:MAX_LINKS_PER_PAGE]


def guess_kind(text: str) -> str:
    if _ANNEX.search(text):
        return "annex"
    if _REPORT.search(text):
        return "report"
    if _STRATEGY.search(text):
        return "strategy"
    return "other"


def version_links(html: str, base: str) -> list[tuple[str, DocLink]]:
    """A publication page's links to its versions in other languages, as
    (language, link): links to another publication on the same site with
    an ``hreflang`` or a text naming the language."""
    site = urlsplit(base).netloc.lower()
    out = []
    for link in document_links(html, base, {site}):
        if not _HANDLE.search(urlsplit(link.url).path) or link.url.rstrip("/") == base.rstrip("/"):
            continue
        lang = link.hreflang if link.hreflang in LANGS else ""
        lang = lang or next((k for k, rx in _VERSION_TEXT.items() if rx.search(link.text)), "")
        if lang:
            out.append((lang, link))
    return out


def sites_of(sources: list[Source], handle_base: str) -> set[str]:
    """The sites the entries name: their addresses' hosts, and the
    repository's when an entry has a handle."""
    sites = {urlsplit(s.url).netloc.lower() for s in sources if s.url}
    if any(s.handle for s in sources):
        sites.add(urlsplit(handle_base).netloc.lower())
    return {s for s in sites if s}


def ascii_slug(text: str, limit: int = 40) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9]+", "-", plain.lower()).strip("-")
    return s[:limit].strip("-") or "document"


# ---------------------------------------------------------------- the record


def discovered_path(corpus_dir: Path) -> Path:
    return corpus_dir / DISCOVERED_FILE


def read_discovered(corpus_dir: Path) -> list[Discovered]:
    """The recorded discoveries; [] when there are none. A file that is not
    ours raises DiscoveredFileError (fix or delete it: fetch writes it anew)."""
    path = discovered_path(corpus_dir)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        fields = set(Discovered.__dataclass_fields__)
        found = [
            Discovered(**{k: str(v) for k, v in d.items() if k in fields})
            for d in data["documents"]
        ]
        for d in found:  # the id names a file; the address is fetched
            if not _ID.fullmatch(d.id) or d.kind not in KINDS:
                raise ValueError(f"document {d.id!r}: bad id or kind {d.kind!r}")
            if urlsplit(d.url).scheme not in ("http", "https"):
                raise ValueError(f"document {d.id!r}: {d.url!r} is no web address")
        return found
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DiscoveredFileError(
            f"{path} is not a readable list of discovered documents ({exc}); fix or delete it"
        ) from exc


def write_discovered(corpus_dir: Path, found: list[Discovered]) -> None:
    text = json.dumps(
        {"version": VERSION, "documents": [asdict(d) for d in found]}, indent=2, ensure_ascii=False
    )
    atomic_write(discovered_path(corpus_dir), (text + "\n").encode("utf-8"))


# A Discovered's fields that a Source holds too, by the Source's name for them.
_IN_SOURCE = {"id": "id", "url": "url", "title_hint": "title", "kind": "kind", "group": "group"}


def as_source(d: Discovered, file: str = "") -> Source:
    note = f"discovered on {d.found_on} ({d.found_at}): {d.title_hint}"
    shared = {theirs: getattr(d, ours) for ours, theirs in _IN_SOURCE.items()}
    return Source(**shared, lang_hint=d.lang_hint, file=file, note=note)


def effective(found: list[Discovered], sources: list[Source]) -> list[Discovered]:
    """The discoveries sources.toml does not override (by address or id)."""
    urls = {_norm(s.url) for s in sources if s.url}
    ids = {s.id for s in sources}
    return [d for d in found if _norm(d.url) not in urls and d.id not in ids]


def discovered_sources(corpus_dir: Path, sources: list[Source]) -> list[Source]:
    """The discovered documents fetch has placed, as sources for the build
    (file from sources.lock; title from the link; language found in the
    file). [] when nothing was discovered or the records are unreadable."""
    try:
        found = read_discovered(corpus_dir)
        lock = read_lock(corpus_dir / LOCK_FILE)
    except (DiscoveredFileError, LockFileError) as exc:
        logger.warning("%s", printable(exc))
        return []
    out = []
    for d in effective(found, sources):
        entry = lock.get(d.id)
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            out.append(as_source(d, entry["file"]))
    return out


def discovered_states(corpus_dir: Path) -> list[dict]:
    """Each discovered document sources.toml does not override, with where
    it was found and whether its file is here (``present``) or not
    (``missing``: run python -m ingest fetch)."""
    found = effective(read_discovered(corpus_dir), load_sources(corpus_dir))
    try:
        lock = read_lock(corpus_dir / LOCK_FILE)
    except LockFileError:
        lock = {}
    out = []
    for d in found:
        entry = lock.get(d.id)
        rel = (
            entry["file"] if isinstance(entry, dict) and isinstance(entry.get("file"), str) else ""
        )
        here = rel and (corpus_dir / rel).is_file()
        state = Availability.PRESENT if here else Availability.MISSING
        out.append({**asdict(d), "path": rel or "-", "state": state})
    return out


def _norm(url: str) -> str:
    return url.strip().rstrip("/").lower()


# ---------------------------------------------------------------- finding


def discover(
    corpus_dir: Path, sources: list[Source], previous: list[Discovered], handle_base: str
) -> list[Discovered]:
    """The documents the snapshots of the web pages of ``sources`` link to.
    A document found before keeps its id; one the pages no longer link to
    stays recorded (its file may be in the index) unless sources.toml now
    names it."""
    sites = sites_of(sources, handle_base)
    pages = [s for s in sources if s.url and is_html_file(s.file)]
    links: dict[str, list[DocLink]] = {}
    for page in pages:
        try:
            html = (corpus_dir / page.file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # not fetched (yet): nothing to follow
        links[page.id] = document_links(html, page.url, sites)
    groups = _positional_groups(pages, links)
    ids_of = {_norm(d.url): d.id for d in previous}
    taken = {s.id for s in sources} | set(ids_of.values())
    found: dict[str, Discovered] = {_norm(d.url): d for d in previous}
    now: set[str] = set()  # a document several pages link to: the first page tells
    for page in pages:
        for i, link in enumerate(links.get(page.id, [])):
            key = _norm(link.url)
            if key in now:
                continue
            now.add(key)
            doc_id = ids_of.get(key) or _new_id(link.text or link.url, page.lang, taken)
            old = found.get(key)
            found[key] = Discovered(
                id=doc_id,
                url=link.url,
                title_hint=link.text,
                lang_hint=page.lang,
                kind=guess_kind(link.text),
                found_on=page.id,
                found_at=page.url,
                group=groups.get((page.id, i), "") or (old.group if old else ""),
            )
    return effective(list(found.values()), sources)


def _positional_groups(pages: list[Source], links: dict[str, list[DocLink]]):
    """(page id, link position) -> group, for the pages of one sources.toml
    group in different languages that list as many documents each."""
    by_group: dict[str, list[Source]] = {}
    for p in pages:
        if p.group and p.id in links:
            by_group.setdefault(p.group, []).append(p)
    out: dict[tuple[str, int], str] = {}
    for group, members in by_group.items():
        counts = {len(links[p.id]) for p in members}
        langs = {p.lang for p in members}
        if len(members) < 2 or len(langs) != len(members) or len(counts) != 1:
            continue
        for p in members:
            for i in range(len(links[p.id])):
                out[(p.id, i)] = f"{group}--{i + 1}"
    return out


def _new_id(text: str, lang: str, taken: set[str]) -> str:
    base = candidate = f"{ascii_slug(text)}-{lang}" if lang else ascii_slug(text)
    n = 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def entry_as_discovered(source: Source) -> Discovered:
    """A publication of sources.toml, as the origin of the versions its page links to."""
    shared = {ours: getattr(source, theirs) for ours, theirs in _IN_SOURCE.items()}
    return Discovered(**shared, lang_hint=source.lang, found_on="", found_at="")


def versions_found(
    publication: Discovered, landing: tuple[str, str], found: list[Discovered], sources
) -> list[Discovered]:
    """The other-language versions a publication page links to, as new
    discoveries grouped with ``publication`` (whose group they share; it
    gets one when it had none). Returns the updated list."""
    url, html = landing
    known = {_norm(d.url) for d in found} | {_norm(s.url) for s in sources if s.url}
    taken = {d.id for d in found} | {s.id for s in sources}
    group = publication.group or f"{publication.id}--versions"
    out = [replace(d, group=group) if d.id == publication.id else d for d in found]
    for lang, link in version_links(html, url):
        if _norm(link.url) in known:
            continue
        known.add(_norm(link.url))
        out.append(
            Discovered(
                id=_new_id(f"{publication.title_hint or publication.id}", lang, taken),
                url=link.url,
                title_hint="",  # the link names a language, not the document: the PDF's title
                lang_hint=lang,
                kind=publication.kind,
                found_on=publication.id,
                found_at=url,
                group=group,
            )
        )
    return out
