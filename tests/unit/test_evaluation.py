"""evaluation/naive.py and evaluation/heldout.py, their parts that run
without the model: the naive index over a fake embedder, reading the
questions, judging a hit by its text, and the summary arithmetic."""

from __future__ import annotations

import json

import pytest

from evaluation import heldout
from evaluation.heldout import MIN_INSIDE, Question, answers, load_questions, markdown, summary
from evaluation.naive import NaiveHit, NaiveIndex
from testsupport.fakes import FakeEmbedder

# --- naive.py ---------------------------------------------------------------


def test_naive_index_searches_its_records_best_first():
    records = [("a.txt", 1, "carbon footprint of procurement"), ("b.txt", 2, "tröskelvärdet")]
    index = NaiveIndex(FakeEmbedder(), records)
    hits = index.search("tröskelvärdet", k=5)
    assert hits[0] == NaiveHit("tröskelvärdet", "b.txt", 2, pytest.approx(1.0, abs=1e-5))
    assert len(hits) == 2 and hits[0].score >= hits[1].score  # k above the records: all, no -1 rows


def test_naive_build_reads_text_files_in_order_and_skips_others(tmp_path):
    corpus = tmp_path / "naive"
    corpus.mkdir()
    (corpus / "b.md").write_text("# B\n\nsecond file", encoding="utf-8")
    (corpus / "a.txt").write_text("first file", encoding="utf-8")
    (corpus / "c.toml").write_text("ignored = true", encoding="utf-8")
    long = " ".join(f"word{i}" for i in range(400))  # about 3,000 characters: several pieces
    (corpus / "d.txt").write_text(long, encoding="utf-8")
    index = NaiveIndex.build(corpus, FakeEmbedder())
    paths = [p for p, _, _ in index.records]
    assert paths[:2] == ["a.txt", "b.md"] and "c.toml" not in paths
    pieces = [t for p, _, t in index.records if p == "d.txt"]
    assert len(pieces) >= 3 and all(len(t) <= 1000 for t in pieces)
    assert pieces[0].split()[0] == "word0" and pieces[-1].split()[-1] == "word399"
    assert all(page == 1 for _, page, _ in index.records)


# --- heldout.py: questions ----------------------------------------------------


def question(qid: str, split: str, lang: str = "fi", source: str = "act") -> dict:
    return {
        "id": qid,
        "query": f"kysymys {qid}",
        "lang": lang,
        "split": split,
        "source": source,
        "relevant": [{"doc": "hankintalaki", "section": "15 §"}],
    }


def test_load_questions_by_split(tmp_path):
    path = tmp_path / "q.jsonl"
    lines = [json.dumps(question("a", "dev")), "", json.dumps(question("b", "test")), "  "]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    everything = load_questions(path)
    assert [q.id for q in everything] == ["a", "b"]
    assert everything[0] == Question(
        "a", "kysymys a", "fi", "dev", "act", (("hankintalaki", "15 §"),)
    )
    assert [q.id for q in load_questions(path, "dev")] == ["a"]
    assert [q.id for q in load_questions(path, "test")] == ["b"]
    assert [q.id for q in load_questions(path, "all")] == ["a", "b"]


def test_the_projects_question_file_reads(tmp_path):
    from kb.settings import PROJECT_ROOT

    questions = load_questions(PROJECT_ROOT / "eval" / "heldout.qrels.jsonl")
    assert questions and {q.split for q in questions} <= {"dev", "test"}
    assert all(q.relevant or q.source == "none" for q in questions)


# --- heldout.py: the judge ----------------------------------------------------

SECTION = "Hankintayksikkö voi hankkia palveluja sidosyksiköltään ilman tarjouskilpailua."


def sections_of(text: str) -> dict:
    return {("hankintalaki", "15 §"): heldout._trigrams(heldout._words(text))}


def test_words_are_normalised_and_lower_cased():
    assert heldout._words("Ｈａｎｋｉｎｔａ, 15 §!") == ["hankinta", "15"]


def test_trigrams_of_short_texts_are_the_text_itself():
    assert heldout._trigrams(["a", "b"]) == {("a", "b")}
    assert heldout._trigrams(["a", "b", "c", "d"]) == {("a", "b", "c"), ("b", "c", "d")}


def test_a_hit_inside_an_answering_section_answers():
    relevant = (("hankintalaki", "15 §"),)
    sections = sections_of(SECTION)
    assert answers("palveluja sidosyksiköltään ilman tarjouskilpailua", relevant, sections)
    assert not answers("Kynnysarvo on 60 000 euroa ja se koskee tavaroita.", relevant, sections)
    assert not answers("", relevant, sections)
    assert not answers(SECTION, (("hankintalaki", "16 §"),), sections)  # another section


def test_the_share_inside_decides_at_min_inside():
    relevant = (("hankintalaki", "15 §"),)
    sections = sections_of(SECTION)
    inside = "voi hankkia palveluja sidosyksiköltään"  # 2 trigrams, both inside
    # Each extra word adds one trigram outside: 2 of 4 is below 0.6, 2 of 3 above.
    assert MIN_INSIDE == 0.6
    assert answers(inside + " zebra", relevant, sections)
    assert not answers(inside + " zebra kirahvi", relevant, sections)


# --- heldout.py: the summary --------------------------------------------------


def record(lang: str, rank: int | None, source: str = "act", flagged: bool = False) -> dict:
    return {"id": "x", "lang": lang, "source": source, "rank": rank, "flagged": flagged}


def test_summary_recall_and_mrr_over_answerable_questions():
    records = [
        record("fi", 1),
        record("fi", 5),
        record("sv", 6, source="theme"),
        record("en", None, flagged=True),
        record("en", None, source="none", flagged=True),
        record("fi", None, source="none"),
    ]
    s = summary(records)
    assert s["all"]["n"] == 4
    assert s["all"]["recall@5"] == pytest.approx(2 / 4)
    assert s["all"]["mrr@10"] == pytest.approx((1 + 1 / 5 + 1 / 6) / 4)
    assert s["fi"] == {"n": 2, "recall@5": 1.0, "mrr@10": pytest.approx(0.6)}
    assert s["sv"]["recall@5"] == 0.0 and s["sv"]["mrr@10"] == pytest.approx(1 / 6)
    assert s["en"] == {"n": 1, "recall@5": 0.0, "mrr@10": 0.0}
    assert s["theme"]["n"] == 1
    assert s["no-answer flagged"] == 0.5 and s["answerable flagged"] == 0.25


def test_summary_of_nothing_is_zeros_not_a_division_error():
    s = summary([])
    assert s["all"] == {"n": 0, "recall@5": 0.0, "mrr@10": 0.0}
    assert s["no-answer flagged"] == 0.0 and s["answerable flagged"] == 0.0


def test_markdown_has_one_row_per_setup_and_mode():
    runs = {"dropped": {"naive": [record("fi", 1)], "hybrid": [record("fi", None)]}}
    lines = markdown(runs).splitlines()
    assert len(lines) == 4 and lines[0].count("|") == lines[2].count("|")
    assert lines[2].startswith("| dropped | naive | 1.000 | 1.000 |")
    assert lines[3].startswith("| dropped | hybrid | 0.000 | 0.000 |")
