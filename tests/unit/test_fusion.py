"""search/fusion.py: weighted reciprocal rank fusion and the dense weights."""

from __future__ import annotations

import numpy as np
import pytest

from search.fusion import AWAY_WEIGHT, RRF_K, dense_weights, fuse


def test_one_list_keeps_its_order_and_scores_by_rank():
    scores, order = fuse([([7, 3, 9], 1.0)])
    assert order == [7, 3, 9]
    assert scores == pytest.approx({7: 1 / (RRF_K + 1), 3: 1 / (RRF_K + 2), 9: 1 / (RRF_K + 3)})


def test_a_row_in_both_lists_sums_its_contributions_and_leads():
    # 5 is second in both lists: 2/(K+2) beats 1/(K+1) of either list's first.
    scores, order = fuse([([1, 5], 1.0), ([2, 5], 1.0)])
    assert order[0] == 5
    assert scores[5] == pytest.approx(2 / (RRF_K + 2))
    assert set(order) == {1, 2, 5}


def test_ties_are_broken_by_row_number():
    scores, order = fuse([([9, 4], 1.0), ([4, 9], 1.0)])
    assert scores[9] == pytest.approx(scores[4])
    assert order == [4, 9]


def test_a_list_weight_scales_its_contribution():
    # Alone, 1 leads 2 (rank 1 against rank 1 in an equal list); with weight
    # 3 on the second list, 2 leads.
    assert fuse([([1], 1.0), ([2], 1.0)])[1] == [1, 2]
    scores, order = fuse([([1], 1.0), ([2], 3.0)])
    assert order == [2, 1]
    assert scores[2] == pytest.approx(3 / (RRF_K + 1))


def test_weights_by_row_come_from_an_array_as_long_as_the_list():
    weights = np.array([1.0, 5.0])  # row 0's, row 2's
    scores, order = fuse([([0, 2], weights)])
    assert order == [2, 0]
    assert scores[2] == pytest.approx(5 / (RRF_K + 2))
    assert scores[0] == pytest.approx(1 / (RRF_K + 1))


def test_empty_lists_fuse_to_nothing():
    assert fuse([]) == ({}, [])
    assert fuse([([], 1.0), ([], np.ones(0))]) == ({}, [])
    with pytest.raises(ValueError):  # a weight for each row listed, no more, no less
        fuse([([1, 2], np.ones(3))])
    scores, order = fuse([([], 1.0), ([4], 1.0)])
    assert order == [4] and list(scores) == [4]


def test_dense_weights_are_one_when_bm25_ranks_every_language():
    assert dense_weights(np.array(["fi", "sv"]), None) == 1.0


def test_dense_weights_favour_rows_bm25_cannot_see():
    weights = dense_weights(np.array(["fi", "sv", "en", "fi"]), {"fi"})
    assert weights.tolist() == [1.0, AWAY_WEIGHT, AWAY_WEIGHT, 1.0]
    assert AWAY_WEIGHT > 1.0
