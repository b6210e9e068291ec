"""Search core with the fake embedder: modes, filters, fusion, alignment,
near-duplicates, highlights, CLI, evaluation arithmetic."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from evaluation.evaluate import heading_evaluations, load_qrels, score
from ingest.pipeline import build_index
from search import QueryError, Searcher, StaleHitError, sentence_spans
from search import __main__ as search_cli
from search.cite import citation_text, cite
from search.modes import Highlighting
from search.searcher import heading_key, query_language
from testsupport.fakes import FakeEmbedder
from testsupport.pdfgen import make_pdf

SOURCES = """
[[document]]
id = "strategy-fi"
file = "strategia.fi.pdf"
title = "Hankintastrategia"
lang = "fi"
kind = "strategy"
group = "strategy"

[[document]]
id = "strategy-sv"
file = "strategi.sv.pdf"
title = "Upphandlingsstrategi"
lang = "sv"
kind = "strategy"
group = "strategy"

[[document]]
id = "notes-en"
file = "notes.md"
lang = "en"
kind = "web page"
"""


@pytest.fixture
def searcher(settings) -> Searcher:
    c = settings.corpus_dir
    make_pdf(
        c / "strategia.fi.pdf",
        [
            [
                "1 Innovaatiot",
                "Innovatiiviset hankinnat kasvavat kymmeneen prosenttiin.",
                "Kokeilut ovat tervetulleita.",
            ],
            ["2 Ympäristö", "Hankinnoilla vähennetään hiilijalanjälkeä."],
            ["3 Seuranta", "Mittarit kertovat strategian vaikuttavuudesta."],
        ],
    )
    make_pdf(
        c / "strategi.sv.pdf",
        [
            [
                "1 Innovationer",
                "Innovativa upphandlingar ökar till tio procent.",
                "Försök är välkomna.",
            ],
            ["2 Miljö", "Upphandlingarna minskar klimatavtrycket."],
            ["3 Uppföljning", "Indikatorer visar strategins verkningsfullhet."],
        ],
    )
    (c / "notes.md").write_text(
        "# Notes\n\nThe carbon footprint of procurement is measured yearly.\n\n"
        "## Copy\n\nThe carbon footprint of procurement is measured yearly.\n",
        encoding="utf-8",
    )
    (c / "sources.toml").write_text(SOURCES, encoding="utf-8")
    fake = FakeEmbedder()
    build_index(settings, embedder=fake)
    return Searcher.load(settings.index_dir, settings, embedder=fake)


def test_bm25_mode_finds_stemmed_swedish_words(searcher):
    hits = searcher.search("upphandlingen klimatavtryck", k=3, mode="bm25")
    assert hits[0].doc_id == "strategy-sv" and hits[0].section == ("2 Miljö",)
    assert hits[0].bm25_rank == 1 and hits[0].dense_rank is None


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_returns_ranked_cited_hits(searcher, mode):
    hits = searcher.search("Innovatiiviset hankinnat", k=3, mode=mode)
    assert hits and [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(h.title and h.page_start >= 1 and h.label_start for h in hits)
    cited = citation_text(cite(hits[0], searcher.document(hits[0].doc_id)), "en")
    assert hits[0].doc_id == "strategy-fi" and cited.startswith("Hankintastrategia, ")
    assert ", p. 1" in cited


def test_filters_restrict_results(searcher):
    assert {h.lang for h in searcher.search("procurement", k=10, languages=["sv"])} == {"sv"}
    assert {h.doc_id for h in searcher.search("procurement", k=10, docs=["notes-en"])} == {
        "notes-en"
    }
    assert {h.kind for h in searcher.search("procurement", k=10, kinds=["strategy"])} == {
        "strategy"
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": ""}, "empty"),
        ({"query": " \n\t "}, "empty"),
        ({"query": "x" * 2001}, "limit is 2000"),
        ({"query": "a", "mode": "fuzzy"}, "unknown search mode"),
        ({"query": "a", "languages": ["de"]}, "unknown language de"),
        ({"query": "a", "docs": ["nope"]}, "unknown document nope"),
        ({"query": "a", "kinds": ["memo"]}, "unknown kind memo"),
        ({"query": "a", "k": 0}, "k must"),
    ],
)
def test_bad_queries_get_clear_messages(searcher, kwargs, message):
    with pytest.raises(QueryError, match=message):
        searcher.search(**kwargs)


def test_any_unicode_is_searchable(searcher):
    for q in ["💶 ∑ 調達", "\u0000x", "Ω" * 2000, "hankinta\u00ad"]:
        searcher.search(q, k=2)


def test_identical_passages_collapse_into_one(searcher, settings):
    notes = settings.corpus_dir / "notes.md"
    (settings.corpus_dir / "notes-copy.md").write_bytes(notes.read_bytes())
    build_index(settings, embedder=searcher.embedder)
    searcher.reload_if_changed()
    hits = searcher.search("Notes carbon footprint measured yearly", k=10, mode="bm25")
    assert len([h for h in hits if h.text.startswith("Notes")]) == 1


def test_aligned_passage_is_the_same_numbered_section(searcher):
    hit = searcher.search("Mittarit vaikuttavuudesta", k=1, languages=["fi"])[0]
    assert hit.section == ("3 Seuranta",)
    aligned = searcher.aligned(hit)
    assert [(a.doc_id, a.section) for a in aligned] == [("strategy-sv", ("3 Uppföljning",))]
    assert -1.0 <= aligned[0].score <= 1.0
    notes = searcher.search("carbon footprint", k=1, docs=["notes-en"])[0]
    assert searcher.aligned(notes) == []  # no group: no language versions
    with pytest.raises(QueryError, match="unknown passage"):
        searcher.aligned("nope#1")


def test_cross_language_search_goes_through_the_query_language(searcher):
    # Finnish query, Swedish results only: the Finnish hit's aligned passage leads
    hits = searcher.search("Mittarit kertovat strategian vaikuttavuudesta", k=2, languages=["sv"])
    assert hits[0].section == ("3 Uppföljning",)


def test_similar_excludes_the_passage_itself(searcher):
    hit = searcher.search("Innovatiiviset hankinnat", k=1)[0]
    similar = searcher.similar(hit, k=3)
    assert similar and hit.chunk_id not in {s.chunk_id for s in similar}


def test_highlights_mark_query_terms_and_a_sentence(searcher):
    hit = searcher.search("upphandlingar klimatavtrycket", k=1, languages=["sv"])[0]
    terms = [hit.text[h.start : h.end] for h in hit.highlights if h.kind == "term"]
    assert "Upphandlingarna" in terms and "klimatavtrycket" in terms  # stem-aware
    for h in hit.highlights:
        assert 0 <= h.start < h.end <= len(hit.text)
    plain = searcher.search("upphandlingar klimatavtrycket", k=1, highlight=Highlighting.NONE)[0]
    assert plain.highlights == ()


def test_reload_picks_up_a_new_generation(searcher, settings):
    before = searcher.generation.name
    assert not searcher.reload_if_changed()
    (settings.corpus_dir / "extra.md").write_text("# Extra\n\nDynamic purchasing systems.\n")
    build_index(settings, embedder=searcher.embedder)
    assert searcher.reload_if_changed()
    assert searcher.generation.name != before
    assert searcher.search("Dynamic purchasing", k=1, mode="bm25")[0].doc_id == "extra"


def test_a_hit_of_a_replaced_generation_says_search_again(searcher, settings):
    """A panel asked for a hit that a rebuild changed in between: a typed
    error that says what to do, never another passage; an unchanged
    passage still resolves in the new generation."""
    kept = searcher.search("Mittarit vaikuttavuudesta", k=1, languages=["fi"])[0]
    (settings.corpus_dir / "extra.md").write_text("# Extra\n\nDynamic purchasing systems.\n")
    build_index(settings, embedder=searcher.embedder)
    assert searcher.reload_if_changed()
    gone = searcher.search("Dynamic purchasing", k=1, mode="bm25")[0]
    (settings.corpus_dir / "extra.md").write_text("# Extra\n\nFramework agreements instead.\n")
    build_index(settings, embedder=searcher.embedder)
    assert searcher.reload_if_changed()
    with pytest.raises(StaleHitError, match="search again"):
        searcher.neighbours(gone)
    with pytest.raises(StaleHitError):
        searcher.aligned(gone)
    assert searcher.passages_before(gone) == []  # the answer box quotes no item then
    assert searcher.aligned(kept)  # the strategy did not change: still its versions


def test_heading_keys_are_language_independent():
    assert (
        heading_key(("5 luku X", "38 § Innovaatiokumppanuus"))
        == heading_key(("5 kap. Y", "38 § Innovationspartnerskap"))
        == "38§"
    )
    assert heading_key(("5 luku Hankintamenettelyt",)) == heading_key(("5 kap. Förfaranden",))
    assert heading_key(("3.2 Tavoitteet",)) == "3.2" and heading_key(("Johdanto",)) is None
    assert heading_key(("12 a § Lisä",)) == "12a§"


def test_query_language():
    assert query_language("Mitkä ovat kansalliset kynnysarvot?") == "fi"
    assert query_language("Vad är ett dynamiskt inköpssystem?") == "sv"
    assert query_language("What is the competitive dialogue?") == "en"
    assert query_language("EU") is None


def test_sentence_spans():
    # a plain line break is a PDF wrap, not a sentence end
    text = "Ensimmäinen lause,\njoka jatkuu. Toinen lause!\n1) kohta\n\nViimeinen"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Ensimmäinen lause,\njoka jatkuu.",
        "Toinen lause!",
        "1) kohta",
        "Viimeinen",
    ]


def test_cli_queries_file_writes_one_line_per_query(
    searcher, settings, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(Searcher, "load", classmethod(lambda cls, *a, **k: searcher))
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"query": "Innovatiiviset hankinnat"}\nklimatavtrycket\n\n')
    assert search_cli.main(["--queries-file", str(qfile), "-k", "2", "--mode", "bm25"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["query"] for x in lines] == ["Innovatiiviset hankinnat", "klimatavtrycket"]
    assert all(len(x["hits"]) <= 2 and x["hits"][0]["citation"] for x in lines)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": 1}\n{"query": "klimatavtrycket"}\n')
    assert search_cli.main(["--queries-file", str(bad), "--mode", "bm25"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "bad.jsonl:1" in lines[0]["error"] and lines[1]["hits"]  # the batch went on


def test_queries_files_plain_or_jsonl(tmp_path):
    plain = tmp_path / "q.txt"
    # a plain file: every line is a query, one that starts with "{" too; lines
    # end at \n only; a byte-order mark is dropped
    plain.write_bytes("\ufeffhankinta\r\n{{ placeholder }}\nyksi\x0ckaksi\n\n".encode())
    assert search_cli.read_queries(plain) == ["hankinta", "{{ placeholder }}", "yksi\x0ckaksi"]
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_bytes(
        '\ufeff{"query": "kynnysarvot"}\r\n{"query": null}\n{"query": ["a"]}\n{"query": "x\n'
        "plain\n".encode()
    )
    got = search_cli.read_queries(jsonl)
    assert got[0] == "kynnysarvot" and got[-1] == "plain"
    errors = got[1:-1]
    assert [str(q).split(": ", 1)[0].rsplit(":", 1)[-1] for q in errors] == ["2", "3", "4"]
    assert all(isinstance(q, search_cli.QueryError) and "query" in str(q) for q in errors)


def test_cli_reports_missing_index(tmp_path, capsys):
    assert search_cli.main(["hankinta", "--index", str(tmp_path / "none")]) == 3
    assert "no index has been built" in capsys.readouterr().err


def test_metrics_arithmetic(searcher):
    hits = searcher.search("strategia", k=3, mode="dense", languages=["fi"])
    target = hits[1].section
    s = score(hits, relevant_total=1, sections=(target[-1].split()[0],))
    assert s["recall@1"] == 0.0 and s["recall@5"] == 1.0 and s["mrr@10"] == 0.5
    none = score([], relevant_total=1, sections=("9",))
    assert none == {
        "recall@1": 0.0,
        "recall@5": 0.0,
        "recall@10": 0.0,
        "mrr@10": 0.0,
        "ndcg@10": 0.0,
    }
    one = [replace(hits[0], chunk=replace(hits[0].chunk, section=("9 X",)))]
    assert score(one, 1, ("9",))["ndcg@10"] == 1.0


def test_qrels_and_heading_evaluations(tmp_path):
    q = tmp_path / "q.jsonl"
    q.write_text(
        '{"id": "a", "query": "x", "lang": "fi", "targets": ["fi", "sv"], '
        '"relevant": {"section": ["38 §"]}}\n'
    )
    evs = load_qrels(q)
    assert [(e.target, e.kind) for e in evs] == [("fi", "same-language"), ("sv", "cross-language")]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([{"lang": "fi", "section": "1 §", "heading": "Tarkoitus"}]))
    b.write_text(json.dumps([{"lang": "sv", "section": "1 §", "heading": "Syfte"}]))
    evs = heading_evaluations(a, b)
    assert [(e.query, e.lang, e.target) for e in evs] == [
        ("Tarkoitus", "fi", "sv"),
        ("Syfte", "sv", "fi"),
    ]


def test_best_by_language_orders_languages_by_the_ranked_list():
    from search.grouping import best_by_language, per_language_k
    from search.hits import Results

    asked = []

    def search(lang, k):
        asked.append((lang, k))
        return Results([] if lang == "en" else [SimpleNamespace(lang=lang, score=1.0)] * k)

    ranked = [SimpleNamespace(lang="sv"), SimpleNamespace(lang="fi")]
    groups = best_by_language(search, ["en", "fi", "sv"], 10, ranked)
    assert list(groups) == ["sv", "fi"]  # order of the ranked list; en found nothing
    assert asked == [("sv", 4), ("fi", 4), ("en", 4)]
    assert [per_language_k(k, n) for k, n in ((10, 3), (5, 3), (2, 3), (10, 1))] == [4, 3, 2, 10]


def test_the_passages_before_a_hit_are_its_neighbours_in_its_document(searcher):
    """Where the answer box finds a list item's lead-in (search/answer.py)."""
    firsts = []
    for hit in searcher.search("hankinta", k=10):
        rows = searcher.view.doc_rows[hit.doc_id]
        at = int(np.searchsorted(rows, hit.row))
        before = searcher.passages_before(hit, n=2)
        firsts.append(at == 0)
        assert before == [searcher.chunks[int(r)] for r in rows[max(0, at - 2) : at][::-1]]
        if at:
            assert before[0] == searcher.neighbours(hit)[0].chunk
    assert False in firsts and True in firsts  # both cases met
