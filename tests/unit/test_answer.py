"""The answer box, one best sentence per card, marks only where words
discriminate, the card's heading on its own line: no model, no index."""

from __future__ import annotations

from search.answer import answer
from search.highlight import heading_end, highlight
from search.hits import Highlight, Results
from testsupport.fakes import FakeEmbedder
from testsupport.records import hit
from webapp.cards import anchor, answer_html, card_html

TEXT = (
    "38 § Innovaatiokumppanuus\n"
    "Innovaatiokumppanuuden tavoitteena on innovatiivisen tavaran kehittäminen. "
    "Hankintayksikkö voi käyttää innovaatiokumppanuutta, jos tarve ei täyty. "
    "Hankintayksikkö voi valita kumppanit. "
    "Innovaatiokumppanuus on jaettava vaiheisiin."
)


def marked(h, kind: str) -> list[str]:
    return [h.text[x.start : x.end] for x in h.highlights if x.kind == kind]


def common(words: set[str]):
    """A share function: the stems of ``words`` are in 90 % of passages."""
    from kb.text.lexical import stem

    stems = {stem(w, "fi") for w in words}
    return lambda term, lang: 0.9 if term in stems else 0.01


def test_one_best_sentence_per_card_even_when_sentences_tie():
    # "hankintayksikkö" and "voi" are in two sentences each: a tie before
    h = highlight(FakeEmbedder(), "Hankintayksikkö voi", [hit(text=TEXT, section=())])[0]
    assert len(marked(h, "sentence")) == 1


def test_common_and_question_words_are_not_bold_but_rare_ones_are():
    query = "Mitä hankintayksikkö voi tehdä innovaatiokumppanuutta varten?"
    h = highlight(
        FakeEmbedder(),
        query,
        [hit(text=TEXT, section=("38 § Innovaatiokumppanuus",))],
        share=common({"hankintayksikkö"}),
    )[0]
    bold = {w.lower() for w in marked(h, "term")}
    assert "hankintayksikkö" not in bold and "voi" not in bold and "mitä" not in bold
    assert "innovaatiokumppanuutta" in bold
    # the rare word chooses the sentence, not the common one
    assert marked(h, "sentence") == [
        "Hankintayksikkö voi käyttää innovaatiokumppanuutta, jos tarve ei täyty."
    ]


def test_the_heading_that_opens_a_passage_is_not_part_of_its_first_sentence():
    section = ("5 luku Menettelyt", "38 § Innovaatiokumppanuus")
    text = "5 luku Menettelyt\n38 § Innovaatiokumppanuus Innovaatiokumppanuuden tavoite on x."
    assert text[heading_end(text, section) :].startswith("Innovaatiokumppanuuden tavoite")
    assert heading_end("Muuta tekstiä.", section) == 0
    h = highlight(FakeEmbedder(), "tavoite", [hit(text=text + " Toinen lause.", section=section)])
    assert marked(h[0], "sentence") == ["Innovaatiokumppanuuden tavoite on x."]


def sentence_hit(rank: int, sentence: str, **kw):
    text = f"Alku tässä. {sentence} Loppu tässä."
    start = text.index(sentence)
    marks = (Highlight(start, start + len(sentence), "sentence"),)
    base = dict(rank=rank, chunk_id=f"d:{rank}", text=text, highlights=marks)
    base.update(kw)
    return hit(**base)


def test_the_answer_quotes_best_sentences_of_distinct_sections_in_rank_order():
    hits = [
        sentence_hit(1, "Ensimmäinen vastaus.", section=("39 § Kulku",)),
        sentence_hit(2, "Toinen vastaus.", section=("38 § Innovaatiokumppanuus",)),
        # the same § in the other language version: not quoted again
        sentence_hit(
            3, "Andra svaret.", section=("38 § Innovationspartnerskap",), doc_id="sv", lang="sv"
        ),
        sentence_hit(4, "Toinen vastaus.", section=("40 § Muu",)),  # the same sentence
        hit(rank=5, chunk_id="d:5", section=("41 §",)),  # no best sentence
        sentence_hit(6, "Kolmas vastaus.", section=("42 § Kolmas",)),
        sentence_hit(7, "Neljäs vastaus.", section=("43 § Neljäs",)),
    ]
    quoted = answer(Results(hits))
    # rank 6 is past the answer's depth (the top five hits)
    assert [(s.text, s.hit.rank) for s in quoted] == [
        ("Ensimmäinen vastaus.", 1),
        ("Toinen vastaus.", 2),
    ]
    assert len(answer(Results(hits[:2] + hits[5:]))) == 3  # at most three
    assert answer(Results(hits, no_relevant_passage=True)) == []


def test_the_answer_box_cites_each_sentence_and_links_to_its_card():
    hits = [
        sentence_hit(1, "Hankinnoilla <b>edistetään</b> innovaatioita.", section=("3.2 Tavoite",)),
        sentence_hit(2, "Toinen [x](javascript:a) lause.", section=("4 Muu",)),
    ]
    html = answer_html(answer(Results(hits)), "fi", {})
    assert 'href="#kb-hit-1"' in html and 'href="#kb-hit-2"' in html
    assert "Vastaus asiakirjoista" in html and "<ol" in html
    assert "3&#46;2 Tavoite&#44; s&#46; 7" in html  # title, section, page in Finnish
    assert "<b>edistetään" not in html and "](javascript" not in html
    card = card_html(hits[0], "fi")
    assert f'id="{anchor(hits[0])}"' in card


def test_a_card_shows_its_heading_on_its_own_line_not_run_into_the_text():
    text = "38 § Innovaatiokumppanuus Innovaatiokumppanuuden tavoitteena on kehittäminen."
    card = card_html(hit(text=text, section=("5 luku", "38 § Innovaatiokumppanuus")), "fi")
    head, body = card.split("<br>", 2)[1:]
    assert head.startswith("<span") and "38 § Innovaatiokumppanuus</span>" in head
    assert body.startswith("Innovaatiokumppanuuden tavoitteena")
    # a passage cut mid-sentence says so
    cut = card_html(hit(text="kulkuun sovelletaan lakia. Toinen lause.", section=()), "fi")
    assert "<br>… kulkuun sovelletaan" in cut
    assert card_html(hit(text="Alku. Toinen lause joka jatkuu", section=()), "fi").endswith(
        "jatkuu …</div>"
    )


def test_a_marked_sentence_is_one_mark_element_with_its_bold_words_inside():
    from webapp.cards import mark_html

    text = "Alku. Innovaatio on hyvä asia. Loppu."
    marks = (Highlight(6, 30, "sentence"), Highlight(6, 16, "term"), Highlight(0, 4, "term"))
    html = mark_html(text, marks)
    assert html.count("<mark>") == 1
    assert "<mark><b>Innovaatio</b> on hyvä asia&#46;</mark>" in html


def test_the_documents_table_speaks_the_page_language():
    from ingest.status import DocStatus
    from webapp.cards import counts_line, documents_table_row

    missing = DocStatus("a.pdf", "a", "A", "fi", "web page", 0, 0, "missing", "not here", "")
    row = documents_table_row(missing, "sv")
    assert row["kind"] == "webbsida" and row["status"] == "saknas"
    assert documents_table_row(missing, "fi")["kind"] == "verkkosivu"
    counts = {"documents": 3, "pages": 176, "chunks": 658, "failed": 0}
    assert counts_line(counts, "fi") == "3 asiakirjaa, 176 sivua, 658 kohtaa, 0 epäonnistui"


def test_a_full_stop_after_an_abbreviation_ends_no_sentence():
    from kb.text.sentences import sentence_spans

    def split(text: str) -> list[str]:
        return [text[a:b] for a, b in sentence_spans(text)]

    assert split("Se 81 § 1 mom. 5 punkten. Nästa.") == ["Se 81 § 1 mom. 5 punkten.", "Nästa."]
    assert split("Ring tel. 044 123 4567. Sedan.") == ["Ring tel. 044 123 4567.", "Sedan."]
    assert split("Möte 14.9 kl. 13 i Vasa. Välkommen.") == [
        "Möte 14.9 kl. 13 i Vasa.",
        "Välkommen.",
    ]
    assert split("Esim. Helsinki ja Turku. Loppu.") == ["Esim. Helsinki ja Turku.", "Loppu."]
    # an abbreviation that may end a sentence still does before a capital
    assert split("Enligt 2 mom. Den upphandlande enheten.") == [
        "Enligt 2 mom.",
        "Den upphandlande enheten.",
    ]
    assert split("Hankinta tehdään. Se alkaa.") == ["Hankinta tehdään.", "Se alkaa."]
    # across a PDF's line wrap too, but not before a list item or after a blank line
    assert split("i 1 mom.\n3, 5 och 6 punkten. Nästa.") == [
        "i 1 mom.\n3, 5 och 6 punkten.",
        "Nästa.",
    ]
    assert split("i 3 mom.\n1) bortledande") == ["i 3 mom.", "1) bortledande"]
    assert split("enligt 2 mom.\n\n5 Rubrik") == ["enligt 2 mom.", "5 Rubrik"]
    # "jne." (etc.) often ends a sentence; "t.o.m." (until) never does
    assert split("Palveluja jne. Hankintayksikön on.") == ["Palveluja jne.", "Hankintayksikön on."]
    assert split("Avtalet gäller t.o.m. 31 december 2021. Sedan.") == [
        "Avtalet gäller t.o.m. 31 december 2021.",
        "Sedan.",
    ]


def _best(text: str, sentence: str, section=()):
    from dataclasses import replace

    from search.answer import best_sentence

    start = text.index(sentence)
    marks = [Highlight(start, start + len(sentence), "sentence")]
    return best_sentence(replace(hit(text=text, section=section), highlights=marks))


def test_a_sentence_that_leads_into_a_list_brings_its_items():
    text = (
        "Den upphandlande enheten får göra direktupphandling, om\n"
        "1) inga anbud har lämnats;\n"
        "2) det bara finns en leverantör.\n"
        "Efter listan en mening."
    )
    quoted = _best(text, "Den upphandlande enheten får göra direktupphandling, om")
    assert " ".join(quoted.split()) == (
        "Den upphandlande enheten får göra direktupphandling, om "
        "1) inga anbud har lämnats; 2) det bara finns en leverantör."
    )
    colon = "Kynnysarvot ovat:\n1) 60 000 euroa tavaroille\n2) 150 000 euroa"
    assert _best(colon, "Kynnysarvot ovat:").endswith("2) 150 000 euroa …")  # cut by the passage
    # a sentence that ends with a full stop stays alone
    assert _best(text, "Efter listan en mening.") == "Efter listan en mening."


def test_a_quote_cut_by_the_passage_says_so():
    text = "joka tarjoaa palveluja. Toinen lause, joka jatkuu seuraavaan kohtaan"
    assert _best(text, "joka tarjoaa palveluja.") == "… joka tarjoaa palveluja."
    assert _best(text, "Toinen lause, joka jatkuu seuraavaan kohtaan") == (
        "Toinen lause, joka jatkuu seuraavaan kohtaan …"
    )


def test_a_quote_that_ends_on_a_comma_or_semicolon_or_a_cut_list_says_so():
    # the passage ends after a list item or a clause: more follows in the next one
    items = (
        "Kansalliset kynnysarvot ovat:\n1) 60 000 euroa tavaroille;\n2) 150 000 euroa urakoille;"
    )
    assert _best(items, "Kansalliset kynnysarvot ovat:").endswith("urakoille; …")
    clause = "Sen lisäksi, mitä I osassa säädetään, sovelletaan tätä lukua,"
    assert _best(clause, clause) == clause + " …"
    # a list longer than the quote's limit is cut after a whole item, and says so
    long_list = (
        "Direktupphandling får användas, om\n"
        + "".join(
            f"{n}) ett villkor som är ganska långt och fyller ut texten nummer {n};\n"
            for n in range(1, 12)
        )
        + "Slut."
    )
    quoted = _best(long_list, "Direktupphandling får användas, om")
    assert quoted.endswith("; …") and "11)" not in quoted
    # a list that fits, ending on its last item's full stop, gets no mark
    short = "Villkoren är:\n1) det första;\n2) det sista.\nEfter listan."
    assert _best(short, "Villkoren är:").endswith("det sista.")


def test_a_list_item_is_quoted_after_its_lead_in():
    text = (
        "Hankintayksikön on suljettava tarjouskilpailusta ehdokas, jos se on tuomittu\n"
        "1) osallistumisesta rikollisjärjestön toimintaan;\n"
        "2) lahjonnasta;\n"
        "3) petoksesta.\n"
        "Muu virke."
    )
    lead = "Hankintayksikön on suljettava tarjouskilpailusta ehdokas, jos se on tuomittu"
    # the first item follows its lead-in at once; more items follow it
    assert " ".join(_best(text, "1) osallistumisesta rikollisjärjestön toimintaan;").split()) == (
        f"{lead} 1) osallistumisesta rikollisjärjestön toimintaan; …"
    )
    # a later item: the items between are left out, and it says so
    assert " ".join(_best(text, "3) petoksesta.").split()) == f"{lead} … 3) petoksesta."


def test_an_item_whose_lead_in_is_in_a_passage_before_is_quoted_after_it():
    from dataclasses import replace

    from search.answer import best_sentence

    section = ("80 § Pakolliset poissulkemisperusteet",)
    before = hit(
        text="Ehdokas on suljettava pois, jos se on tuomittu\n1) lahjonnasta;",
        section=section,
        row=6,
    ).chunk
    text = "1) lahjonnasta;\n2) petoksesta;\n3) rahanpesusta."
    start = text.index("2)")
    best = replace(
        hit(text=text, section=section),
        highlights=(Highlight(start, start + len("2) petoksesta;"), "sentence"),),
    )
    assert best_sentence(best, lambda h: [before]) == (
        "Ehdokas on suljettava pois, jos se on tuomittu … 2) petoksesta; …"
    )
    # a long list: the passage just before holds only items, and a piece of
    # one that it opens with in mid-sentence; the lead-in is one further back
    middle = replace(before, text="lahjonnasta, ja\n1) lahjonnasta;")
    assert best_sentence(best, lambda h: [middle, before]).startswith("Ehdokas on")
    # not at hand (no lookup, or the passage before is another section): no quote
    assert best_sentence(best) == ""
    other = replace(before, section=("79 § Muu pykälä",))
    assert best_sentence(best, lambda h: [other, before]) == ""
    # the answer box then quotes the next hit's sentence instead
    second = hit(
        chunk_id="strategy-2020-fi:0009",
        text="Toinen lause.",
        row=9,
        highlights=(Highlight(0, 13, "sentence"),),
    )
    got = answer(Results([best, second]))
    assert [s.text for s in got] == ["Toinen lause."]


def test_a_full_sentence_inside_an_earlier_item_is_not_the_lead_in():
    text = (
        "Ehdokas on suljettava, jos se on tuomittu\n"
        "1) lahjonnasta. Tämä koskee myös yrityksiä.\n"
        "2) petoksesta;\n"
        "3) rahanpesusta."
    )
    assert _best(text, "2) petoksesta;") == (
        "Ehdokas on suljettava, jos se on tuomittu … 2) petoksesta; …"
    )


def test_a_long_lead_in_is_cut_so_the_item_stays_in_the_quote():
    from search.answer import MAX_CHARS, answer

    lead = "Hankintayksikkö voi " + "käyttää hyvin pitkää johdantoa " * 15 + "jos"
    text = f"{lead}\n1) tarjouksia ei ole saatu."
    quoted = _best(text, "1) tarjouksia ei ole saatu.")
    assert quoted.startswith("Hankintayksikkö voi käyttää")
    assert quoted.endswith("… 1) tarjouksia ei ole saatu.")  # cut where it was cut, not between
    assert len(quoted) <= MAX_CHARS
    start = text.index("1)")
    best = hit(text=text, highlights=(Highlight(start, len(text), "sentence"),))
    assert answer(Results([best]))[0].text == quoted  # the box shows it whole
