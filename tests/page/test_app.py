"""The Streamlit page through streamlit.testing.v1.AppTest."""

from __future__ import annotations

import re

import pytest

from ingest.pipeline import build_index
from search.modes import Highlighting
from testsupport.apptest import (
    SOURCES,
    english_in,
    query_param,
    run_page,
    widget_values,
    write_page_corpus,
)
from testsupport.hostile import (
    HOSTILE,
    HOSTILE_LANG,
    HOSTILE_TITLE,
    IMAGE_NAME,
    LINK_NAME,
    MATH_NAME,
    write_hostile_names,
)


@pytest.mark.slow  # builds the index with the real model from the page: second lane
def test_without_an_index_the_page_says_what_to_do_and_builds_one(settings):
    at = run_page()
    assert not at.exception
    assert "make run" in at.info[0].value
    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.info  # the rerun found the new index
    assert at.text_input[0].label == "Ask a question and press Enter"


def test_a_broken_index_shows_a_message_not_a_traceback(settings):
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "CURRENT").write_text("gen-missing\n")
    at = run_page()
    assert not at.exception
    assert "rebuild" in at.error[0].value
    assert at.button[0].label == "Build index"


@pytest.fixture
def built(settings, real_embedder):
    write_page_corpus(settings.corpus_dir)
    build_index(settings, embedder=real_embedder)


@pytest.mark.model
def test_search_from_the_url_renders_escaped_cited_results(built):
    at = run_page(q="Miten innovaatioita edistetään?", ui="fi")
    assert not at.exception
    cards = [m.value for m in at.html if m.value.startswith("<div id=") and "Hankinnat" in m.value]
    assert cards, [m.value for m in at.html]
    html = cards[0]
    # a web page (sources.toml) is cited by its address, not by "s. 1"
    assert "https&#58;&#47;&#47;example&#46;org&#47;sivu" in html and "s. 1" not in html
    assert "viitattu 1&#46;5&#46;2024" in html  # its retrieval date, from sources.toml
    for raw in ("<script", "<img", "](javascript", "**lihava**"):
        assert raw not in html, raw
    assert "&#60;script&#62;" in html
    assert query_param(at, "q") == "Miten innovaatioita edistetään?"


@pytest.mark.model
def test_typing_a_query_searches_and_bad_queries_get_a_message(built):
    at = run_page()
    at.text_input[0].input("innovaatiot").run()
    assert not at.exception
    assert any("Hankinnat" in m.value for m in at.html)
    at.text_input[0].input("x" * 2001).run()
    assert not at.exception, at.exception
    assert "limit is 2000" in " ".join(e.value for e in at.error), [
        type(x).__name__ for x in at.main
    ]


@pytest.mark.model
def test_group_by_language_searches_each_language(built, settings, real_embedder):
    """One hit in all: the ranked list holds one language only, yet grouped
    each language shows its own best hit (searched in that language)."""
    from search.searcher import Searcher

    searcher = Searcher.load(settings.index_dir, settings, real_embedder)
    ranked = searcher.search("innovaatiot hankinnat", k=1, highlight=Highlighting.NONE)
    assert len({h.lang for h in ranked}) == 1  # regrouping it would show one group
    at = run_page(q="innovaatiot hankinnat", group="1", k="1", ui="fi")
    assert not at.exception, at.exception
    headings = [h for h in widget_values(at, "subheader") if " &#40;" in h]  # not the sidebar's
    assert [h.split(" &#40;")[0] for h in headings] == [
        {"fi": "suomi", "sv": "ruotsi"}[lang]
        for lang in sorted(("fi", "sv"), key=lambda lang: lang != ranked[0].lang)
    ], headings
    cards = [m for m in widget_values(at, "html") if m.startswith("<div id=")]
    assert len(cards) == 2 and {c.count("<code>fi</code>") > 0 for c in cards} == {True, False}


def test_parallel_pdf_reading_still_works_after_the_page_ran(settings):
    """AppTest (like Streamlit) makes the page script __main__; reader
    processes must not re-import it (they crashed when they did)."""
    from dataclasses import replace

    from testsupport.fakes import FakeEmbedder
    from testsupport.pdfgen import make_pdf

    run_page()
    for name in ("a.pdf", "b.pdf"):
        make_pdf(settings.corpus_dir / name, [["1 Otsikko", "Tekstiä hankinnoista."]])
    report = build_index(replace(settings, workers=2), embedder=FakeEmbedder())
    assert [f.status for f in report.files] == ["indexed", "indexed"], report.files


def _open(at, control: str, settings, query: str):
    """Open the first Finnish hit's ``control`` ("panels" or "copy") as a
    click would (its state reruns the page); returns that hit."""
    from search import Searcher

    hit = Searcher.load(settings.index_dir, settings).search(
        query, languages=["fi"], highlight=Highlighting.NONE
    )[0]
    at.session_state[f"{control}:{hit.chunk_id}"] = True
    at.run()
    assert not at.exception, at.exception
    return hit


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_the_search_view_says_when_documents_are_not_in_the_index(built, settings, ui):
    from kb.labels import label

    at = run_page(q="innovaatiot", ui=ui)
    notes = [c.value for c in at.caption if c.value.startswith(label(ui, "not_in_index")[:20])]
    assert not notes  # every document is indexed
    listed = SOURCES + '\n[[document]]\nid = "puuttuu"\nfile = "puuttuu.pdf"\ntitle = "Strategia"\n'
    (settings.corpus_dir / "sources.toml").write_text(listed, encoding="utf-8")
    import streamlit as st

    st.cache_data.clear()
    at = run_page(q="innovaatiot", ui=ui)
    assert not at.exception
    expected = label(ui, "not_in_index").format(n=1)
    assert expected in [c.value for c in at.caption], [c.value for c in at.caption]


@pytest.mark.model
def test_clearing_the_question_clears_it_from_the_url(built):
    at = run_page(q="innovaatiot", ui="fi")
    assert query_param(at, "q") == "innovaatiot"
    at.text_input(key="q").input("").run()
    assert not at.exception
    assert "q" not in at.query_params
    assert not [m for m in widget_values(at, "html") if m.startswith("<div id=")]


@pytest.mark.model
def test_filters_grouping_and_the_url_state(built):
    at = run_page(q="innovaatiot", lang="sv", group="1", k="5", ui="sv")
    assert not at.exception
    assert at.multiselect(key="langs").value == ["sv"]
    assert at.toggle(key="group").value is True
    cards = [m for m in widget_values(at, "html") if m.startswith("<div ")]
    assert cards and all("<code>sv</code>" in c for c in cards if "><b>1. " in c)
    assert [h for h in widget_values(at, "subheader") if h.startswith("svenska &#40;sv&#41;")]
    # the state written back to the URL reproduces the search
    url = {k: query_param(at, k) for k in ("q", "lang", "group", "k", "mode", "ui")}
    assert url == {
        "q": "innovaatiot",
        "lang": "sv",
        "group": "1",
        "k": "5",
        "mode": "hybrid",
        "ui": "sv",
    }

    # a document filter narrows to that document
    at.multiselect(key="langs").set_value([]).run()
    at.multiselect(key="docs").set_value(["sivu-fi"]).run()
    assert not at.exception
    heads = [m for m in widget_values(at, "html") if "><b>1. " in m]
    assert heads and "Hankinnat" in heads[0]


@pytest.mark.model
def test_each_hit_offers_other_languages_similar_passages_and_export(built, settings):
    at = run_page(q="Miten innovaatioita edistetään?", lang="fi", ui="fi")
    assert not at.exception
    # one panel per card, filled only when opened (its state reruns the page)
    panels = [e for e in at.expander if e.label == "Asiayhteys, muut kielet, samankaltaiset kohdat"]
    assert panels and not panels[0].html and not at.tabs
    hit = _open(at, "panels", settings, "Miten innovaatioita edistetään?")
    tabs = {t.label: t for t in at.tabs}
    assert list(tabs) == [
        "Koko kohta ja sen naapurit",
        "Sama kohta muilla kielillä",
        "Samankaltaiset kohdat",
    ]
    assert tabs["Koko kohta ja sen naapurit"].html
    assert any("Upphandlingar" in m.value for m in tabs["Sama kohta muilla kielillä"].html)
    assert tabs["Samankaltaiset kohdat"].html
    # the citation in a field (the keyboard's way to copy it)
    field = at.text_input(key=f"cite:fi:{hit.chunk_id}")
    assert field.label.startswith("Lähdeviite") and field.value.startswith("Hankinnat")
    # the hit again beside its versions: not a second element with the card's id
    ids = re.findall(r'<div id="([^"]+)"', " ".join(widget_values(at, "html")))
    assert ids and len(ids) == len(set(ids))
    downloads = at.get("download_button")
    assert len(downloads) == 2


@pytest.mark.model
def test_documents_view_lists_documents_and_rebuilds(built, settings):
    at = run_page(view="docs")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Title"]) == {"Hankinnat", "Upphandlingar"}
    assert set(table["Language"]) == {"fi", "sv"}
    assert (table["Passages"] > 0).all()
    facts = " ".join(widget_values(at, "markdown"))
    assert "multilingual&#45;e5&#45;small" in facts and "2 documents, 2 pages, 2 passages" in facts
    generation = (settings.index_dir / "CURRENT").read_text().strip()
    (settings.corpus_dir / "uusi.fi.md").write_text("# Uusi\n\nUusi sivu hankinnoista.\n")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success and "Index ready" in at.success[0].value
    assert (settings.index_dir / "CURRENT").read_text().strip() != generation
    at.run()
    assert "Uusi" in set(at.dataframe[0].value["Title"])


# ------------------------------------------- untrusted names, titles, languages


def test_plain_text_forms_no_markdown_or_math():
    from webapp.cards import failure_message, group_heading, plain

    for raw in (LINK_NAME, IMAGE_NAME, MATH_NAME, "# heading", "1. item", "- item", ":red[x]"):
        text = re.sub(r"&#\d+;", "", plain(raw))  # what is left outside references
        assert not set(text) & set("[]()!$*_\\#-.:`<>|~&;"), text
    assert plain("a\n\n# b") == "a &#35; b"  # one line: no heading, no paragraph
    assert plain("[x](y)") == "&#91;x&#93;&#40;y&#41;"
    warning = failure_message(LINK_NAME, "empty file", "fi")
    assert warning.endswith(" (ohitettu): empty file") and "](" not in warning
    assert group_heading("sv", HOSTILE_LANG, 2).startswith("&#91;x&#93;&#40;https&#58;")
    assert group_heading("sv", "sv", 2) == "svenska &#40;sv&#41; · 2"


def _markdown_shown(at) -> list[str]:
    """Every text the page gave to an element that renders Markdown: bodies
    and labels."""
    bodies = [
        e.value
        for kind in ("warning", "error", "success", "info", "subheader", "caption", "markdown")
        for e in getattr(at, kind)
    ]
    labels = [e.label for kind in ("expander", "button", "multiselect") for e in getattr(at, kind)]
    return bodies + labels


def _assert_inert(texts: list[str]) -> None:
    for text in texts:
        assert "](" not in text and "$" not in text and "**" not in text, text


@pytest.fixture
def hostile_names(settings):
    write_hostile_names(settings.corpus_dir)
    return settings


@pytest.mark.model
def test_hostile_file_names_titles_and_languages_render_as_text(hostile_names):
    at = run_page(view="docs")
    at.button[0].click().run()  # build: three files fail
    assert not at.exception, at.exception
    warnings = widget_values(at, "warning")
    assert len(warnings) == 3, warnings
    assert any(w.startswith("&#91;Session expired&#44; log in again&#93;&#40;") for w in warnings)
    assert any(w.startswith("&#33;&#91;t&#93;") for w in warnings)
    assert any(w.startswith("&#36;&#92;huge&#123;BIG&#125;&#36; &#42;&#42;BOLD") for w in warnings)
    _assert_inert(_markdown_shown(at))

    at = run_page(view="docs")  # the documents: a table and a chart, both plain text
    assert not at.exception
    table = at.dataframe[0].value
    assert LINK_NAME in set(table["Title"]) and HOSTILE_TITLE in set(table["Title"])
    assert HOSTILE_LANG in set(table["Language"])
    _assert_inert(_markdown_shown(at))

    at = run_page(q="innovaatiot hankinnat", group="1", k="5")
    assert not at.exception, at.exception
    headings = widget_values(at, "subheader")
    assert any(h.startswith("&#91;x&#93;&#40;https&#58;127&#46;0&#46;0&#46;1") for h in headings)
    cards = [m for m in widget_values(at, "html") if m.startswith("<div ")]
    assert any("&#91;Log in&#93;" in c for c in cards), cards
    _assert_inert(_markdown_shown(at))
    # option labels are shown as text by Streamlit: they keep the raw title
    assert HOSTILE_TITLE in at.multiselect(key="docs").options


# ------------------------------------------- the page in its language


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv"])
def test_no_english_label_shows_on_the_finnish_or_swedish_page(built, ui):
    at = run_page(q="innovaatiot", ui=ui)
    assert not at.exception
    assert at.get("popover") and at.expander and at.get("download_button")
    assert english_in(at) == []
    at.text_input(key="q").input("x" * 2001).run()  # the 2,000-character message
    assert not at.exception and at.error
    assert english_in(at) == []
    assert "2001" in at.error[0].value and "2000" in at.error[0].value
    at.radio(key="view").set_value("docs").run()  # the documents view, a rebuild
    assert not at.exception and at.dataframe and at.get("vega_lite_chart")
    from kb.labels import label

    next(b for b in at.button if b.label == label(ui, "rebuild")).click().run()
    assert not at.exception and at.success
    assert english_in(at) == []
    # the check would catch the English page
    en = run_page(q="innovaatiot", ui="en")
    assert {word for word, _ in english_in(en)} >= {"Answer", "Copy citation", "Examples"}


@pytest.mark.model
def test_the_view_and_every_widget_keep_their_state_when_the_language_changes(built):
    at = run_page(q="innovaatiot", ui="fi", k="5", mode="bm25", group="1")
    at.radio(key="view").set_value("docs").run()
    at.selectbox(key="ui").set_value("sv").run()
    assert not at.exception
    assert at.radio(key="view").value == "docs"
    assert at.radio(key="view").label == "Vy"  # the new language at once
    assert at.selectbox(key="ui").label == "Sidans språk"
    assert at.dataframe and "Titel" in at.dataframe[0].value.columns
    at.radio(key="view").set_value("search").run()
    at.selectbox(key="ui").set_value("en").run()
    assert not at.exception
    assert at.text_input(key="q").value == "innovaatiot"
    assert at.slider(key="k").value == 5
    assert at.selectbox(key="mode").value == "bm25"
    assert at.toggle(key="group").value is True
    assert at.text_input(key="q").label == "Ask a question and press Enter"


@pytest.mark.model
def test_example_questions_are_buttons_that_search(built):
    from kb.labels import EXAMPLES

    at = run_page(ui="fi")
    buttons = [b for b in at.button if b.label in EXAMPLES]
    assert len(buttons) == len(EXAMPLES)
    buttons[0].click().run()
    assert not at.exception
    assert at.text_input(key="q").value == EXAMPLES[0]
    assert [m for m in widget_values(at, "html") if m.startswith("<div id=")]


@pytest.mark.model
def test_the_answer_comes_first_and_each_card_copies_its_citation(built, settings):
    at = run_page(q="Miten hankintayksiköt edistävät innovaatioita?", ui="fi", lang="fi")
    assert not at.exception
    bodies = [m for m in widget_values(at, "html") if not m.startswith("<style")]
    box = bodies[0]
    assert box.startswith('<div role="region" aria-label="Vastaus asiakirjoista"')
    assert "Hankintayksiköt edistävät innovaatioita" in box  # word for word
    assert 'href="#kb-hit-1"' in box and "example&#46;org" in box  # cited, linked
    assert any(m.startswith('<div id="kb-hit-1"') for m in bodies)  # the card it links to
    popover = at.get("popover")[0]
    assert popover.proto.popover.label == "Kopioi lähdeviite"
    assert not at.get("code")  # written when opened: ten closed popovers are cheap to draw
    _open(at, "copy", settings, "Miten hankintayksiköt edistävät innovaatioita?")
    assert at.get("code")[0].value == (
        "Hankinnat, Hankinnat. https://example.org/sivu (viitattu 1.5.2024)"
    )


@pytest.mark.model
def test_no_relevant_passage_says_so_instead_of_an_answer(built):
    at = run_page(q="🙂🙂🙂", ui="sv")
    assert not at.exception
    assert at.warning[0].value.startswith("Dokumenten har inget avsnitt som besvarar frågan.")
    assert not [m for m in widget_values(at, "html") if m.startswith('<div role="region"')]


@pytest.mark.model
def test_an_open_panel_stays_open_when_the_language_changes(built, settings):
    at = run_page(q="innovaatiot", lang="fi", ui="fi")
    _open(at, "panels", settings, "innovaatiot")
    panel = next(e for e in at.expander if e.label.startswith("Asiayhteys"))
    assert panel.html
    at.selectbox(key="ui").set_value("sv").run()
    assert not at.exception
    panel = next(e for e in at.expander if e.label.startswith("Sammanhang"))
    assert panel.html and "Liknande avsnitt" in [t.label for t in panel.tabs]  # still open


@pytest.mark.model
def test_an_index_without_stored_sentence_vectors_still_answers(built, settings):
    """An index written before sentence vectors were stored: the page
    embeds the best sentences after the cards, and the answer comes first."""
    from kb.index.folder import load_generation, write_generation

    gen = load_generation(settings.index_dir)
    manifest = {k: v for k, v in gen.manifest.items() if k != "checksums"}
    write_generation(
        settings.index_dir, gen.vectors(list(range(gen.index.ntotal))), gen.chunks, manifest
    )
    assert load_generation(settings.index_dir).sentences is None
    at = run_page(q="Miten hankintayksiköt edistävät innovaatioita?", ui="fi", lang="fi")
    assert not at.exception
    bodies = [m for m in widget_values(at, "html") if not m.startswith("<style")]
    assert bodies[0].startswith('<div role="region" aria-label="Vastaus asiakirjoista"')
    assert "Hankintayksiköt edistävät innovaatioita" in bodies[0]
    assert any(m.startswith('<div id="kb-hit-1"') for m in bodies)
