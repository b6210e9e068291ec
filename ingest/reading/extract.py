"""Extract raw text page by page from PDF, Markdown, plain-text and HTML files
(HTML: the page's main content only, by ingest/reading/webpage.py).

Every failure is an :class:`ExtractionError` naming the file and the reason.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import ExtractionError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadingHint:
    """A heading the source format states explicitly (PDF outline, Markdown, HTML)."""

    level: int
    title: str
    page: int = 1  # 1-based page where it starts


@dataclass
class RawDocument:
    title_hint: str
    pages: list[tuple[str, str]]  # (printed label, raw text), in page order
    hints: list[HeadingHint] = field(default_factory=list)


def extract(path: Path, max_bytes: int, max_pages: int) -> RawDocument:
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError(path, "empty file")
    if size > max_bytes:
        raise ExtractionError(
            path, f"file is {size / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB"
        )
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _extract_pdf(path, max_pages)
    text = _read_text(path)
    if suffix in (".md", ".markdown"):
        return _extract_markdown(text)
    if suffix in (".html", ".htm"):
        return _extract_html(path, text)
    return _extract_plain(text)


# ---------------------------------------------------------------- PDF


def _extract_pdf(path: Path, max_pages: int) -> RawDocument:
    import pypdf
    from pypdf.errors import PyPdfError

    with open(path, "rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise ExtractionError(path, "not a PDF file (no %PDF header)")
    try:
        reader = pypdf.PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(path, "encrypted PDF (password protected); cannot read it")
        n_pages = len(reader.pages)
    except ExtractionError:
        raise
    except NotImplementedError as exc:
        # pypdf's word for a feature it lacks, e.g. an encryption handler
        # other than /Standard (found by the fuzzer: a damaged /Filter name).
        kind = "encrypted PDF" if "encrypt" in str(exc).lower() else "PDF"
        reason = f"{kind} uses a feature pypdf cannot read ({_short(exc)})"
        raise ExtractionError(path, reason) from exc
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
        RecursionError,
        AssertionError,
        IndexError,
        ZeroDivisionError,
    ) as exc:
        raise ExtractionError(path, f"corrupt or truncated PDF ({_short(exc)})") from exc
    if n_pages == 0:
        raise ExtractionError(path, "PDF has no pages")
    if n_pages > max_pages:
        raise ExtractionError(path, f"PDF has {n_pages} pages, over the limit of {max_pages}")

    labels = _page_labels(reader, n_pages)
    pages: list[tuple[str, str]] = []
    failed = 0
    for i in range(n_pages):
        try:
            text = reader.pages[i].extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - pypdf raises many types on broken pages
            logger.warning("%s: page %d could not be read (%s)", path, i + 1, _short(exc))
            failed += 1
            text = ""
        pages.append((labels[i], text))
    if not any(t.strip() for _, t in pages):
        if failed == n_pages:
            raise ExtractionError(path, "corrupt PDF: no page could be read")
        raise ExtractionError(
            path, "no text layer (image-only or scanned PDF; OCR is not supported)"
        )
    return RawDocument(_pdf_title(reader), pages, _pdf_outline(reader))


def _page_labels(reader, n_pages: int) -> list[str]:
    try:
        labels = list(reader.page_labels)
        if len(labels) == n_pages:
            return [str(label) for label in labels]
    except Exception:  # noqa: BLE001 - a broken /PageLabels tree is not fatal
        pass
    return [str(i + 1) for i in range(n_pages)]


def _pdf_title(reader) -> str:
    try:
        meta = reader.metadata
        title = meta.title if meta else None
    except Exception:  # noqa: BLE001 - unreadable metadata is not fatal
        return ""
    return str(title).strip() if title else ""


def _pdf_outline(reader) -> list[HeadingHint]:
    hints: list[HeadingHint] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
                title = str(item.title).strip()
            except Exception:  # noqa: BLE001 - skip a broken outline entry
                continue
            if title and page > 0:
                hints.append(HeadingHint(level, title, page))

    try:
        walk(reader.outline, 1)
    except Exception:  # noqa: BLE001 - a broken outline is not fatal
        return []
    return hints


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


# ---------------------------------------------------------------- text formats


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise ExtractionError(path, "binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(path, f"not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise ExtractionError(path, "file has no text")
    return text


_MD_OPEN = re.compile(r"(#{1,6})(\s+)")


def markdown_heading(line: str) -> tuple[int, str] | None:
    """A Markdown ATX heading line as (level, title), or None.

    The same as matching ``^(#{1,6})\\s+(.+?)\\s*#*\\s*$`` and stripping the
    title, in linear time: that pattern backtracks cubically on a long run
    of spaces (an 8 kB line took minutes)."""
    m = _MD_OPEN.match(line)
    if m is None:
        return None
    level, rest = len(m.group(1)), line[m.end() :]
    if not rest:  # "#" and spaces only: a title of one space, if two were there
        return (level, "") if len(m.group(2)) > 1 else None
    # The closing sequence (spaces, #s, spaces) goes; the title keeps one character.
    title = rest.rstrip().rstrip("#").rstrip() or rest[0]
    return level, title.strip()


def _extract_markdown(text: str) -> RawDocument:
    lines, hints = [], []
    for line in text.splitlines():
        heading = markdown_heading(line)
        if heading is not None:
            hints.append(HeadingHint(*heading))
            line = heading[1]
        lines.append(line)
    title = hints[0].title if hints else _first_line(text)
    return RawDocument(title, [("1", "\n".join(lines))], hints)


def _extract_plain(text: str) -> RawDocument:
    # Form feeds separate pages in plain-text exports.
    parts = text.split("\f")
    hints = [
        HeadingHint(level, title, page)
        for page, part in enumerate(parts, start=1)
        for level, title in plain_headings(part, first=page == 1)
    ]
    return RawDocument(
        _first_line(text), [(str(i + 1), p) for i, p in enumerate(parts)], hints=hints
    )


PLAIN_HEADING_CHARS = 60


def plain_headings(text: str, first: bool) -> list[tuple[int, str]]:
    """Headings of plain text, which states none: a short line standing alone
    between blank lines (or at the top), starting with a capital, not ending
    like a sentence or a lead-in (. , : ; ! ?), not a list item, and followed
    by more text. A page copied from the web ("Mål", "Temagruppens möten")
    keeps its sections this way. The first such line of the file is its
    title (level 1); the others are level 2."""
    lines = [line.strip() for line in text.split("\n")]
    last = max((i for i, line in enumerate(lines) if line), default=-1)
    out: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        before = i == 0 or not lines[i - 1]
        after = i + 1 < len(lines) and not lines[i + 1]
        rest = i < last  # more text follows (linear: no scan of the rest per line)
        if (
            before
            and (after or (i == 0 and rest))
            and rest
            and 0 < len(line) <= PLAIN_HEADING_CHARS
            and line[0].isupper()
            and line[-1] not in ".,:;!?"
            and not line.startswith(("•", "-", "*", "–"))
        ):
            out.append((1 if first and not out and i == 0 else 2, line))
    return out


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _extract_html(path: Path, text: str) -> RawDocument:
    """The page's main content (trafilatura; see ingest/reading/webpage.py), with
    its headings: no menus, cookie banners, asides or footers."""
    from ingest.reading.webpage import main_content

    content = main_content(text)
    if not content.text.strip():
        raise ExtractionError(path, "web page has no main text")
    hints = [HeadingHint(level, title) for level, title in content.headings]
    return RawDocument(content.title, [("1", content.text)], hints)
