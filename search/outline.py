"""A document's outline, and the whole text of one of its sections, read
from what the index already stores: each passage's heading path (a
statute's parts, chapters and sections, a strategy's numbered headings, a
web page's or a Markdown file's headings) and its pages. Nothing is
re-read from the files, so it works for documents as dropped in.

A section's whole text joins its passages in order, each overlap between
neighbouring passages kept once; its other language versions are the
documents the build linked to it (a shared ``group``), found under the same
numbered headings, or else where ``versions.align_row`` places its first
passage. A section is named in a URL by its ``ref``: its path's numbered
keys and titles ("4ch/25§", "2/Tavoitteet"), the same in every language
version for a numbered path."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from kb.records import Chunk
from kb.text.headings import title_key
from kb.text.sentences import heading_end
from search.hits import Hit, QueryError, hit_from_chunk
from search.versions import align_row
from search.view import IndexView

logger = logging.getLogger(__name__)

START_REF = "start"  # the text before a document's first heading
# Neighbouring passages share at least this many characters when their
# offsets cannot tell (they end and start on different pages): a shorter
# common run is taken for chance, not overlap.
MIN_TEXT_OVERLAP = 12


class UnknownDocumentError(QueryError):
    """The document is not in the index (a link to one since removed)."""


@dataclass(frozen=True)
class Entry:
    """One heading of a document's outline: its path (the headings above
    it, then its own), the page it starts on (printed label and PDF page),
    and its name in a URL."""

    ref: str
    path: tuple[str, ...]
    page: str
    pdf_page: int

    @property
    def depth(self) -> int:
        return len(self.path)

    @property
    def title(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass(frozen=True)
class Block:
    """The text under one heading path, its headings left out."""

    path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class SectionText:
    """A section's whole text as blocks (the section's own, then each
    heading below it), and the section as one passage (``hit``: its first
    page to its last, its heading), which ``search.cite.cite`` cites."""

    doc_id: str
    entry: Entry
    blocks: tuple[Block, ...]
    hit: Hit

    @property
    def lang(self) -> str:
        return self.hit.lang


def part_ref(title: str) -> str:
    """One heading in a ref: its numbered key ("25§", "4ch", "3.2"), the
    same in every language, or else its title."""
    return title_key(title) or " ".join(title.split())


def section_ref(path: tuple[str, ...]) -> str:
    """A section's name in a URL, from its heading path alone (a result
    card names its section so without reading the outline)."""
    return "/".join(part_ref(t) for t in path) if path else START_REF


def _rows(view: IndexView, doc_id: str) -> list[int]:
    rows = view.doc_rows.get(doc_id)
    if rows is None:
        raise UnknownDocumentError(f"the index holds no document {doc_id!r}")
    view.prefetch(rows)
    return [int(r) for r in rows]


def outline(view: IndexView, doc_id: str) -> list[Entry]:
    """Every heading of ``doc_id`` in reading order, parents before their
    children; a heading under which no passage starts (a chapter whose
    first section follows its title at once) takes its first passage's
    page. A second heading with the same ref gets "~2" (and so on)."""
    entries: dict[tuple[str, ...], Entry] = {}
    refs: dict[str, int] = {}
    for row in _rows(view, doc_id):
        chunk = view.chunks[row]
        path = tuple(chunk.section)
        for depth in range(1 if path else 0, len(path) + 1):
            prefix = path[:depth]
            if prefix in entries:
                continue
            ref = section_ref(prefix)
            refs[ref] = refs.get(ref, 0) + 1
            if refs[ref] > 1:
                ref = f"{ref}~{refs[ref]}"
            entries[prefix] = Entry(ref, prefix, chunk.label_start, chunk.page_start)
    return list(entries.values())


def find(entries: list[Entry], ref: str) -> Entry | None:
    """The entry a URL's ``ref`` names, or None."""
    return next((e for e in entries if e.ref == ref), None)


def entry_of(entries: list[Entry], path: tuple[str, ...]) -> Entry | None:
    """The entry of a heading path (a hit's section), or None."""
    return next((e for e in entries if e.path == tuple(path)), None)


def _under(path: tuple[str, ...], entry: Entry) -> bool:
    if not entry.path:  # the text before the first heading: that text only
        return not path
    return path[: entry.depth] == entry.path


def overlap(a: Chunk, b: Chunk) -> int:
    """How many characters at the start of ``b`` repeat the end of ``a``
    (neighbouring passages of one section overlap). Offsets on the same
    page say it exactly; across a page break, the longest end of ``a``
    that starts ``b``, if at least MIN_TEXT_OVERLAP characters long."""
    if a.page_end == b.page_start:
        n = a.char_end - b.char_start
        if 0 < n <= len(b.text) and a.text.endswith(b.text[:n]):
            return n
        if n > len(b.text) and b.text in a.text:  # wholly inside a
            return len(b.text)
        if n <= 0:
            return 0
    probe = b.text[:MIN_TEXT_OVERLAP]
    if len(probe) < MIN_TEXT_OVERLAP:
        return len(b.text) if b.text and a.text.endswith(b.text) else 0
    at = a.text.find(probe)
    while at >= 0:  # the first place that runs to a's end is the longest overlap
        if b.text.startswith(a.text[at:]):
            return len(a.text) - at
        at = a.text.find(probe, at + 1)
    return 0


def join(chunks: list[Chunk]) -> str:
    """The passages of one heading path as one text, each overlap once."""
    text = ""
    for prev, chunk in zip([None, *chunks], chunks, strict=False):
        if prev is None:
            text = chunk.text
            continue
        shared = overlap(prev, chunk)
        rest = chunk.text[shared:]
        if shared:  # it goes on where the previous one ends
            text += rest
        elif rest.strip():  # white space parted them, which the split took away
            text = f"{text.rstrip()}\n{rest.lstrip()}"
    return text


def section(view: IndexView, doc_id: str, entry: Entry) -> SectionText:
    """The whole text of ``entry``'s section in ``doc_id``: its passages
    and those of the headings below it, in reading order, as blocks."""
    rows = [r for r in _rows(view, doc_id) if _under(tuple(view.chunks[r].section), entry)]
    if not rows:
        raise QueryError(f"{doc_id!r} has no text under {entry.ref!r}")
    runs: list[list[Chunk]] = []
    for row in rows:
        chunk = view.chunks[row]
        if runs and runs[-1][-1].section == chunk.section:
            runs[-1].append(chunk)
        else:
            runs.append([chunk])
    blocks = []
    for run in runs:
        text = join(run)
        body = text[heading_end(text, run[0].section) :].strip()
        blocks.append(Block(tuple(run[0].section), body))
    first, last = view.chunks[rows[0]], view.chunks[rows[-1]]
    whole = replace(
        first,
        section=entry.path,
        page_end=last.page_end,
        label_end=last.label_end,
        char_end=last.char_end,
        text="\n\n".join(b.text for b in blocks if b.text),
    )
    return SectionText(doc_id, entry, tuple(blocks), hit_from_chunk(whole, 0.0, 1, rows[0]))


def siblings(view: IndexView, doc_id: str) -> list[str]:
    """The other language versions of ``doc_id`` in the index, by language."""
    group = view.doc_group.get(doc_id, "")
    others = [d for d in view.group_docs.get(group, ()) if d != doc_id] if group else []
    meta = view.doc_meta
    return sorted(others, key=lambda d: (meta[d].lang if d in meta else "", d))


def counterpart(view: IndexView, doc_id: str, entry: Entry, other: str) -> Entry | None:
    """``entry``'s heading in the language version ``other``: the same ref
    (a numbered path reads the same in every language), else the same
    numbered heading at any depth, else the heading at ``entry``'s depth
    over the passage that ``align_row`` pairs with the section's first."""
    entries = outline(view, other)
    if found := find(entries, entry.ref):
        return found
    key = title_key(entry.title) if entry.path else None
    if key and (found := next((e for e in entries if title_key(e.title) == key), None)):
        return found
    first = next(
        (r for r in _rows(view, doc_id) if _under(tuple(view.chunks[r].section), entry)), None
    )
    if first is None:
        return None
    for row, _ in align_row(view, first):
        chunk = view.chunks[row]
        if chunk.doc_id == other:
            path = tuple(chunk.section)
            return entry_of(entries, path[: entry.depth] if entry.path else ())
    return None


def versions(view: IndexView, doc_id: str, entry: Entry) -> list[SectionText]:
    """The section in each other language version of its document that
    has it, by language."""
    out = []
    for other in siblings(view, doc_id):
        match = counterpart(view, doc_id, entry, other)
        if match is not None:
            out.append(section(view, other, match))
    return out
