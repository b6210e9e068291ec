"""Export with full citations, PDF links for "open at page", and the page's
language choice: the parts of the app that need no browser."""

from __future__ import annotations

import csv
import hashlib
import io
import os

from search.export import to_csv, to_markdown
from search.pdfs import page_link, publish, served_name
from search.searcher import Hit
from search.ui import card_html, ui_language

DOCS = {
    "strategy-2020-fi": {
        "title": "Kansallinen julkisten hankintojen strategia 2020",
        "url": "https://julkaisut.valtioneuvosto.fi/handle/10024/162418",
        "identifier": "URN:NBN:fi-fe2020090768680",
    }
}


def hit(**kw) -> Hit:
    base = dict(
        chunk_id="strategy-2020-fi:0007",
        doc_id="strategy-2020-fi",
        title="Kansallinen julkisten hankintojen strategia 2020",
        lang="fi",
        kind="strategy",
        group="strategy-2020",
        page=9,
        page_label="7",
        page_end=9,
        page_end_label="7",
        section=("3 Tavoitteet", "3.2 Innovaatiot"),
        text="Hankinnoilla edistetään innovaatioita.",
        score=0.91234,
        rank=1,
        row=7,
        char_start=0,
        char_end=40,
    )
    base.update(kw)
    return Hit(**base)


def lookup(doc_id: str) -> dict:
    return DOCS.get(doc_id, {})


def test_csv_rows_carry_the_full_citation():
    hits = [
        hit(),
        hit(
            rank=2,
            doc_id="other",
            title="Muu",
            section=(),
            page=1,
            page_label="i",
            page_end=1,
            page_end_label="i",
        ),
    ]
    rows = list(csv.DictReader(io.StringIO(to_csv(hits, lookup))))
    assert rows[0]["title"] == "Kansallinen julkisten hankintojen strategia 2020"
    assert rows[0]["page"] == "7" and rows[0]["pdf_page"] == "9"
    assert rows[0]["section"] == "3 Tavoitteet › 3.2 Innovaatiot"
    assert rows[0]["url"] == "https://julkaisut.valtioneuvosto.fi/handle/10024/162418"
    assert rows[0]["identifier"] == "URN:NBN:fi-fe2020090768680"
    assert rows[1]["url"] == "" and rows[1]["page"] == "i"


def test_csv_defuses_spreadsheet_formulas_and_keeps_quotes():
    hits = [hit(text='=HYPERLINK("http://x", "click") and "quotes", commas')]
    row = next(csv.DictReader(io.StringIO(to_csv(hits, lookup))))
    assert row["text"].startswith("'=HYPERLINK")
    assert '"quotes", commas' in row["text"]


def test_markdown_cites_and_escapes_document_text():
    text = "<script>alert(1)</script> [x](javascript:alert(2)) **bold**"
    md = to_markdown("innovaatiot", [hit(text=text)], lookup)
    assert "[Kansallinen julkisten hankintojen strategia 2020]" in md
    assert "(<https://julkaisut.valtioneuvosto.fi/handle/10024/162418>)" in md
    assert "URN:NBN:fi\\-fe2020090768680" in md
    assert "p. 7, 3\\.2 Innovaatiot [fi]" in md
    assert "<script>" not in md and "](javascript" not in md and "**bold**" not in md


def test_pdfs_are_published_under_a_content_address(tmp_path):
    corpus, static = tmp_path / "corpus", tmp_path / "static"
    (corpus / "official").mkdir(parents=True)
    pdf = corpus / "official" / "s.pdf"
    pdf.write_bytes(b"%PDF-1.4 one")
    one = hashlib.sha256(b"%PDF-1.4 one").hexdigest()  # only the indexed bytes are served
    docs = {
        "s": {"path": "official/s.pdf", "sha256": one},
        "page": {"path": "web/page.md", "sha256": "b" * 64},
        "gone": {"path": "official/gone.pdf", "sha256": "c" * 64},
    }
    links = publish(docs, corpus, static)
    assert links == {"s": f"app/static/docs/{served_name('s', one)}"}
    served = static / "docs" / served_name("s", one)
    assert served.read_bytes() == b"%PDF-1.4 one"
    assert page_link(links["s"], 12).endswith(".pdf#page=12")

    # the file changed and was re-indexed: a new address, the old copy removed
    pdf.write_bytes(b"%PDF-1.4 two")
    docs["s"]["sha256"] = two = hashlib.sha256(b"%PDF-1.4 two").hexdigest()
    links = publish(docs, corpus, static)
    assert os.listdir(static / "docs") == [served_name("s", two)]


def test_card_links_the_pdf_page_and_escapes_the_rest():
    html = card_html(hit(title='<img src=x onerror="a()">'), "fi", "app/static/docs/s-aaa.pdf")
    assert "<img" not in html
    assert 'href="app&#47;static&#47;docs&#47;s&#45;aaa&#46;pdf&#35;page&#61;9"' in html
    assert "Avaa sivulta 7</a>" in html


def test_page_language_follows_the_url_then_the_browser():
    assert ui_language("sv", "fi-FI") == "sv"
    assert ui_language(None, "fi-FI") == "fi"
    assert ui_language(None, "sv-FI") == "sv"
    assert ui_language("de", "de-DE") == "en"
    assert ui_language(None, None) == "en"
