"""A web page's main content, and the snapshot a fetch keeps of it.

The main content is what trafilatura (a maintained main-text extractor made
for this) finds in the page: the article, without menus, cookie banners,
"see also" boxes and footers. Its headings are kept, so sections work as in
the other formats. The build reads ``.html`` files through
:func:`main_content`, and ``python -m ingest fetch`` hashes the same text,
so a page whose menus change but whose main content does not is "up to
date".

A snapshot is the page as served, in UTF-8, after one comment line that
records where and when it was retrieved::

    <!-- hankinta-kb snapshot url="https://vm.fi/teemaryhmat" retrieved="2026-11-30T01:02:03Z" -->

trafilatura is imported only when a page is read.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm")
_SNAPSHOT = re.compile(
    r'<!-- hankinta-kb snapshot url="(?P<url>[^"<>\s]*)" retrieved="(?P<retrieved>[0-9TZ:+-]*)" -->'
)
# What an address may keep unquoted in the comment: no '"', '<', '>' or spaces.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_BLOCKS = ("head", "p", "list", "table", "quote", "code")


@dataclass(frozen=True)
class MainContent:
    """The text a page is indexed by: blocks separated by blank lines,
    each heading a block of its own, listed in ``headings`` as (level, title)."""

    title: str
    text: str
    headings: tuple[tuple[int, str], ...] = ()

    @property
    def sha256(self) -> str:
        """What ``sources.lock`` records for a web page: the hash of its main
        content, so a page whose menus or footer change is unchanged."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    url: str
    retrieved: str  # ISO 8601, UTC


def is_html_file(name: str) -> bool:
    return name.lower().endswith(HTML_SUFFIXES)


def main_content(html: str) -> MainContent:
    """The page's main content (trafilatura), or, where trafilatura finds
    none (a short page with no article), its whole text without scripts,
    menus, asides, forms and footers. Empty text when there is none. The
    title is the main content's first-level heading, else ``<title>``."""
    title = page_title(html)
    found = _trafilatura_blocks(html)
    if not found:
        found = _fallback_blocks(html)
    elif not any(level for level, _ in found):
        found = _with_headings(found, _fallback_blocks(html))
    blocks = [b for b in found if b[1].strip()]
    text = "\n\n".join(block for _, block in blocks)
    headings = tuple((level, block) for level, block in blocks if level)
    h1 = next((block for level, block in headings if level == 1), "")
    # The page's own heading, without the site's name that <title> adds.
    title = h1 or title or (headings[0][1] if headings else "")
    return MainContent(title, text, headings)


@functools.cache
def _trafilatura_config():
    from trafilatura.settings import use_config

    config = use_config()
    # The build's reader process and fetch's deadline bound the time; no SIGALRM.
    config.set("DEFAULT", "extraction_timeout", "0")
    return config


def _trafilatura_blocks(html: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) for each block of trafilatura's XML output."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_formatting=False,
        include_comments=False,
        include_links=False,
        include_images=False,
        include_tables=True,
        config=_trafilatura_config(),
    )
    if not xml:
        return []
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        logger.warning("trafilatura's output is not XML; reading the whole page instead")
        return []
    main = root.find("main")
    if main is None:
        return []
    return [_block(el) for el in main if isinstance(el.tag, str)]


def _block(el) -> tuple[int, str]:
    if el.tag == "head":
        rend = el.get("rend") or "h2"
        level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        return level, _words(el.itertext())
    if el.tag == "list":
        return 0, "\n".join(f"- {_words(item.itertext())}" for item in el.iter("item"))
    if el.tag == "table":
        rows = [
            " | ".join(_words(c.itertext()) for c in row.iter("cell")) for row in el.iter("row")
        ]
        return 0, "\n".join(rows)
    return 0, _words(el.itertext())


def _words(parts) -> str:
    return " ".join("".join(parts).split())


class _PlainText(HTMLParser):
    """Whole-page text for pages trafilatura declines, headings kept."""

    SKIP = {"script", "style", "noscript", "template", "nav", "aside", "footer", "form", "title"}
    BLOCK = {"p", "div", "li", "tr", "section", "article", "blockquote", "br", "table", "ul"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[int, str]] = []
        self._parts: list[str] = []
        self._level = 0
        self._skip = 0

    def _flush(self) -> None:
        text = _words(self._parts)
        if text:
            self.blocks.append((self._level, text))
        self._parts, self._level = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._level = int(tag[1])
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK:
            self._flush()

    def handle_data(self, data):
        if not self._skip:
            self._parts.append(data)


def _fallback_blocks(html: str) -> list[tuple[int, str]]:
    parser = _PlainText()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # html.parser gives up on some malformed markup
        pass
    parser._flush()
    return parser.blocks


def _with_headings(kept: list[tuple[int, str]], page: list[tuple[int, str]]):
    """trafilatura keeps headings inside an ``<article>`` or ``<main>`` but
    drops them, or makes them paragraphs, on a page without one. Put back
    each heading of the page that stands just before a block trafilatura
    kept; ``kept`` unchanged unless every kept block is found in the page,
    in order."""
    out: list[tuple[int, str]] = []
    pending: list[tuple[int, str]] = []
    j = 0
    for level, text in page:
        if j < len(kept) and text == kept[j][1]:  # a heading kept as a paragraph is one again
            out += pending + [(level, text)]
            pending, j = [], j + 1
        elif level:
            pending.append((level, text))
        else:
            pending = []
    return out if j == len(kept) else kept


class _Title(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in = False
        self.done = False

    def handle_starttag(self, tag, attrs):
        self._in = tag == "title" and not self.done

    def handle_endtag(self, tag):
        if tag == "title" and self._in:
            self._in, self.done = False, True

    def handle_data(self, data):
        if self._in:
            self.parts.append(data)


def page_title(html: str) -> str:
    """The page's ``<title>``, or ""."""
    parser = _Title()
    try:
        parser.feed(html[:200_000])
    except AssertionError:
        pass
    return _words(parser.parts)[:200]


# ---------------------------------------------------------------- snapshots


def snapshot_text(html: str, url: str, retrieved: str) -> str:
    """The snapshot of ``html``: the record of its address and date, then the page."""
    shown = quote(url, safe=_URL_SAFE)
    return f'<!-- hankinta-kb snapshot url="{shown}" retrieved="{retrieved}" -->\n{html}'


def read_snapshot(path: Path) -> Snapshot | None:
    """Where and when the snapshot at ``path`` was retrieved; None when the
    file is not a snapshot (an HTML file put there by hand)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return None
    m = _SNAPSHOT.match(head.lstrip("\ufeff"))
    return Snapshot(m["url"], m["retrieved"]) if m else None
