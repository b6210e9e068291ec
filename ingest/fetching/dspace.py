"""Every file of a DSpace publication (Valto is a DSpace repository).

A handle or URN leads to an item page that can hold several files: a
strategy and its annexes, or its language versions. The item's PDFs are
listed from the page itself (its ``<meta name="citation_pdf_url">`` tags and
its links to bitstreams: ``/bitstream/handle/<handle>/<name>`` in DSpace 6,
``/bitstreams/<uuid>/download`` in DSpace 7), or, where the page lists no
more than one, from DSpace's documented REST API (DSpace 7:
``/server/api/pid/find?id=<handle>`` redirects to the item, whose
``bundles`` link lists its ORIGINAL bundle, whose ``bitstreams`` each have a
``content`` link).

The first file (the one ``citation_pdf_url`` names) is the source itself,
fetched as before; each other PDF is fetched into the same folder under an
id derived from the source's (``<id>--<file name>``) and recorded in
``sources.lock`` with ``"from"`` (the source) and ``"title"`` (the file's own
name, its first title). The build indexes those files with that title and
the source's identifier (:func:`item_sources`).

The item is listed when its first file is fetched, or when a file listed
before is missing; when every file is present and matches the lock, no
request is made.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import requests

from ingest.corpus.sources import Source
from ingest.fetching.download import (
    MAX_LANDING_BYTES,
    PDF_MAGIC,
    FetchError,
    FetchOptions,
    download,
)
from ingest.fetching.httpread import read_body
from ingest.fetching.lock import LOCK_FILE, LockFileError, locked_entry, read_lock
from ingest.fetching.pagelinks import read_links
from ingest.fetching.results import (
    FetchResult,
    FetchStatus,
    addresses,
    check_present,
    place_download,
    shown_path,
)
from kb.terminal import printable

logger = logging.getLogger(__name__)

REST_PATH = "/server/api"  # DSpace 7's REST API, where its installation guide puts it
_HANDLE_IN_PATH = re.compile(r"/handle/(\d+(?:\.\d+)*/[^/?#]+)")
_BITSTREAM = re.compile(r"/bitstreams?/")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True)
class ItemFile:
    name: str  # the file's own name, as the repository gives it
    url: str  # absolute download address


# ---------------------------------------------------------------- listing


def page_files(html: str, base: str) -> list[ItemFile]:
    """The PDFs an item page lists: those its ``citation_pdf_url`` tags name
    first, then its links to bitstreams whose name ends in ``.pdf``; each
    once (an address's query, such as ``?sequence=1``, is not told apart)."""
    page = read_links(html)
    found = [ItemFile(_name_of(href, ""), href) for href in page.citations]
    for link in page.links:
        if _BITSTREAM.search(urlsplit(link.href).path):
            name = _name_of(link.href, link.text)
            if name.lower().endswith(".pdf"):
                found.append(ItemFile(name, link.href))
    out = []
    for f in found:
        try:
            out.append(ItemFile(f.name, urljoin(base, f.url)))
        except ValueError:  # "Invalid IPv6 URL"
            continue
    return _once(out)


def _key(url: str) -> str:
    """What tells two addresses of one bitstream apart from others: its
    uuid (DSpace 7's download and REST content addresses share it), else
    the address without its query (``?sequence=1&isAllowed=y``)."""
    path = urlsplit(url).path
    m = _UUID.search(path)
    return m.group(0).lower() if m else urlsplit(url)._replace(query="", fragment="").geturl()


def _once(files: list[ItemFile]) -> list[ItemFile]:
    out, seen = [], set()
    for f in files:
        if _key(f.url) not in seen:
            seen.add(_key(f.url))
            out.append(f)
    return out


def _name_of(href: str, text: str) -> str:
    """A bitstream's file name: the last part of its address, or (DSpace 7's
    ``/bitstreams/<uuid>/download``) the link's text."""
    last = unquote(urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1])
    return last if "." in last else (text or last)


def rest_files(
    http: requests.Session, landing_url: str, handle: str, options: FetchOptions
) -> list[ItemFile]:
    """The PDFs of the item with ``handle`` through DSpace 7's REST API on
    the landing page's host: pid/find, the item's bundles, the ORIGINAL
    bundle's bitstreams. Raises FetchError."""
    parts = urlsplit(landing_url)
    find = f"{parts.scheme}://{parts.netloc}{REST_PATH}/pid/find?id={quote(handle, safe='/')}"
    item = _json(http, find, options)
    bundles = _json(http, _href(item, "bundles"), options)
    out = []
    for bundle in (bundles.get("_embedded") or {}).get("bundles") or []:
        if not isinstance(bundle, dict) or bundle.get("name") != "ORIGINAL":
            continue
        listed = (bundle.get("_embedded") or {}).get("bitstreams")
        if listed is None:
            listed = (_json(http, _href(bundle, "bitstreams"), options).get("_embedded") or {}).get(
                "bitstreams"
            ) or []
        for bitstream in listed:
            name = str(bitstream.get("name") or "") if isinstance(bitstream, dict) else ""
            if name.lower().endswith(".pdf"):
                out.append(ItemFile(name, urljoin(find, _href(bitstream, "content"))))
    return out


def _href(obj: dict, rel: str) -> str:
    try:
        href = obj["_links"][rel]["href"]
    except (KeyError, TypeError) as exc:
        raise FetchError(f"the repository's answer has no {rel} link") from exc
    if not isinstance(href, str):
        raise FetchError(f"the repository's {rel} link is not an address")
    return href


def _json(http: requests.Session, url: str, options: FetchOptions) -> dict:
    body = read_body(http, url, options, MAX_LANDING_BYTES, truncate=True, stop=PDF_MAGIC).data
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise FetchError(f"{url} did not answer JSON") from exc
    if not isinstance(data, dict):
        raise FetchError(f"{url} did not answer a JSON object")
    return data


def list_item(
    http: requests.Session, url: str, handle: str, options: FetchOptions
) -> list[ItemFile]:
    """The PDFs of the item whose page is at ``url``: [] when ``url`` is a
    PDF itself or names none. Raises FetchError."""
    answer = read_body(http, url, options, MAX_LANDING_BYTES, truncate=True, stop=PDF_MAGIC)
    body, final, ctype = answer.data, answer.url, answer.content_type
    if body[:5] == b"%PDF-" or ("html" not in ctype.lower() and body.lstrip()[:1] != b"<"):
        return []
    return item_page_files(http, final, body.decode("utf-8", errors="replace"), handle, options)


def item_page_files(
    http: requests.Session, url: str, html: str, handle: str, options: FetchOptions
) -> list[ItemFile]:
    """The PDFs of the item page ``html`` (read from ``url``), completed
    through the REST API when the page lists no more than one."""
    files = page_files(html, url)
    handle = handle or _handle_in(url)
    if len(files) <= 1 and handle:
        try:
            listed = rest_files(http, url, handle, options)
        except FetchError as exc:  # not DSpace 7, or no REST API there: the page's list stands
            logger.info("%s: no file list from the REST API: %s", printable(url), exc.reason)
        else:
            files = _once(files[:1] + listed)
    return files


def _handle_in(url: str) -> str:
    m = _HANDLE_IN_PATH.search(urlsplit(url).path)
    return m.group(1) if m else ""


# ---------------------------------------------------------------- fetching


def derived_id(source_id: str, name: str, taken: set[str]) -> str:
    """``<source id>--<file name as ASCII letters, digits and dashes>``,
    made unique among ``taken``."""
    stem = unicodedata.normalize("NFKD", Path(name).stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower() or "file"
    base = f"{source_id}--{stem}"[:120]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def item_files(
    http: requests.Session,
    source: Source,
    primary: FetchResult,
    dest_dir: Path,
    corpus_dir: Path,
    lock: dict,
    options: FetchOptions,
) -> list[FetchResult]:
    """The item's files other than ``primary`` (the source's own), each a
    result as fetch reports it."""
    known = {
        k: str(e.get("file") or f"official/{k}.pdf")
        for k, e in lock.items()
        if isinstance(e, dict) and e.get("from") == source.id
    }
    present = all((corpus_dir / rel).is_file() for rel in known.values())
    if primary.status == FetchStatus.UP_TO_DATE and present:
        return [_verify(k, corpus_dir / rel, corpus_dir, lock) for k, rel in known.items()]
    if primary.status not in (FetchStatus.FETCHED, FetchStatus.UP_TO_DATE):
        return []
    files, reasons = None, []
    if primary.landing is not None:  # read on the way to the first file
        files = item_page_files(http, *primary.landing, source.handle, options)
    # A PDF fetched straight from its url is no item page; a handle or URN may lead to one.
    direct = primary.status == FetchStatus.FETCHED and primary.landing is None
    for url in [] if files is not None else addresses(source, options):
        if direct and url == source.url:
            continue
        try:
            files = list_item(http, url, source.handle, options)
            break
        except FetchError as exc:
            reasons.append(f"{url}: {exc.reason}")
    if files is None and not reasons:
        return []
    if files is None:
        why = "could not list the publication's files: " + "; ".join(reasons)
        return [FetchResult(k, FetchStatus.FAILED, why, rel) for k, rel in known.items()]
    by_name = {lock[k].get("title"): k for k in known}
    taken = set(lock) | {source.id}
    results = []
    for f in files[1:]:
        doc_id = by_name.get(f.name) or derived_id(source.id, f.name, taken)
        taken.add(doc_id)
        result = _fetch_file(http, doc_id, f, dest_dir / f"{doc_id}.pdf", corpus_dir, lock, options)
        results.append(replace(result, title=f.name, parent=source.id))
    return results


def _verify(doc_id: str, target: Path, corpus_dir: Path, lock: dict) -> FetchResult:
    shown = shown_path(target, corpus_dir)
    try:
        locked = locked_entry(lock, doc_id, shown_path(corpus_dir / LOCK_FILE, corpus_dir))
    except LockFileError as exc:
        return FetchResult(doc_id, FetchStatus.FAILED, exc.reason, shown)
    return check_present(doc_id, target, shown, locked)


def _fetch_file(http, doc_id: str, f: ItemFile, target: Path, corpus_dir, lock, options):
    if target.exists() or target.is_symlink():
        return _verify(doc_id, target, corpus_dir, lock)
    shown = shown_path(target, corpus_dir)
    try:
        locked = locked_entry(lock, doc_id, shown_path(corpus_dir / LOCK_FILE, corpus_dir))
        tmp, final_url, digest, size = download(http, f.url, target.parent, options)
    except FetchError as exc:
        return FetchResult(doc_id, FetchStatus.FAILED, f"{f.url}: {exc.reason}", shown)
    try:
        return place_download(doc_id, tmp, target, corpus_dir, locked, final_url, digest, size)
    finally:
        tmp.unlink(missing_ok=True)


def item_sources(corpus_dir: Path, sources: list[Source]) -> list[Source]:
    """The files fetched from the publications of ``sources`` beyond their
    own, as sources: the file's name as title, the publication's handle and
    URN; language and kind are found by the build. [] without a lock file."""
    try:
        lock = read_lock(corpus_dir / LOCK_FILE)
    except LockFileError:
        return []
    parents = {s.id: s for s in sources}
    out = []
    for doc_id, entry in sorted(lock.items()):
        if not isinstance(entry, dict) or entry.get("from") not in parents:
            continue
        if doc_id in parents or not isinstance(entry.get("file"), str):
            continue
        parent = parents[entry["from"]]
        title = Path(str(entry.get("title") or doc_id)).stem
        out.append(
            Source(
                id=doc_id,
                title=title,
                file=entry["file"],
                url=str(entry.get("url") or ""),
                handle=parent.handle,
                urn=parent.urn,
                note=f"a file of the publication {parent.id}",
            )
        )
    return out
