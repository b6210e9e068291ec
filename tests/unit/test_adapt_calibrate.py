"""The adapted model's "no relevant passage" bars (ingest/adapt/calibrate.py,
kb/model/bars.py): held-out queries stay out of training, the bars are
carried over by the held-out queries' best cosines, stored with the model
and read back, and the verdict uses them."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from ingest.adapt.calibrate import (
    MAX_HELD_OUT,
    MIN_HELD_OUT,
    best_cosines,
    calibrate,
    carry,
    held_out,
)
from ingest.adapt.pairs import Pair
from kb.choices import PairKind
from kb.model.bars import BARS_KEY, BASE_BARS, RECORD_FILE, CosineBars, read_bars
from kb.records import Chunk
from search.relevance import no_relevant_passage
from testsupport.records import chunk as make_chunk


def pairs(n: int) -> list[Pair]:
    kinds = [PairKind.HEADING, PairKind.TRANSLATION, PairKind.CLOZE]
    return [
        Pair(kinds[i % 3], f"anchor {i // 2}", f"positive {i}", f"negative {i}", "fi")
        for i in range(n)
    ]


def test_a_share_of_the_query_like_pairs_is_held_out_of_training() -> None:
    mined = pairs(3000)  # anchors repeat: "anchor 7" is pairs 14 and 15
    training, held = held_out(mined, seed=0)
    assert len(held) == MAX_HELD_OUT
    assert all(p.kind in (PairKind.HEADING, PairKind.CLOZE) for p in held)
    held_anchors = {p.anchor for p in held}
    assert not [p for p in training if p.anchor in held_anchors]
    assert len(training) + len(held) < len(mined)  # the held anchors' other pairs went too
    assert held_out(mined, seed=0) == (training, held)  # stable for a seed
    assert held_out(mined, seed=1)[1] != held


def test_too_few_pairs_hold_none_out() -> None:
    few = pairs(int(MIN_HELD_OUT / 0.1 * 1.5) - 3)  # under MIN_HELD_OUT query-like pairs in 10 %
    assert held_out(few, seed=0) == (few, [])
    unknown_language = [Pair(p.kind, p.anchor, p.positive, p.negative) for p in pairs(3000)]
    assert held_out(unknown_language, seed=0) == (unknown_language, [])


def test_a_bar_keeps_its_place_in_standard_deviations() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0.86, 0.02, 500)
    assert carry(0.815, base, base) == pytest.approx(0.815)
    assert carry(0.815, base, 0.5 * base + 0.3) == pytest.approx(0.5 * 0.815 + 0.3)
    assert carry(0.815, base, base + 0.05) == pytest.approx(0.865)
    with_nan = np.append(base, np.nan)
    assert carry(0.815, with_nan, with_nan + 0.05) == pytest.approx(0.865)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_best_cosines_split_home_and_away() -> None:
    vectors = {
        "q fi": [1.0, 0.0, 0.0],
        "p fi": [0.6, 0.8, 0.0],
        "p sv": [0.8, 0.0, 0.6],
    }
    encode = lambda texts: np.array([vectors[t] for t in texts])  # noqa: E731
    fixed = Model(encode, encode)
    chunks = [chunk("p fi", "fi", 0), chunk("p sv", "sv", 1)]
    held = [Pair(PairKind.HEADING, "q fi", "p fi", "p sv", "fi")]
    home, away = best_cosines(fixed, held, chunks)
    assert home.tolist() == pytest.approx([0.6]) and away.tolist() == pytest.approx([0.8])
    home, away = best_cosines(fixed, held, chunks[:1])
    assert np.isnan(away).all()


def chunk(text: str, lang: str, ordinal: int) -> Chunk:
    return make_chunk(f"doc-{lang}", ("1 §",), text, ordinal, lang)


def hashed(text: str, dim: int = 32) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(size=dim)


def corpus(n: int = 120) -> tuple[list[Chunk], list[Pair]]:
    chunks = [chunk(f"passage {i}", "fi" if i % 2 else "sv", i) for i in range(n)]
    held = [
        Pair(PairKind.CLOZE, f"query {i}", f"passage {i}", "", "fi" if i % 2 else "sv")
        for i in range(n // 2)
    ]
    return chunks, held


class Model:
    """An embedder of the two calls calibration makes."""

    def __init__(self, queries, passages) -> None:
        self.embed_queries, self.embed_passages = queries, passages


def model(closeness: float) -> Model:
    """Queries ``closeness`` of the way to their passage: a model that
    brings a question nearer its passage the larger it is."""

    def queries(texts):
        near = [hashed(t.replace("query", "passage")) for t in texts]
        return unit(
            np.array(
                [
                    (1 - closeness) * hashed(t) + closeness * n
                    for t, n in zip(texts, near, strict=True)
                ]
            )
        )

    return Model(queries, lambda texts: unit(np.array([hashed(t) for t in texts])))


def test_the_same_model_keeps_the_bars_and_a_closer_one_raises_them() -> None:
    chunks, held = corpus()
    same, details = calibrate(model(0.3), model(0.3), held, chunks)
    assert same.home == pytest.approx(BASE_BARS.home) and same.away == pytest.approx(BASE_BARS.away)
    assert details["carried"] and details["held_out"] == len(held)
    assert details["away_by"] == "away"
    closer, _ = calibrate(model(0.3), model(0.6), held, chunks)
    assert closer.home > BASE_BARS.home + 0.05  # home: the best passage is its own
    assert closer.away != pytest.approx(BASE_BARS.away)
    one_language = [c for c in chunks if c.lang == "fi"]
    _, details = calibrate(
        model(0.3), model(0.6), [p for p in held if p.lang == "fi"], one_language
    )
    assert details["away_by"] == "home"
    kept, details = calibrate(model(0.3), model(0.6), held[: MIN_HELD_OUT - 1], chunks)
    assert kept == BASE_BARS and not details["carried"]


def test_the_bars_stored_with_a_model_are_read_back(tmp_path) -> None:
    assert read_bars(None) is None and read_bars(tmp_path) is None  # the base model: none
    record = tmp_path / RECORD_FILE
    record.write_text(json.dumps({BARS_KEY: CosineBars(0.9, 0.88).as_dict()}))
    assert read_bars(tmp_path) == CosineBars(0.9, 0.88)
    for broken in (
        "{not json",
        json.dumps({BARS_KEY: {"home": 0.9}}),
        json.dumps({BARS_KEY: {"home": 2, "away": 0.1}}),
        "[]",
    ):
        record.write_text(broken)
        assert read_bars(tmp_path) is None, broken


def test_the_verdict_takes_the_models_bars() -> None:
    query = "Milloin suorahankinta on sallittu?"
    assert not no_relevant_passage(query, 0.85, True)
    assert no_relevant_passage(query, 0.85, True, bars=CosineBars(0.9, 0.88))
    assert not no_relevant_passage(query, 0.8, True, home=False)
    assert no_relevant_passage(query, 0.8, True, home=False, bars=CosineBars(0.9, 0.88))
    assert no_relevant_passage(query, 0.80, True)  # the base home bar: 0.815


def test_a_query_with_no_passage_in_its_language_has_no_home_cosine() -> None:
    chunks, held = corpus()
    english = [Pair(p.kind, p.anchor, p.positive, p.negative, "en") for p in held]
    home, away = best_cosines(model(0.3), english, chunks)
    assert np.isnan(home).all() and np.isfinite(away).all()
    kept, details = calibrate(model(0.3), model(0.6), english, chunks)
    assert kept == BASE_BARS and not details["carried"]  # no home figures: nothing carried


def test_a_searcher_judges_by_its_bars(tiny) -> None:
    from search.modes import Highlighting
    from search.searcher import Searcher

    searcher = Searcher.load(tiny.index_dir, tiny.settings, tiny.embedder)
    assert searcher.bars is None  # the bundled model's settings: the base bars

    def flagged(bars: CosineBars) -> bool:
        searcher.bars = bars
        found = searcher.search("kynnysarvo euroa", k=3, highlight=Highlighting.NONE)
        return found.no_relevant_passage

    assert flagged(CosineBars(1.5, 1.5)) and not flagged(CosineBars(-1.5, -1.5))
