"""ingest/fetching/pagelinks.py: the one parser of a fetched page's links
and citation_pdf_url tags (discovery, dspace and download read it; an item
page's files are tested in tests/test_dspace.py)."""

from __future__ import annotations

from ingest.fetching.download import citation_pdf_url
from ingest.fetching.pagelinks import PageLink, read_links

PAGE = """<html><head>
<meta name="citation_pdf_url" content=" /bitstream/1/a.pdf ">
<meta name="CITATION_PDF_URL" content="">
<meta name="citation_pdf_url" content="b.pdf">
</head><body>
<p>See <a href=" /x/strategia.pdf " hreflang="FI">Kansallinen
   <b>hankinta</b>strategia</a> and <a name="anchor">no address</a>.</p>
<a href="/handle/10024/1">Item &amp; more</a>
</body></html>"""


def test_links_in_page_order_with_their_text_and_language():
    assert read_links(PAGE).links == [
        PageLink("/x/strategia.pdf", "fi", "Kansallinen hankintastrategia"),
        PageLink("/handle/10024/1", "", "Item & more"),
    ]


def test_citations_in_order_empty_ones_skipped():
    assert read_links(PAGE).citations == ["/bitstream/1/a.pdf", "b.pdf"]
    assert citation_pdf_url(PAGE, "https://example.org/handle/1") == (
        "https://example.org/bitstream/1/a.pdf"
    )


def test_what_was_read_before_markup_the_parser_gives_up_on_is_kept():
    page = '<a href="a.pdf">A</a><![x[ <a href="b.pdf">B</a>'
    assert [link.href for link in read_links(page).links] == ["a.pdf"]
