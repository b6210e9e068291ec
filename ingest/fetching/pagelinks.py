"""What a fetched HTML page points to: its links (address, ``hreflang``,
text) and the addresses its ``citation_pdf_url`` tags declare.

One parser for the three readers of a page's links: discovery (the
documents an official page links to), dspace (the files an item page
lists) and download (the PDF a landing page declares). The page is
untrusted: addresses are returned as written (stripped), for the caller to
resolve against the page's address and check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass(frozen=True)
class PageLink:
    href: str  # as written in the page, stripped
    hreflang: str  # lower case; "" when not given
    text: str  # the link's text, whitespace collapsed


@dataclass
class PageLinks:
    links: list[PageLink] = field(default_factory=list)  # in page order
    citations: list[str] = field(default_factory=list)  # citation_pdf_url contents, in order


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.citations: list[str] = []
        self.links: list[tuple[str, str, list[str]]] = []  # (href, hreflang, its text)
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("name") or "").lower() == "citation_pdf_url":
            if a.get("content"):
                self.citations.append(a["content"].strip())
        elif tag == "a" and a.get("href"):
            self._text = []
            self.links.append((a["href"].strip(), (a.get("hreflang") or "").lower(), self._text))

    def handle_endtag(self, tag):
        if tag == "a":
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def read_links(html: str) -> PageLinks:
    """The links and citation_pdf_url addresses of ``html``, as far as it
    can be parsed (html.parser gives up on some malformed markup, such as
    ``<![x[``: what was read before it is kept)."""
    parser = _Parser()
    try:
        parser.feed(html)
    except AssertionError:
        pass
    links = [
        PageLink(href, hreflang, " ".join("".join(text).split()))
        for href, hreflang, text in parser.links
    ]
    return PageLinks(links, parser.citations)
