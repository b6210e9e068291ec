"""Generate small real PDFs for tests with reportlab (Latin-1 text: fi, sv, en)."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(
    path: Path,
    pages: list[list[str]],
    title: str | None = None,
    header: str | None = None,
    footer: bool = False,
    outline: list[tuple[str, int, int]] | None = None,
) -> Path:
    """Write a PDF: ``pages`` is a list of pages, each a list of lines.

    ``header`` repeats at the top of every page; ``footer`` adds "N (M)";
    ``outline`` is (title, level 0-based, page index).
    """
    c = canvas.Canvas(str(path), pagesize=A4)
    if title:
        c.setTitle(title)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        c.setFont("Helvetica", 11)
        if header:
            c.drawString(60, height - 40, header)
        y = height - 80
        for line in lines:
            c.drawString(60, y, line)
            y -= 15
        if footer:
            c.drawString(width - 100, 30, f"{number} ({len(pages)})")
        for key, (otitle, level, page_index) in enumerate(outline or []):
            if page_index == number - 1:
                c.bookmarkPage(f"o{key}")
                c.addOutlineEntry(otitle, f"o{key}", level=level)
        c.showPage()
    c.save()
    return path


def make_image_only_pdf(path: Path) -> Path:
    """A PDF with drawings but no text layer, as a scan would be."""
    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(2):
        c.rect(100, 100, 300, 400, fill=1)
        c.circle(300, 600, 50, fill=1)
        c.showPage()
    c.save()
    return path


def encrypt_pdf(src: Path, dest: Path, password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    with open(dest, "wb") as f:
        writer.write(f)
    return dest
