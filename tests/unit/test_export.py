"""Export with full citations, PDF links for "open at page", and the page's
language choice: the parts of the app that need no browser."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import replace

import pytest

from kb.records import IndexedDocument
from search.export import to_csv, to_markdown
from search.searcher import Hit
from testsupport.records import document, hit
from webapp.cards import card_html, ui_language
from webapp.pdfs import page_link, publish, served_name

DOCS = {
    "strategy-2020-fi": document(
        "strategy-2020-fi",
        title="Kansallinen julkisten hankintojen strategia 2020",
        url="https://julkaisut.valtioneuvosto.fi/handle/10024/162418",
        identifier="URN:NBN:fi-fe2020090768680",
    )
}


def lookup(doc_id: str) -> IndexedDocument:
    return DOCS.get(doc_id) or IndexedDocument.unknown(doc_id)


def test_csv_rows_carry_the_full_citation():
    hits = [
        hit(),
        hit(
            rank=2,
            doc_id="other",
            title="Muu",
            section=(),
            page_start=1,
            label_start="i",
            page_end=1,
            label_end="i",
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
    assert "(URN:NBN:fi-fe2020090768680)" in md
    assert ", 3.2 Innovaatiot, p. 7 \\[fi\\]" in md
    assert "<script>" not in md and "**bold**" not in md
    assert "\\[x\\](javascript" in md  # brackets escaped: no link
    assert "javascript" not in _rendered(md).split("<blockquote>")[0]
    assert 'href="javascript' not in _rendered(md)


MARKUP = (
    "Hankinnoilla edistetään innovaatioita (ks. 3.2). Kyllä! 1-2 % vuosittain, e.g. R&D. "
    "<script>alert(1)</script> <img src=x onerror=a()> [x](javascript:alert(2)) "
    "![i](https://127.0.0.1:8999/i.png) **bold** _it_ `code` $x$ ~~s~~ | a | &lt; &#60;"
)


def _rendered(md: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)


def test_markdown_keeps_ordinary_punctuation_and_forms_no_markup():
    """Pasted into any Markdown renderer, the text reads as written: no
    backslash before a full stop, hyphen, parenthesis or "!", and nothing
    from the document forms a tag, link, image, emphasis or code."""
    md = to_markdown("Mitä on 3.2?", [hit(text=MARKUP, title="2020. vuoden strategia")], lookup)
    for escaped in ("\\.", "\\-", "\\(", "\\)", "\\!"):
        assert escaped not in md, escaped
    assert "innovaatioita (ks. 3.2). Kyllä! 1-2 % vuosittain, e.g. R&D." in md
    html = _rendered(md)
    for formed in ("<script", "<img", "<strong", "<em", "<code", "<del", "<table", 'href="java'):
        assert formed not in html, formed
    assert html.count("<a href") == 1  # the title's link to the official address
    assert html.count("<li>") == 1 and "<ol>" in html  # "2020." opened no second list
    assert "&amp;lt;" in html  # an entity in the text stays the text "&lt;"
    quoted = html.split("<blockquote>")[1]
    assert "innovaatioita (ks. 3.2). Kyllä! 1-2 % vuosittain" in quoted


def test_markdown_line_starts_that_would_form_blocks_are_escaped():
    from search.export import md_text

    for text, safe in (
        ("# otsikko", "\\# otsikko"),
        ("- kohta", "\\- kohta"),
        ("2020. vuonna", "2020\\. vuonna"),
        ("12) kohta", "12\\) kohta"),
        ("3.2 Innovaatiot", "3.2 Innovaatiot"),
        ("-1 %", "-1 %"),
        ("#tunniste", "#tunniste"),
    ):
        assert md_text(text, line_start=True) == safe, text


@pytest.mark.parametrize(("ui", "page"), [("fi", "s. 7"), ("sv", "s. 7"), ("en", "p. 7")])
def test_exports_write_pages_in_the_page_language_and_rank_not_score(ui, page):
    hits = [hit(), hit(rank=2, chunk_id="strategy-2020-fi:0009", score=0.0164)]
    md = to_markdown("innovaatiot", hits, lookup, ui)
    assert f", 3.2 Innovaatiot, {page} " in md
    assert md.count(f"{page} ") == 2 and "0.0164" not in md and "0.91" not in md
    assert "\n2. " in md  # numbered by rank
    rows = list(csv.DictReader(io.StringIO(to_csv(hits, lookup, ui))))
    assert "score" not in rows[0] and [r["rank"] for r in rows] == ["1", "2"]
    assert "0.0164" not in to_csv(hits, lookup, ui)


WEB = {
    "sivu": document(
        "sivu",
        title="Teemaryhmä Innovaatiot",
        kind="web page",
        path="web/sivu.fi.md",
        url="https://www.hankinnat.fi/teemaryhmat/innovaatiot",
        retrieved="2024-05-01",
    )
}


def web_hit(**kw) -> Hit:
    base = dict(
        doc_id="sivu",
        chunk_id="sivu:0001",
        title="Teemaryhmä Innovaatiot",
        kind="web page",
        page_start=1,
        label_start="1",
        page_end=1,
        label_end="1",
        section=("Tavoitteet",),
    )
    base.update(kw)
    return hit(**base)


def test_web_pages_are_cited_by_address_and_retrieval_date_not_a_page():
    from search.cite import citation_text, cite

    c = cite(web_hit(), WEB["sivu"])
    assert c.web and c.pages == "" and c.pdf_page is None
    text = citation_text(c, "fi")
    assert text == (
        "Teemaryhmä Innovaatiot, Tavoitteet. "
        "https://www.hankinnat.fi/teemaryhmat/innovaatiot (viitattu 1.5.2024)"
    )
    assert "hämtad 2024-05-01" in citation_text(c, "sv")
    html = card_html(web_hit(), "fi", doc=WEB["sivu"])
    assert "s. 1" not in html and "Avaa sivulta" not in html
    assert "www&#46;hankinnat&#46;fi" in html and "viitattu 1&#46;5&#46;2024" in html
    md = to_markdown("q", [web_hit()], WEB.get, "fi")
    assert "s. 1" not in md and "viitattu 1.5.2024" in md
    assert "[Teemaryhmä Innovaatiot](<https://www.hankinnat.fi/teemaryhmat/innovaatiot>)" in md
    row = next(csv.DictReader(io.StringIO(to_csv([web_hit()], WEB.get))))
    assert row["page"] == "" and row["pdf_page"] == "" and row["retrieved"] == "2024-05-01"
    # a PDF keeps its page
    assert citation_text(
        cite(hit(), replace(DOCS["strategy-2020-fi"], path="official/s.pdf")), "fi"
    ) == (
        "Kansallinen julkisten hankintojen strategia 2020, 3.2 Innovaatiot, s. 7. "
        "https://julkaisut.valtioneuvosto.fi/handle/10024/162418 (URN:NBN:fi-fe2020090768680)"
    )


def test_pdfs_are_published_under_a_content_address(tmp_path):
    corpus, static = tmp_path / "corpus", tmp_path / "static"
    (corpus / "official").mkdir(parents=True)
    pdf = corpus / "official" / "s.pdf"
    pdf.write_bytes(b"%PDF-1.4 one")
    one = hashlib.sha256(b"%PDF-1.4 one").hexdigest()  # only the indexed bytes are served
    docs = {
        "s": document("s", path="official/s.pdf", sha256=one),
        "page": document("page", path="web/page.md", sha256="b" * 64),
        "gone": document("gone", path="official/gone.pdf", sha256="c" * 64),
    }
    links = publish(docs, corpus, static)
    assert links == {"s": f"app/static/docs/{served_name('s', one)}"}
    served = static / "docs" / served_name("s", one)
    assert served.read_bytes() == b"%PDF-1.4 one"
    assert page_link(links["s"], 12).endswith(".pdf#page=12")

    # the file changed and was re-indexed: a new address, the old copy removed
    pdf.write_bytes(b"%PDF-1.4 two")
    two = hashlib.sha256(b"%PDF-1.4 two").hexdigest()
    docs["s"] = replace(docs["s"], sha256=two)
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
