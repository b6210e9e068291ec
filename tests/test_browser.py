"""End to end in a real browser: the app on 127.0.0.1, driven by headless
Chromium through Playwright, on the Public Procurement Act (fi + sv).

A Finnish question finds Swedish passages, the other-language version opens
beside a hit, "open at page" serves the PDF, and a search reproduces from
its URL. The screenshot lands in .cache/screenshots/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import urllib.parse

import pytest

from ingest.settings import PROJECT_ROOT

from .apprunner import CARD, CHROMIUM, browser_page, search, serve_app

pytestmark = pytest.mark.model

SCREENSHOTS = PROJECT_ROOT / ".cache" / "screenshots"
QUESTION = "Mitä innovaatiokumppanuus tarkoittaa?"


@pytest.fixture(scope="module")
def app_url(finlex_index, tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does)")
    env = {"KB_INDEX": str(finlex_index.index_dir), "KB_CORPUS": str(finlex_index.corpus_dir)}
    with serve_app(tmp_path_factory.mktemp("app"), env) as url:
        yield url


def test_finnish_question_finds_swedish_passages_with_citations(app_url, tmp_path):
    with browser_page("fi-FI") as page:
        page.goto(f"{app_url}/?lang=sv")
        elapsed = search(page, QUESTION)
        assert elapsed < 60
        cards = page.locator(CARD)
        first = cards.first.inner_text()
        # Finnish page language from the browser; a Swedish passage, cited
        assert "Lag om offentlig upphandling och koncession 1397/2016" in first
        assert " sv " in first.replace("\n", " ") and " s. " in first
        assert "Innovationspartnerskap" in first

        # the search is in the URL
        params = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
        assert params["q"] == [QUESTION] and params["lang"] == ["sv"]

        # the same passage in the other language, beside it
        page.get_by_text("Sama kohta muilla kielillä").first.click()
        expander = page.locator("[data-testid='stExpander']").filter(
            has_text="Sama kohta muilla kielillä"
        )
        expander.first.get_by_text("Laki julkisista hankinnoista").first.wait_for()
        assert "Innovaatiokumppanuus" in expander.first.inner_text()

        # open at page: the link serves the PDF and names the page
        link = page.get_by_role("link", name="Avaa sivulta").first
        href = link.get_attribute("href")
        assert href.startswith("app/static/docs/hankintalaki-sv-") and "#page=" in href
        response = page.request.get(f"{app_url}/{href.split('#')[0]}")
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.body()[:5] == b"%PDF-"

        # when the page has finished, the best sentence of the first hit,
        # found by embedding (no query word is in a Swedish passage), is marked
        page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
        assert cards.first.locator("mark").count() == 1

        shot = tmp_path / "finnish-question-swedish-passages.png"
        page.screenshot(path=str(shot), full_page=False)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / shot.name)
        shared_url = page.url

    # a link reproduces the search in a new browser, without typing
    with browser_page("en-GB") as page:
        page.goto(shared_url)
        page.locator(CARD).first.wait_for(timeout=60_000)
        assert page.locator(CARD).first.inner_text() == first


@pytest.fixture(scope="module")
def hostile_app_url(tmp_path_factory, real_embedder):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does)")
    from ingest.pipeline import build_index
    from ingest.settings import Settings

    from .test_app import HOSTILE

    root = tmp_path_factory.mktemp("hostile")
    (root / "corpus").mkdir()
    (root / "corpus" / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    build_index(settings, embedder=real_embedder)
    env = {"KB_INDEX": str(settings.index_dir), "KB_CORPUS": str(settings.corpus_dir)}
    with serve_app(root / "app", env) as url:
        yield url


def test_hostile_document_text_neither_runs_nor_renders_as_markup(hostile_app_url):
    dialogs: list[str] = []
    with browser_page("sv-FI") as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(hostile_app_url)
        search(page, "innovaatiot")
        card = page.locator(CARD).first
        text = card.inner_text()
        assert "<script>alert(1)</script>" in text  # shown as text
        assert "<img src=x onerror=alert(2)>" in text
        assert "[avaa](javascript:alert(3))" in text and "**lihava**" in text
        assert card.locator("script, img, strong").count() == 0
        assert card.locator("a[href^='javascript']").count() == 0
        page.wait_for_timeout(500)
        assert page.get_by_text("Sök", exact=True).count() >= 1  # Swedish UI from the browser
    assert dialogs == []
