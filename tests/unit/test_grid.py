"""evaluation/grid.py: rows of one run split by question set and written
as one table (the runs themselves are the held-out harness's)."""

from __future__ import annotations

from evaluation.grid import by_set, markdown
from evaluation.heldout import Question


def question(id_: str, split: str, lang: str, source: str = "act") -> Question:
    return Question(id_, "q", lang, split, source, (("hankintalaki", "1 §"),))


def record(q: Question, rank: int | None, flagged: bool = False) -> dict:
    return {"id": q.id, "lang": q.lang, "source": q.source, "rank": rank, "flagged": flagged}


def test_rows_are_split_by_question_set_and_summarised_per_set():
    dev = [question("a", "dev", "en"), question("b", "dev", "fi")]
    fresh = [question("c", "fresh4", "sv"), question("d", "fresh4", "en", source="none")]
    rows = [
        {
            "model": "base",
            "bridge": "on",
            "setup": "dropped",
            "mode": "hybrid",
            "records": [record(dev[0], 1), record(dev[1], 7), record(fresh[0], 2)]
            + [record(fresh[1], None, flagged=True)],
        }
    ]
    sets = by_set(rows, dev + fresh)
    assert list(sets) == ["dev", "fresh4"]
    assert [r["id"] for r in sets["dev"][0]["records"]] == ["a", "b"]
    table = markdown(sets).splitlines()
    # dev: one of two answerable in the top 5; MRR (1 + 1/7) / 2
    assert table[2].startswith("| dev | base | on | dropped | hybrid | 0.500 | 0.571 |")
    # fresh4: its one answerable question at rank 2; its no-answer question flagged
    assert table[3].startswith("| fresh4 | base | on | dropped | hybrid | 1.000 | 0.500 |")
    assert table[3].endswith("| 1.00 | 0.00 |")
