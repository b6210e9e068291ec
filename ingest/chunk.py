"""Split a document's pages into chunks that respect sections and the model's
token budget, each with its pages, printed labels, heading path and offsets."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from kb.records import Chunk, DocumentMeta, Page

# A single newline: a page break is no stronger a boundary than a line break.
PAGE_SEPARATOR = "\n"
SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]
# Text before the first heading that is shorter than this is front matter (a
# title block, "om offentlig upphandling och koncession"): it joins the first
# section instead of being a passage of its own.
FRONT_MATTER_CHARS = 300
# A last piece of a section this short, already inside the previous piece's
# overlap, adds nothing: it is dropped.
MIN_PIECE_TOKENS = 24


def context_of(title: str, path: tuple[str, ...]) -> str:
    """What a passage is part of: its document's title and heading path."""
    parts: list[str] = []
    for part in (title, *path):
        if part and (not parts or part.casefold() != parts[-1].casefold()):
            parts.append(part)
    return " › ".join(parts)


@dataclass(frozen=True)
class Section:
    start: int  # offset into the document text
    end: int
    path: tuple[str, ...]


def sections_of(pages: list[Page], page_starts: list[int], doc_len: int) -> list[Section]:
    """Cut the document at each heading; each piece keeps its heading path.

    A heading with no text of its own before the next heading (a chapter title
    directly followed by its first section) joins the next piece.
    """
    marks: list[tuple[int, int, str]] = []
    for page, start in zip(pages, page_starts, strict=True):
        marks.extend((start + h.offset, h.level, h.title) for h in page.headings)
    marks.sort(key=lambda m: m[0])

    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    cut = 0
    path: tuple[str, ...] = ()
    for offset, level, title in marks:
        if offset > cut:
            sections.append(Section(cut, offset, path))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        path = tuple(t for _, t in stack)
        cut = offset
    if doc_len > cut:
        sections.append(Section(cut, doc_len, path))
    return _merge_front_matter(_merge_title_only(sections))


def _merge_front_matter(sections: list[Section]) -> list[Section]:
    if len(sections) > 1 and not sections[0].path:
        first, second = sections[0], sections[1]
        if first.end - first.start < FRONT_MATTER_CHARS:
            return [Section(first.start, second.end, second.path), *sections[2:]]
    return sections


def _merge_title_only(sections: list[Section]) -> list[Section]:
    merged: list[Section] = []
    carry: int | None = None
    for s in sections:
        start = s.start if carry is None else carry
        title = s.path[-1] if s.path else ""
        # Piece holds nothing but its heading (and whitespace): carry it forward.
        if s.path and s.end - s.start <= len(title) + 2 and s is not sections[-1]:
            carry = start
            continue
        merged.append(Section(start, s.end, s.path))
        carry = None
    return merged


class Chunker:
    """Chunk documents with a token-counting RecursiveCharacterTextSplitter."""

    def __init__(
        self, count_tokens: Callable[[str], int], max_tokens: int, overlap: int, overhead: int
    ) -> None:
        # ``overhead``: tokens the model adds around every passage (prefix, specials).
        self.count_tokens = count_tokens
        self.budget = max_tokens - overhead
        self.overlap = overlap
        self._splitters: dict[int, RecursiveCharacterTextSplitter] = {}

    def _splitter(self, size: int) -> RecursiveCharacterTextSplitter:
        if size not in self._splitters:
            self._splitters[size] = RecursiveCharacterTextSplitter(
                chunk_size=size,
                chunk_overlap=min(self.overlap, size // 4),
                length_function=self.count_tokens,
                separators=SEPARATORS,
                keep_separator="end",
                add_start_index=True,
                strip_whitespace=True,
            )
        return self._splitters[size]

    def _split(self, text: str, size: int, budget: int) -> Iterator[tuple[int, str]]:
        """(offset, piece) for ``text``; re-splits any piece over ``budget``,
        since tokens of a joined text are not always the sum of its parts."""
        for doc in self._splitter(size).create_documents([text]):
            piece, start = doc.page_content, doc.metadata["start_index"]
            if start < 0:  # the splitter could not locate it; find it ourselves
                start = text.find(piece)
            if self.count_tokens(piece) > budget and size > 16:
                for sub_start, sub in self._split(piece, int(size * 0.8), budget):
                    yield start + sub_start, sub
            else:
                yield start, piece

    def _pieces(self, body: str, context: str) -> list[tuple[int, str]]:
        """The pieces of one section, sized to leave room for its context;
        a short last piece that lies inside the previous one is dropped."""
        budget = max(32, self.budget - self.count_tokens(context) - 1)
        pieces = list(self._split(body, budget, budget))
        if len(pieces) > 1:
            (prev_start, prev), (last_start, last) = pieces[-2], pieces[-1]
            inside = last_start + len(last) <= prev_start + len(prev)
            if inside or self.count_tokens(last) < MIN_PIECE_TOKENS and last in prev:
                pieces.pop()
        return pieces

    def chunk(self, meta: DocumentMeta, pages: list[Page]) -> list[Chunk]:
        text_parts, page_starts, pos = [], [], 0
        for page in pages:
            page_starts.append(pos)
            text_parts.append(page.text)
            pos += len(page.text) + len(PAGE_SEPARATOR)
        doc_text = PAGE_SEPARATOR.join(text_parts)

        chunks: list[Chunk] = []
        for section in sections_of(pages, page_starts, len(doc_text)):
            body = doc_text[section.start : section.end]
            if not body.strip():
                continue
            context = context_of(meta.title, section.path)
            for offset, piece in self._pieces(body, context):
                start = section.start + offset
                end = start + len(piece)
                first = bisect.bisect_right(page_starts, start) - 1
                last = bisect.bisect_right(page_starts, max(start, end - 1)) - 1
                chunks.append(
                    Chunk(
                        chunk_id=f"{meta.id}#{len(chunks)}",
                        doc_id=meta.id,
                        title=meta.title,
                        lang=meta.lang,
                        kind=meta.kind,
                        group=meta.group,
                        page_start=pages[first].number,
                        page_end=pages[last].number,
                        label_start=pages[first].label,
                        label_end=pages[last].label,
                        section=section.path,
                        text=piece,
                        char_start=start - page_starts[first],
                        char_end=min(end - page_starts[last], len(pages[last].text)),
                        ordinal=len(chunks),
                        context=context,
                    )
                )
        return chunks
