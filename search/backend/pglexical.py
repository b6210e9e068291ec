"""BM25 top-k from impact-ordered postings: the threshold algorithm.

Each query term's postings are read best weight first, ``n`` rows a term.
Every row read is a candidate, but for rows an earlier round scored (their
exact scores are already ranked). What its lists gave is a lower bound of its
score; adding, for each other term whose list goes on, that list's last
weight gives an upper bound. A candidate whose upper bound is below the
``depth``-th best lower bound cannot enter the top ``depth`` and is
dropped; of the rest, at most SCORED_FACTOR times ``depth`` (those whose
lists gave the most) are scored exactly (all their terms, not only those
whose lists reached them). A row no list reached scores at most
the *bound*: the sum, over the terms whose lists were not read to the end,
of the query weight times the last weight read; a candidate left unscored
raises the bound to its own upper bound. When the ``depth``-th exact
score among the candidates reaches the bound, no unread row can enter the
top ``depth``: the ranking is the full scan's. Otherwise the lists are read
deeper (Fagin, Lotem and Naor's threshold algorithm, with the rounds
batched so that a search costs a few queries, not one per row). The rounds
prove the first rows a reader sees; the bounded number of rounds and of
rows scored keeps a search's cost bounded where the lists are long and
flat, at the price of a ranking that is then not proven.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

# Rows read per term in the first round: at least MIN_PER_TERM, and
# PER_TERM_FACTOR times the depth asked; each further round reads GROWTH
# times more, at most ROUNDS rounds (then the ranking below the proven rows
# may be inexact: logged). The top EXACT_TOP rows (what a reader sees first)
# are what the rounds prove; the rows below them are the candidates' exact
# scores, ranked, which a row never read could still beat. Measured at 100k:
# proving all 100 rows took 309 ms p50 against 5.7 ms for the folder's BM25
# (docs/postgresql.md).
MIN_PER_TERM, PER_TERM_FACTOR, GROWTH, ROUNDS, EXACT_TOP = 200, 5, 4, 3, 10
# Candidates scored exactly in a round: at most SCORED_FACTOR times the
# depth, those whose lists gave the most (None: every candidate). Measured
# at a million distinct passages (docs/postgresql.md): BM25 p95 1,253 ->
# 161 ms, and 0.980 of the first ten scores the full scan's.
SCORED_FACTOR: int | None = 8
_SLACK = 1e-6  # the scan's and the postings' weights are the same formula in float


def per_term(depth: int) -> int:
    return max(MIN_PER_TERM, PER_TERM_FACTOR * depth)


def scored_limit(depth: int) -> int | None:
    return None if SCORED_FACTOR is None else SCORED_FACTOR * depth


@dataclass(frozen=True)
class Round:
    """What one round of reading the postings found."""

    # the rows read, not scored before, that may enter the top depth, in first-read order
    candidates: list[int]
    bound: float  # the highest score a row not read can have
    read: int = 0  # distinct rows read, before the candidates were pruned


def read_round(
    term_of: np.ndarray,
    query_weights: np.ndarray,
    rows: np.ndarray,
    weights: np.ndarray,
    n: int,
    depth: int,
    limit: int | None = None,
    seen: Collection[int] = (),
) -> Round:
    """The read postings as columns, one entry a posting: (term number,
    query weight, row, posting weight) as the lists gave them, best first,
    at most ``n`` a term. ``seen``: rows an earlier round scored, whose
    exact scores the caller keeps: no candidates, no place under ``limit``."""
    if not len(rows):
        return Round([], 0.0, 0)
    term_of = term_of.astype(np.int64)
    n_terms = int(term_of.max()) + 1
    counts = np.bincount(term_of, minlength=n_terms)
    gain = query_weights.astype(np.float64) * weights.astype(np.float64)
    # each list's last (smallest) gain, where the list goes on past n rows
    last = np.full(n_terms, np.inf)
    np.minimum.at(last, term_of, gain)
    going_on = np.where(counts >= n, last, 0.0)
    bound = float(going_on.sum())
    # the rows in first-read order; what each row's lists gave (its sure
    # score), and what those lists no longer add to its best case
    found, first, row_of = np.unique(rows.astype(np.int64), return_index=True, return_inverse=True)
    partial = np.bincount(row_of, weights=gain, minlength=len(found))
    reached_going = np.bincount(row_of, weights=going_on[term_of], minlength=len(found))
    upper = partial + bound - reached_going
    keep = np.flatnonzero(upper + _SLACK >= _nth_best(partial, depth))
    if seen:  # scored already: their exact scores are known
        keep = keep[~np.isin(found[keep], np.fromiter(seen, np.int64, len(seen)))]
    if limit is not None and len(keep) > limit:
        # the rows whose lists gave the most; a row left out may still be
        # better, so the bound rises to its best case
        order = np.lexsort((-upper[keep], -partial[keep]))
        bound = max(bound, float(upper[keep[order[limit:]]].max()))
        keep = keep[order[:limit]]
    keep = keep[np.argsort(first[keep], kind="stable")]
    return Round([int(r) for r in found[keep]], bound, len(found))


def best(scored: list[tuple[int, float]], depth: int) -> list[tuple[int, float]]:
    """The first ``depth`` of (row, exact score), best first, ties by row (as
    the SQL orders them). Rows scored in an earlier round are not scored
    again: a row outside an earlier round's first ``depth`` has ``depth``
    better rows there, which stay."""
    return sorted(scored, key=lambda rs: (-rs[1], rs[0]))[:depth]


def _nth_best(values: np.ndarray, n: int) -> float:
    """The ``n``-th largest value, or 0 when there are fewer."""
    if n < 1 or len(values) < n:
        return 0.0
    return float(np.partition(values, len(values) - n)[len(values) - n])


def settled(scores: list[float], depth: int, bound: float) -> bool:
    """True when the exact scores of the candidates (best first) prove
    their top ``min(depth, EXACT_TOP)`` is the whole table's."""
    if bound <= 0:
        return True  # every list read to its end
    top = min(depth, EXACT_TOP)
    return len(scores) >= top and scores[top - 1] + _SLACK >= bound
