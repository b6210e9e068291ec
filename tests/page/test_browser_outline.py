"""The outline view in a real browser (the app on 127.0.0.1, headless
Chromium through Playwright), on the Public Procurement Act (fi + sv, the
session's real-model index that the other browser tests share). The
contents open at 4 luku › 25 § (the Act's section 25 is in chapter 4), the
Swedish version stands beside the Finnish, a shared link opens the same
view, and a card's link leads there. Screenshots in fi, sv and en, desktop
and phone, land in .cache/screenshots/ (git-ignored). The same Act as
dropped in (no sources.toml) is tests/test_app_outline.py's."""

from __future__ import annotations

import re
import urllib.parse

import pytest

from testsupport.apprunner import CARD, browser_page, index_env, require_chromium, search, serve_app
from testsupport.apprunner import screenshot as _screenshot

pytestmark = [pytest.mark.model, pytest.mark.browser]

CHAPTER = "4 luku Kynnysarvot ja hankinnan ennakoidun arvon laskeminen"
SECTION = "25 § Kansalliset kynnysarvot"
FI_TEXT = "Kansalliset kynnysarvot ilman arvonlisäveroa laskettuna ovat"
SV_TEXT = "De nationella tröskelvärdena exklusive mervärdesskatt är"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def app_url(finlex_index, tmp_path_factory):
    require_chromium()
    with serve_app(tmp_path_factory.mktemp("outline"), index_env(finlex_index)) as url:
        yield url


def _settled(page) -> None:
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(300)


def _versions(page):
    """The Finnish and the Swedish text of the section shown."""
    fi = page.locator("div[data-testid='stHtml'] div[lang='fi']").first
    sv = page.locator("div[data-testid='stHtml'] div[lang='sv']").first
    fi.get_by_text(FI_TEXT).wait_for(timeout=30_000)
    sv.get_by_text(SV_TEXT).wait_for(timeout=30_000)
    return fi, sv


def _side_by_side(fi, sv) -> None:
    a, b = fi.bounding_box(), sv.bounding_box()
    assert a["x"] + a["width"] <= b["x"] + 1 and abs(a["y"] - b["y"]) < 40, (a, b)


def test_follow_the_contents_to_a_section_beside_its_swedish_version(app_url, tmp_path):
    with browser_page("fi-FI") as page:
        page.set_viewport_size({"width": 1300, "height": 1000})
        page.goto(app_url)
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.locator("[data-testid='stRadio'] label").filter(has_text="Sisällys").click()
        page.get_by_text("Valitse otsikko sisällyksestä").wait_for(timeout=30_000)
        # the chapter's panel, with its page; then its section
        chapter = sidebar.locator("summary").filter(has_text=CHAPTER)
        assert re.search(r"· s\. 14$", chapter.inner_text().strip()), chapter.inner_text()
        chapter.click()
        sidebar.get_by_role("button", name=re.compile(rf"^{SECTION} · s\. 14")).click()
        fi, sv = _versions(page)
        _side_by_side(fi, sv)
        assert "25 § Nationella tröskelvärden" in sv.inner_text()
        assert "Lag om offentlig upphandling och koncession 1397/2016" in sv.inner_text()
        # no sentence twice, though the section's passages overlap
        text = " ".join(fi.inner_text().split())
        assert text.count("5) 500 000 euroa käyttöoikeussopimuksissa") == 1
        # each version's citation and its "open at page"
        codes = page.locator("[data-testid='stCode']").all_inner_texts()
        assert any(c.strip().startswith("Laki julkisista") and SECTION in c for c in codes)
        assert any(c.strip().startswith("Lag om") and "25 § Nationella" in c for c in codes)
        link = fi.get_by_role("link", name=re.compile("^Avaa sivulta 14"))
        href = link.get_attribute("href")
        assert href.startswith("app/static/docs/hankintalaki-fi-")
        assert href.endswith("#page=14")
        assert page.request.get(f"{app_url}/{href.split('#')[0]}").status == 200
        # the URL names the document and the section
        params = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
        assert params["view"] == ["outline"] and params["section"] == ["4ch/25§"]
        assert params["document"] == ["hankintalaki-fi"]
        _settled(page)
        _screenshot(page, tmp_path / "outline-fi-1300.png", full_page=False)
        shared = page.url

    # the shared link opens the same section, in each page language, on a
    # desktop and on a phone
    for ui, locale in (("fi", "fi-FI"), ("sv", "sv-FI"), ("en", "en-GB")):
        link = shared.replace("ui=fi", f"ui={ui}")
        for width in (1300, PHONE["width"]):
            with browser_page(locale) as page:
                page.set_viewport_size({"width": width, "height": PHONE["height"]})
                page.goto(link)
                fi, sv = _versions(page)
                if width > PHONE["width"]:
                    _side_by_side(fi, sv)
                else:  # one above the other, within the screen's width
                    assert sv.bounding_box()["y"] > fi.bounding_box()["y"]
                    assert fi.bounding_box()["width"] <= PHONE["width"]
                word = {"fi": "Sisällys", "sv": "Innehåll", "en": "Contents"}[ui]
                assert page.get_by_text(word, exact=True).count() >= 1
                _settled(page)
                _screenshot(page, tmp_path / f"outline-{ui}-{width}.png", full_page=False)


def test_a_result_card_opens_its_section_in_the_outline(app_url):
    with browser_page("fi-FI") as page:
        page.goto(app_url)
        search(page, "Mitkä ovat kansalliset kynnysarvot?")
        _settled(page)
        card = page.locator(CARD).first
        section = card.locator("span").first.inner_text()  # the card's heading path
        card.get_by_role("link", name="Avaa sisällyksessä").click()
        page.wait_for_url(re.compile(r"view=outline"))
        shown = page.locator("div[data-testid='stHtml'] div[lang]").first
        shown.wait_for(timeout=30_000)
        assert section in " ".join(shown.inner_text().split())
