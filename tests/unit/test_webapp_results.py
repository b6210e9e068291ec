"""webapp/results.py's pieces that need no searcher: the citation a person
copies and the card put on the page, each for the hit's own document (the
manifest's record, here a stand-in for the live searcher's)."""

from __future__ import annotations

import html
import re

import pytest

from kb.records import IndexedDocument
from testsupport.records import document, hit
from webapp import results

DOCS = {
    "strategy-2020-fi": document(
        "strategy-2020-fi",
        path="official/strategy-2020.fi.pdf",
        url="https://julkaisut.valtioneuvosto.fi/handle/10024/162418",
        identifier="URN:NBN:fi-fe2020090768680",
    ),
    "sivu": document(
        "sivu",
        kind="web page",
        path="web/sivu.fi.md",
        url="https://www.hankinnat.fi/teemaryhmat/innovaatiot",
        retrieved="2024-05-01",
    ),
}


@pytest.fixture(autouse=True)
def documents(monkeypatch):
    monkeypatch.setattr(
        results, "get_document", lambda doc_id: DOCS.get(doc_id) or IndexedDocument.unknown(doc_id)
    )


def test_a_pdf_is_cited_by_page_in_the_page_language_with_its_address():
    fi = results.citation(hit(), "fi")
    assert fi == (
        "Kansallinen julkisten hankintojen strategia 2020, 3.2 Innovaatiot, s. 7. "
        "https://julkaisut.valtioneuvosto.fi/handle/10024/162418 (URN:NBN:fi-fe2020090768680)"
    )
    assert ", p. 7. " in results.citation(hit(), "en")


def test_a_web_page_is_cited_by_address_and_date_never_a_page():
    web = hit(doc_id="sivu", title="Teemaryhmä Innovaatiot", section=("Tavoitteet",))
    text = results.citation(web, "fi")
    assert text.startswith("Teemaryhmä Innovaatiot, Tavoitteet. ")
    assert "https://www.hankinnat.fi/teemaryhmat/innovaatiot" in text and "1.5.2024" in text
    assert "s. " not in text


class Where:
    """A stand-in for st, a column or a placeholder: what it was given."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def html(self, text: str) -> None:
        self.written.append(text)


def test_a_card_links_its_own_document_at_the_page_and_escapes_its_text():
    where = Where()
    links = {"strategy-2020-fi": "/app/static/abc.pdf", "other": "/app/static/x.pdf"}
    results.put_card(where, hit(text="Hankinnat <script>alert(1)</script>"), "fi", links)
    (card,) = where.written
    pdf, outline = re.findall(r'href="([^"]*)"', card)
    assert html.unescape(pdf) == "/app/static/abc.pdf#page=9"  # its own PDF, at its page
    outline = html.unescape(outline)
    assert "view=outline" in outline and "document=strategy-2020-fi" in outline
    assert "<script>" not in card and "&#60;script&#62;" in card


def test_the_answer_box_quotes_no_list_item_when_the_database_is_gone():
    from kb.errors import BackendUnavailableError

    class Gone:
        def passages_before(self, hit):
            raise BackendUnavailableError("postgresql://db", "connection refused")

    assert results.lead_ins(Gone())(hit()) == []
