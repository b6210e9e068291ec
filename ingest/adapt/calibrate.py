"""The adapted model's "no relevant passage" bars, carried over from the base's.

The base model's cosine bars (kb/model/bars.py) were calibrated on
questions; an adapted model spreads its cosines differently, and the base's
bars would flag nearly every question (measured: 95 % of the dev half's
answerable ones). No question may be used to set them again (the corpus is
``adapt``'s only input), so they are carried over: some of the mined
queries (headings and cloze sentences, ``held_out``) never enter training,
and each is asked of both models over the same passages. A bar keeps its
place relative to the best cosines of those queries: as many standard
deviations from their mean with the adapted model as with the base. The
home bar is carried by the best cosine among passages in the query's own
language, the away bar by the best among passages in another language (by
the home figures where the corpus has one language).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

import numpy as np

from ingest.adapt.pairs import Pair
from kb.choices import PairKind
from kb.model.bars import BASE_BARS, CosineBars
from kb.model.embedder import Embedder
from kb.records import Chunk

logger = logging.getLogger(__name__)

HELD_OUT_SHARE = 0.1  # of the heading and cloze pairs, kept out of training
MAX_HELD_OUT = 200
MIN_HELD_OUT = 20  # fewer: the base model's bars stay
MAX_PASSAGES = 3000  # passages the held-out queries are asked over
QUERY_KINDS = (PairKind.HEADING, PairKind.CLOZE)  # anchors written like a question's words


def held_out(pairs: Sequence[Pair], seed: int) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, held-out pairs): a share of the query-like pairs,
    chosen by ``seed``, is held out, and every other pair with a held-out
    anchor is kept out of training with it."""
    candidates = [i for i, p in enumerate(pairs) if p.kind in QUERY_KINDS and p.lang]
    n = min(MAX_HELD_OUT, int(len(candidates) * HELD_OUT_SHARE))
    if n < MIN_HELD_OUT:
        return list(pairs), []
    chosen = set(random.Random(seed).sample(candidates, n))
    held = [pairs[i] for i in sorted(chosen)]
    anchors = {p.anchor for p in held}
    train = [p for i, p in enumerate(pairs) if i not in chosen and p.anchor not in anchors]
    return train, held


def _passages(chunks: Sequence[Chunk], seed: int) -> list[Chunk]:
    """The passages to ask over: all of them, or a sample of MAX_PASSAGES."""
    if len(chunks) <= MAX_PASSAGES:
        return list(chunks)
    return random.Random(seed).sample(list(chunks), MAX_PASSAGES)


def best_cosines(
    model: Embedder, held: Sequence[Pair], chunks: Sequence[Chunk]
) -> tuple[np.ndarray, np.ndarray]:
    """(home, away): each held-out query's best cosine among the passages
    in its own language, and among those in another (NaN where none)."""
    queries = model.embed_queries([p.anchor for p in held])
    passages = model.embed_passages([c.text for c in chunks])
    sims = queries @ passages.T
    langs = np.array([c.lang for c in chunks])
    own = np.array([p.lang for p in held])[:, None] == langs[None, :]
    home = np.where(own, sims, -np.inf).max(axis=1)
    away = np.where(~own, sims, -np.inf).max(axis=1)
    return tuple(np.where(np.isfinite(b), b, np.nan) for b in (home, away))


def carry(bar: float, base: np.ndarray, adapted: np.ndarray) -> float:
    """``bar`` as far from the adapted model's mean best cosine, in its
    standard deviations, as it lies from the base's; NaN when either model
    has no figure."""
    base, adapted = base[np.isfinite(base)], adapted[np.isfinite(adapted)]
    if not len(base) or not len(adapted):
        return float("nan")  # nothing to carry it by
    spread = float(base.std())
    if spread == 0.0:
        return float(adapted.mean()) + bar - float(base.mean())
    return float(adapted.mean() + (bar - base.mean()) / spread * adapted.std())


def calibrate(
    base: Embedder,
    adapted: Embedder,
    held: Sequence[Pair],
    chunks: Sequence[Chunk],
    seed: int = 0,
    bars: CosineBars = BASE_BARS,
) -> tuple[CosineBars, dict]:
    """The adapted model's bars and what they were carried by; the base's
    ``bars`` unchanged when too few queries were held out."""
    if len(held) < MIN_HELD_OUT:
        return bars, {"held_out": len(held), "carried": False}
    passages = _passages(chunks, seed)
    base_home, base_away = best_cosines(base, held, passages)
    new_home, new_away = best_cosines(adapted, held, passages)
    home = carry(bars.home, base_home, new_home)
    two_languages = np.isfinite(base_away).sum() >= MIN_HELD_OUT
    away = (
        carry(bars.away, base_away, new_away)
        if two_languages
        else carry(bars.away, base_home, new_home)
    )
    if not (np.isfinite(home) and np.isfinite(away)):
        logger.warning("the cosine bars could not be carried over; the base model's stay")
        return bars, {"held_out": len(held), "carried": False}
    out = CosineBars(float(np.clip(home, -1.0, 1.0)), float(np.clip(away, -1.0, 1.0)))

    def summary(values: np.ndarray) -> dict[str, float]:
        values = values[np.isfinite(values)]
        if not len(values):
            return {}
        return {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4)}

    details = {
        "held_out": len(held),
        "passages": len(passages),
        "carried": True,
        "base": {"home": summary(base_home), "away": summary(base_away)},
        "adapted": {"home": summary(new_home), "away": summary(new_away)},
        "away_by": "away" if two_languages else "home",
    }
    logger.info("cosine bars %s -> %s (%d held-out queries)", bars, out, len(held))
    return out, details
