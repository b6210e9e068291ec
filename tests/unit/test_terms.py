"""search/terms.py: a query's terms (stems in every language), its content
terms, and where query terms occur in a passage."""

from __future__ import annotations

from kb.text.lexical import stem
from search.terms import content_terms, function_words, query_terms, term_spans


def test_query_terms_hold_each_word_and_its_stem_in_every_language():
    terms = query_terms("Upphandlingarna")
    assert terms[0] == "upphandlingarna"
    for lang in ("fi", "sv", "en"):
        assert stem("upphandlingarna", lang) in terms
    assert "upphandling" in terms  # the Swedish stem
    assert len(terms) == len(set(terms))


def test_query_terms_in_only_the_languages_asked():
    assert query_terms("hankinnoista", ["fi"]) == ["hankinnoista", stem("hankinnoista", "fi")]
    assert stem("hankinnoista", "fi") != "hankinnoista"
    assert query_terms("hankinnoista", []) == ["hankinnoista"]


def test_a_word_the_index_analysed_as_finnish_asks_for_its_terms_too():
    # the index's analyses (kb/text/morphology.py): base form and parts
    analyses = {"poissulkemisperusteet": ("poissulkemisperust", "pois", "sulkemis", "perust")}
    terms = query_terms("Poissulkemisperusteet?", ["fi", "sv"], analyses)
    assert terms[:2] == ["poissulkemisperusteet", stem("poissulkemisperusteet", "fi")]
    assert {stem("poissulkemisperusteet", "sv"), "pois", "sulkemis", "perust"} <= set(terms)
    # not where Finnish is not asked, and no other word gains terms
    assert "perust" not in query_terms("poissulkemisperusteet", ["sv"], analyses)
    assert query_terms("kynnysarvon", ["fi"], analyses) == [
        "kynnysarvon",
        stem("kynnysarvon", "fi"),
    ]


def test_a_compound_is_marked_where_the_query_asks_for_one_of_its_parts():
    analyses = {"poissulkemisperusteet": ("poissulkemisperust", "pois", "sulkemis", "perust")}
    text = "Poissulkemisperusteet ovat selvät."
    assert term_spans(text, "fi", {"perust"}, analyses) == [(0, 21)]
    assert term_spans(text, "fi", {"perust"}) == []  # without the analyses: stems only
    assert term_spans(text, "sv", {"perust"}, analyses) == []  # Finnish passages only


def test_query_terms_keep_word_order_and_no_repeats():
    terms = query_terms("euro EURO 60", [])
    assert terms == ["euro", "60"]
    assert query_terms("", ["fi"]) == [] and query_terms("?! —", ["fi"]) == []


def test_content_terms_leave_out_question_words_and_short_words():
    terms = content_terms("Mitkä ovat kynnysarvot EU:ssa?")
    assert "mitkä" not in terms and "ovat" not in terms and "eu" not in terms
    assert "kynnysarvot" in terms and stem("kynnysarvot", "fi") in terms
    assert content_terms("is it the") == set()
    assert content_terms("och är det") == set()
    assert {"the", "och", "mikä", "onko"} <= function_words()


def test_term_spans_mark_words_by_stem_in_the_passage_language():
    text = "Upphandlingen kostar 60 000 euro."
    spans = term_spans(text, "sv", {stem("upphandlingar", "sv"), "euro"})
    assert stem("upphandlingar", "sv") == stem("upphandlingen", "sv") != "upphandlingen"
    assert [text[s:e] for s, e in spans] == ["Upphandlingen", "euro"]
    assert term_spans(text, "sv", {"zebra"}) == []
