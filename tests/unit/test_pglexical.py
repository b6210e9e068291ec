"""The threshold algorithm's bookkeeping (search/backend/pglexical.py) on
hand-made postings: which rows are candidates, what an unread row can score
at most, and when the candidates' ranking is proven."""

import numpy as np

from search.backend import pglexical
from search.backend.pglexical import EXACT_TOP, per_term, settled


def read_round(read, n, depth, limit=None, seen=()):
    """pglexical.read_round on (term number, query weight, row, weight) tuples."""
    columns = [np.asarray(c) for c in zip(*read, strict=True)] or [np.zeros(0)] * 4
    return pglexical.read_round(*columns, n, depth, limit, seen)


def in_memory_index(monkeypatch, table, score):
    """A PgIndex whose two SQL reads are replaced: the postings of ``table``
    ({term: {row: weight}}), best first, and ``score`` for the exact scores."""
    from search.backend.postgres import PgIndex

    def best_postings(asked, weights, where, n):
        cols = [[], [], [], []]
        for i, (t, w) in enumerate(zip(asked, weights, strict=True)):
            for row, weight in sorted(table[t].items(), key=lambda rw: (-rw[1], rw[0]))[:n]:
                for col, value in zip(cols, (i, w, row, weight), strict=True):
                    col.append(value)
        return tuple(np.asarray(c) for c in cols)

    index = object.__new__(PgIndex)
    index.has_postings = True
    monkeypatch.setattr(index, "_best_postings", best_postings, raising=False)
    monkeypatch.setattr(index, "_scored", score, raising=False)
    return index


def test_the_bound_sums_the_last_weights_of_the_lists_not_read_to_the_end():
    read = [
        (0, 1.0, 7, 3.0),
        (0, 1.0, 2, 2.0),  # list 0: read 2 of n=2, maybe more
        (1, 0.5, 2, 4.0),  # list 1: 1 of n=2, so read to its end
    ]
    found = read_round(read, 2, 10)
    assert found.candidates == [7, 2]
    assert found.bound == 2.0  # only list 0 can hide a row, worth at most 1.0 * 2.0


def test_settled_only_when_the_depth_th_score_reaches_the_bound():
    assert settled([5.0, 4.0, 3.0], 2, 4.0)
    assert not settled([5.0, 4.0, 3.0], 3, 4.0)  # an unread row may score 4 > 3
    assert not settled([5.0], 2, 1.0)  # too few candidates while lists go on
    assert settled([5.0], 2, 0.0)  # every list read: nothing else exists


def test_the_rounds_prove_the_first_rows_a_reader_sees():
    scores = [float(100 - i) for i in range(100)]
    assert settled(scores, 100, scores[EXACT_TOP - 1])  # rows below: best effort
    assert not settled(scores, 100, scores[EXACT_TOP - 1] + 1)


def test_the_first_round_grows_with_the_depth():
    assert per_term(1) == per_term(10) < per_term(1000)


def test_a_row_whose_best_case_is_below_the_depth_th_sure_score_is_not_a_candidate():
    read = [
        (0, 1.0, 1, 5.0),
        (0, 1.0, 2, 1.0),  # list 0 goes on below 1.0
        (1, 1.0, 1, 4.0),
        (1, 1.0, 3, 3.0),  # list 1 goes on below 3.0
    ]
    found = read_round(read, 2, 1)
    # row 1 is sure of 9; row 2 can reach at most 1 + 3, row 3 at most 3 + 1
    assert found.candidates == [1]
    assert found.read == 3
    assert found.bound == 4.0
    # at depth 2 the second-best sure score is 3 (row 3): row 2 (at most 4) stays
    assert read_round(read, 2, 2).candidates == [1, 2, 3]


def test_a_round_scores_at_most_its_limit_and_its_bound_covers_the_rest():
    read = [
        (0, 1.0, 1, 5.0),
        (0, 1.0, 2, 4.0),
        (0, 1.0, 3, 3.0),  # list 0 goes on below 3.0
        (1, 1.0, 3, 2.0),
        (1, 1.0, 4, 2.0),  # list 1 read to its end
    ]
    every = read_round(read, 3, 3)
    assert sorted(every.candidates) == [1, 2, 3, 4]
    assert every.bound == 3.0
    found = read_round(read, 3, 3, limit=2)
    # the two whose lists gave the most (row 1: 5, row 3: 3 + 2), in first-read order
    assert found.candidates == [1, 3]
    # row 4 (sure 2, at most 2 + 3) was read but not kept: no proof below 5
    assert found.bound == 5.0
    # kept by what the lists gave (row 2: sure 4), not by the best case (row 4: 5)
    three = read_round(read, 3, 3, limit=3)
    assert (three.candidates, three.bound) == ([1, 2, 3], 5.0)
    assert read_round(read, 3, 3, limit=4) == every
    # a row an earlier round scored takes no place: rows 3 and 2 are scored now
    again = read_round(read, 3, 3, limit=2, seen={1})
    assert (again.candidates, again.bound) == ([2, 3], 5.0)
    assert read_round(read, 3, 3, seen={1, 4}).candidates == [2, 3]


def test_a_list_read_to_its_end_adds_nothing_to_a_row_it_did_not_reach():
    read = [(0, 1.0, 1, 5.0), (0, 1.0, 2, 4.0), (1, 2.0, 1, 1.0)]  # list 1: 1 of n=2
    found = read_round(read, 2, 1)
    # row 2 can gain from neither list: at most 4, below row 1's sure 7
    assert found.candidates == [1]


def test_hnsw_search_list_grows_with_the_table_and_the_filter():
    from search.backend.pghnsw import MAX_EF_SEARCH, MIN_EF_SEARCH, ef_search

    assert ef_search(100, 10_000, 10_000) == ef_search(100, 100_000, 100_000) == MIN_EF_SEARCH
    at_300k, at_1m = ef_search(100, 300_000, 300_000), ef_search(100, 10**6, 10**6)
    assert MIN_EF_SEARCH < at_300k < at_1m == MAX_EF_SEARCH  # measured: 0.903 -> 0.961 at 1M
    assert ef_search(100, 10**7, 10**7) == MAX_EF_SEARCH  # pgvector's limit
    assert ef_search(100, 50_000, 100_000) == 2 * MIN_EF_SEARCH  # a filter keeping half
    assert ef_search(200, 100_000, 100_000) == 4 * 200  # a deeper search, a longer list


def test_the_best_rows_of_several_rounds_keep_the_sql_order():
    from search.backend.pglexical import best

    first = [(4, 3.0), (2, 2.0)]  # an earlier round's first two
    later = [(9, 2.5), (1, 2.0)]
    assert best(first + later, 3) == [(4, 3.0), (9, 2.5), (1, 2.0)]  # a tie: lower row first


def test_rounds_score_each_row_once_and_rank_as_scoring_every_row(monkeypatch):
    """PgIndex.lexical over an in-memory table of postings (its two SQL
    reads replaced): however many rounds, each row is scored once and the
    first rows are those of scoring every row."""
    import random

    rng = random.Random(7)
    terms = ["alpha", "beta", "gamma", "delta"]
    # flat lists with ties, as copies of passages give: many rounds
    table = {
        t: {row: float(rng.choice([1, 2, 2, 3])) for row in rng.sample(range(300), 150)}
        for t in terms
    }

    def exact(row, asked, weights):
        return sum(w * table[t].get(row, 0.0) for t, w in zip(asked, weights, strict=True))

    scored: list[int] = []

    def score(asked, where, depth, weights=None, rows=None):
        if rows is None:  # the full scan: every row
            rows = range(300)
        else:
            limit = pglexical.scored_limit(depth)
            assert limit is None or len(rows) <= limit  # the search passes its limit
            scored.extend(rows)
        got = [(r, exact(r, asked, weights)) for r in rows]
        return sorted([g for g in got if g[1] > 0], key=lambda g: (-g[1], g[0]))[:depth]

    index = in_memory_index(monkeypatch, table, score)
    for name, value in (("MIN_PER_TERM", 5), ("PER_TERM_FACTOR", 0), ("GROWTH", 2)):
        monkeypatch.setattr(pglexical, name, value)
    monkeypatch.setattr(pglexical, "ROUNDS", 30)
    for factor, asked, weights, depth in (
        (None, terms, [1.0, 1.0, 1.0, 1.0], 10),
        (None, terms[:3], [0.5, 1.0, 0.25], 10),
        (None, terms[1:], [1.0, 0.3, 0.7], 3),
        # rounds that score only the depth's worth of candidates still prove
        (1, terms, [1.0, 1.0, 1.0, 1.0], 10),
        (1, terms[1:], [1.0, 0.3, 0.7], 3),
    ):
        monkeypatch.setattr(pglexical, "SCORED_FACTOR", factor)
        scored.clear()
        full = [r for r, _ in score(asked, None, 300, weights)]
        got = index.lexical(asked, None, depth, weights)
        assert got[: min(depth, pglexical.EXACT_TOP)] == full[: min(depth, pglexical.EXACT_TOP)]
        assert len(scored) == len(set(scored)) > 0  # no row scored twice


def test_a_row_read_but_left_unscored_keeps_the_rounds_going(monkeypatch):
    """Round one reads rows 1, 3, 4, 2 of A and 2, 5 of B, and may score one
    row: row 1 (sure 5, every other row's sure score lower). Unread rows can
    reach 4, so row 1 alone would look proven; but row 2 (sure 3 + 3.5 from
    B's list) was read and not scored, and scores 6.5."""
    table = {"a": {1: 5.0, 3: 4.5, 4: 4.0, 2: 3.5}, "b": {2: 3.0, 5: 2.9}}

    def score(asked, where, depth, weights=None, rows=None):
        got = [(r, sum(table[t].get(r, 0.0) for t in asked)) for r in rows]
        return sorted(got, key=lambda g: (-g[1], g[0]))[:depth]

    index = in_memory_index(monkeypatch, table, score)
    for name, value in (("MIN_PER_TERM", 3), ("PER_TERM_FACTOR", 0), ("SCORED_FACTOR", 1)):
        monkeypatch.setattr(pglexical, name, value)
    assert index.lexical(["a", "b"], None, 1) == [2]
