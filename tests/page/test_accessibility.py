"""Accessibility (WCAG 2.1 AA) and the phone-width layout, in a real
browser: axe-core on the search view with results, the documents view and
an error state; the page by keyboard alone; the question box and the
answer in the first screen at 390 x 844.

axe-core comes inside the axe-playwright-python wheel (axe.min.js, injected
with page.evaluate): nothing is downloaded at test time, and the test
checks that the page made no request beyond 127.0.0.1."""

from __future__ import annotations

import pytest

from testsupport.apprunner import (
    ANSWER,
    CARD,
    QUESTION,
    browser_page,
    index_env,
    require_chromium,
    screenshot,
    search,
    serve_app,
)
from testsupport.axe import blocking_violations

pytestmark = [pytest.mark.model, pytest.mark.browser]


@pytest.fixture(scope="module")
def app_url(finlex_index, tmp_path_factory):
    require_chromium()
    env = index_env(finlex_index)
    with serve_app(tmp_path_factory.mktemp("a11y"), env) as url:
        yield url


def _settled(page) -> None:
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(300)


def _search_view(page, url: str) -> None:
    """Results for a Finnish question, with the other-language panel open."""
    page.goto(url)
    search(page, QUESTION)
    _settled(page)
    page.get_by_text("Asiayhteys, muut kielet, samankaltaiset kohdat").first.click()
    page.get_by_role("tab", name="Sama kohta muilla kielillä").first.click()
    shown = page.locator("[data-testid='stExpander'] [role='tabpanel']:visible").first
    shown.get_by_text("Lag om offentlig upphandling").first.wait_for()
    _settled(page)


def _documents_view(page, url: str) -> None:
    page.goto(f"{url}/?view=docs")
    page.get_by_text("Kohtia asiakirjoittain ja kielittäin").wait_for(timeout=30_000)
    _settled(page)


def _error_view(page, url: str) -> None:
    """The 2,001-character question: the page's error message."""
    page.goto(url)
    box = page.get_by_role("textbox", name="Kysy kysymys ja paina Enter")
    box.fill("hankinta " * 222 + "abc")  # 2,001 characters
    box.press("Enter")
    page.locator("[data-testid='stAlert']").filter(has_text="2001").wait_for(timeout=30_000)
    _settled(page)


def _outline_view(page, url: str) -> None:
    """The Act's 25 § beside its Swedish version, from a shared link (its
    chapter's panel open in the contents)."""
    page.goto(f"{url}/?view=outline&document=hankintalaki-fi&section=4ch/25%C2%A7")
    page.locator("div[data-testid='stHtml'] div[lang='sv']").first.wait_for(timeout=30_000)
    page.locator("[data-testid='stSidebar'] details[open]").first.wait_for()
    _settled(page)


def _search_view_dark(page, url: str) -> None:
    """The same in the dark theme (Streamlit follows the system's)."""
    page.emulate_media(color_scheme="dark")
    _search_view(page, url)


VIEWS = {
    "search": _search_view,
    "search-dark": _search_view_dark,
    "documents": _documents_view,
    "outline": _outline_view,
    "error": _error_view,
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_axe_finds_no_serious_or_critical_violation(app_url, view):
    requested: list[str] = []
    with browser_page("fi-FI") as page:
        page.on("request", lambda r: requested.append(r.url))
        VIEWS[view](page, app_url)
        assert blocking_violations(page) == []
    assert all(u.startswith(("http://127.0.0.1", "data:", "blob:")) for u in requested), [
        u for u in requested if not u.startswith("http://127.0.0.1")
    ]


def _tab_to(page, check: str, limit: int = 80) -> dict:
    """Press Tab until the focused element satisfies ``check`` (a JavaScript
    expression over ``el``); returns what it is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(
            f"""() => {{ const el = document.activeElement;
                return ({check}) ? {{tag: el.tagName, text: el.innerText || '',
                href: el.getAttribute('href')}} : null; }}"""
        )
        if found:
            return found
    raise AssertionError(f"{limit} presses of Tab never reached {check}")


def test_keyboard_alone_searches_opens_a_panel_copies_a_citation_and_reaches_open_at_page(
    app_url,
):
    with browser_page("fi-FI") as page:
        page.goto(app_url)
        page.get_by_role("textbox", name="Kysy kysymys ja paina Enter").wait_for()
        _tab_to(page, "el.getAttribute('aria-label') === 'Kysy kysymys ja paina Enter'")
        page.keyboard.type(QUESTION)
        page.keyboard.press("Enter")
        page.locator(CARD).first.wait_for(timeout=60_000)
        _settled(page)

        panel = "Asiayhteys, muut kielet, samankaltaiset kohdat"
        found = _tab_to(page, f"el.tagName === 'SUMMARY' && el.innerText.includes('{panel}')")
        assert panel in found["text"]
        page.keyboard.press("Enter")
        opened = page.locator("[data-testid='stExpander'] details[open]").first
        opened.locator(CARD).first.wait_for(timeout=30_000)
        _settled(page)
        # the focus stays on the panel's header after the rerun
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

        # the citation, in a field the keyboard reaches: select it and copy it
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        _tab_to(page, "(el.getAttribute('aria-label') || '').startsWith('Lähdeviite valittavaksi')")
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.press("ControlOrMeta+c")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("Laki julkisista hankinnoista") and " s. " in copied, copied

        found = _tab_to(page, "el.tagName === 'A' && el.innerText.startsWith('Avaa sivulta')")
        assert (
            found["href"].startswith("app/static/docs/hankintalaki-") and "#page=" in found["href"]
        )


PHONE = {"width": 390, "height": 844}
ASKED = {
    "fi-FI": ("fi", QUESTION, "Vastaus asiakirjoista", "Kysy kysymys ja paina Enter"),
    "sv-FI": (
        "sv",
        "Vad är ett innovationspartnerskap?",
        "Svar ur dokumenten",
        "Ställ en fråga och tryck på Enter",
    ),
}


@pytest.mark.parametrize("width", [390, 1300])
@pytest.mark.parametrize("locale", list(ASKED))
def test_question_and_answer_fit_the_first_screen(app_url, locale, width, tmp_path):
    """At 390 x 844 (a phone) and 1300 px: the question box and the answer
    box's first lines without scrolling; the search settings in the sidebar,
    collapsed on the phone. Screenshots of the first screen."""
    ui, question, heading, asked = ASKED[locale]
    with browser_page(locale) as page:
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        page.goto(app_url)
        search(page, question)
        _settled(page)
        box = page.get_by_role("textbox", name=asked).bounding_box()
        answer = page.locator(ANSWER).first
        assert answer.inner_text().startswith(heading)
        first = answer.locator("li").first.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]
        # the answer's heading and first line are on the first screen
        assert first["y"] + 30 <= PHONE["height"], first
        settings = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']")
        # the settings: beside the results on a wide screen; on a phone
        # collapsed, out of sight and out of the Tab order
        assert settings.first.is_visible() is (width > PHONE["width"])
        screenshot(page, tmp_path / f"first-screen-{ui}-{width}.png", full_page=False)
        if width == PHONE["width"]:  # the sidebar's button opens the settings
            page.locator("[data-testid='stExpandSidebarButton']").click()
            settings.first.wait_for(state="visible")
            page.wait_for_function(  # slid in, not still on its way
                "document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().left >= 0"
            )
            page.wait_for_timeout(300)
            assert settings.first.bounding_box()["x"] >= 0
            screenshot(page, tmp_path / f"settings-{ui}-{width}.png", full_page=False)
