"""Adding and removing documents from the page, in a real browser: the app
on 127.0.0.1 driven by headless Chromium through Playwright (as
tests/page/test_browser.py). A PDF and Markdown files are uploaded, found in the
documents table and in search results; one is removed and is gone; hostile
file names show as text. Screenshots land in .cache/screenshots/."""

from __future__ import annotations

import re
import time

import pytest

from testsupport.apprunner import (
    CARD,
    assert_inert,
    browser_page,
    require_chromium,
    screenshot,
    search,
    serve_app,
)
from testsupport.pdfgen import make_pdf

pytestmark = [pytest.mark.model, pytest.mark.browser]

ADDED_NAME = "[x](https:127.0.0.1:8999).md"  # added: its name is shown as text
HOSTILE_TITLE = "[t](https:127.0.0.1:8999) **T**"  # typed into the form
REFUSED_NAME = "[y](https:127.0.0.1:8999) $\\huge{BIG}$.pdf"  # not a PDF: refused
MARKDOWN = (
    "# Hankintojen innovaatiomuistio\n\nInnovaatiokumppanuus on menettely, jossa "
    "hankintayksikkö ja yritys kehittävät yhdessä uuden ratkaisun.\n"
)


@pytest.fixture
def library_app(settings, tmp_path, real_embedder):
    require_chromium()
    from ingest.pipeline import build_index

    corpus = settings.corpus_dir  # under tmp_path (tests/conftest.py)
    (corpus / "sida.sv.md").write_text(
        "# Upphandlingar\n\nUpphandlande enheter främjar innovationer.\n", encoding="utf-8"
    )
    build_index(settings, embedder=real_embedder)
    env = {"KB_INDEX": str(settings.index_dir), "KB_CORPUS": str(corpus), "KB_WORKERS": "1"}
    with serve_app(tmp_path / "app", env) as url:
        yield url, settings


def _table_text(page, until, timeout_s: float = 60) -> str:
    """The documents table's cells once ``until(text)`` holds (the grid is
    drawn on a canvas; its accessible table holds the text, and follows the
    page's rerun a moment later)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    deadline = time.monotonic() + timeout_s
    while True:
        grid.wait_for()
        text = " ".join(grid.locator("td, th, [role='gridcell']").all_inner_texts())
        if until(text) or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(500)


def test_upload_find_and_remove_documents_from_the_page(library_app, tmp_path):
    url, settings = library_app
    pdf = make_pdf(
        tmp_path / "strategia.pdf",
        [["1 Johdanto", "Julkiset hankinnat kannustavat yrityksia innovaatioihin kunnissa."]],
        title="Kansallinen hankintastrategia",
    )
    requested: list[str] = []
    with browser_page("en-GB") as page:
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{url}/?view=docs&ui=en")
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
            [
                {
                    "name": "strategia.pdf",
                    "mimeType": "application/pdf",
                    "buffer": pdf.read_bytes(),
                },
                {"name": "muistio.md", "mimeType": "text/markdown", "buffer": MARKDOWN.encode()},
                {
                    "name": ADDED_NAME,
                    "mimeType": "text/markdown",
                    "buffer": b"Hankinnat ja innovaatiot kunnissa ja valtiolla.\n",
                },
                {"name": REFUSED_NAME, "mimeType": "application/pdf", "buffer": b"<html>x</html>"},
            ]
        )
        titles = page.get_by_role("textbox", name="Title", exact=True)
        titles.nth(2).wait_for(timeout=120_000)
        assert [titles.nth(i).input_value() for i in range(3)] == [
            "Kansallinen hankintastrategia",
            "Hankintojen innovaatiomuistio",
            "Hankinnat ja innovaatiot kunnissa ja valtiolla.",  # its first line
        ]
        titles.nth(2).fill(HOSTILE_TITLE)
        page.get_by_text(ADDED_NAME, exact=True).wait_for()  # the caption, as written
        refused = page.locator("[data-testid='stAlert']").filter(has_text="Not added")
        assert refused.count() == 1
        assert (
            refused.inner_text()
            .strip()
            .startswith(f"Not added: {REFUSED_NAME}: cannot be read: not a PDF file")
        )
        assert_inert(page)
        screenshot(page, tmp_path / "library-upload-form.png")

        page.get_by_role("button", name="Add and rebuild the index").click()
        alerts = page.locator("[data-testid='stAlert']")
        alerts.filter(has_text="Added: Kansallinen hankintastrategia").wait_for(timeout=240_000)
        assert alerts.filter(has_text=f"Added: {HOSTILE_TITLE} (added/").count() == 1
        added = ("Kansallinen hankintastrategia", "Hankintojen innovaatiomuistio", HOSTILE_TITLE)
        table = _table_text(page, lambda text: all(t in text for t in added))
        for title in (
            "Kansallinen hankintastrategia",
            "Hankintojen innovaatiomuistio",
            HOSTILE_TITLE,
        ):
            assert title in table, table
        assert_inert(page)

        page.goto(f"{url}/?ui=en")
        search(page, "Mitä innovaatiokumppanuus tarkoittaa?")
        cards = " ".join(page.locator(CARD).all_inner_texts())
        assert "Hankintojen innovaatiomuistio" in cards
        page.goto(f"{url}/?ui=en&q=hankinnat+kannustavat+yrityksia&doc=strategia")
        page.locator(CARD).first.wait_for(timeout=60_000)
        assert "Kansallinen hankintastrategia" in page.locator(CARD).first.inner_text()

        # remove the Markdown file: a confirmation first, then it is gone
        page.goto(f"{url}/?view=docs&ui=en")
        page.locator("[data-testid='stSelectbox']").filter(has_text="Document").click()
        page.get_by_role("option", name=re.compile("Hankintojen innovaatiomuistio")).click()
        page.get_by_role("button", name="Remove…").click()
        confirm = page.get_by_role("button", name="Yes, remove it")
        confirm.wait_for()
        assert (settings.corpus_dir / "added" / "muistio.md").exists()  # not before the yes
        screenshot(page, tmp_path / "library-confirm-remove.png")
        confirm.click()
        alerts.filter(has_text="Removed: Hankintojen innovaatiomuistio").wait_for(timeout=240_000)
        table = _table_text(page, lambda text: "Hankintojen innovaatiomuistio" not in text)
        assert "Hankintojen innovaatiomuistio" not in table and "Kansallinen" in table
        screenshot(page, tmp_path / "library-after-remove.png")

        page.goto(f"{url}/?ui=en")
        search(page, "Mitä innovaatiokumppanuus tarkoittaa?")
        cards = " ".join(page.locator(CARD).all_inner_texts())
        assert "Hankintojen innovaatiomuistio" not in cards
    assert not (settings.corpus_dir / "added" / "muistio.md").exists()
    assert not [u for u in requested if "8999" in u]
