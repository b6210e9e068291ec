"""Highlights: the query's words (stem-aware) and the best sentence of each
hit, the one with the most query words or, where no word matches (a passage
in another language), the one nearest the query by embedding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from kb.model.embedder import Embedder
from kb.text.lexical import Analyses, doc_terms, stem
from kb.text.sentences import Span, body_spans, heading_end, sentence_spans
from search.hits import Highlight, HighlightKind, Hit
from search.terms import content_terms, term_spans

SEMANTIC_HIGHLIGHTS = 2  # hits whose best sentence is found by embedding


def opens_mid_sentence(text: str, start: int) -> bool:
    """Whether a passage's body (``text`` from ``start``, after its
    headings) begins inside a sentence the chunk's edge cut: in lower case."""
    return text[start:].lstrip()[:1].islower()


def closes_mid_sentence(text: str) -> bool:
    """Whether a passage ends inside a sentence: on a letter or digit, or on
    a comma, semicolon or colon (a clause or a list item with more to come)."""
    last = text.rstrip()[-1:]
    return last.isalnum() or (last != "" and last in ",;:")


def _fragment(text: str, span: tuple[int, int]) -> bool:
    """A piece of a sentence cut by the chunk's edge: it starts in lower
    case at the passage's start, or runs to its end without a full stop."""
    s, e = span
    piece = text[s:e].strip()
    head = s == 0 and piece[:1].islower()
    tail = e >= len(text.rstrip()) and piece[-1:] not in '.!?:;)"”'
    return head or tail


def _best_lexical(
    text: str, spans: list[tuple[int, int]], marks: list[tuple[int, int, float]]
) -> tuple[int, int] | None:
    """The sentence whose distinct query words weigh most (rare words weigh
    more); whole sentences before pieces cut by the chunk's edge; the first
    on ties. None when no sentence holds a query word."""
    best, best_key = None, None
    for s, e in spans:
        found = {text[a:b].lower(): w for a, b, w in marks if s <= a < e}
        if not found:
            continue
        key = (not _fragment(text, (s, e)), round(sum(found.values()), 6))
        if best_key is None or key > best_key:
            best, best_key = (s, e), key
    return best


Rarity = Callable[[str, str], float]  # (index term, language) -> share of passages holding it

COMMON_SHARE = 0.25  # a word in more than this share of passages is not marked


def _term_marks(
    hit: Hit, terms: set[str], share: Rarity | None, analyses: Analyses | None
) -> list[tuple[int, int, float]]:
    """(start, end, weight) of the query's words in the hit; the weight is
    the share of passages that do not hold the word (1.0 without stats)."""
    out = []
    for s, e in term_spans(hit.text, hit.lang, terms, analyses):
        held = _held(hit.text[s:e].lower(), hit.lang, terms, share, analyses) if share else 0.0
        out.append((s, e, 1.0 - held))
    return out


def _held(word: str, lang: str, terms: set[str], share: Rarity, analyses) -> float:
    """The share of passages holding the word's most specific index term
    that the query asks for: a Finnish compound's terms are the whole, then
    its parts (kb/text/morphology.py), so the whole where the query asks for
    it, else the part it asks for."""
    own = doc_terms(word, lang, analyses)
    matched = [t for t in own if t in terms] or [stem(word, lang)]
    return share(matched[0], lang)


# (hit, its sentence spans) -> their vectors stored at build time, or None
StoredSentences = Callable[[Hit, list[Span]], np.ndarray | None]


def highlight(
    embedder: Embedder,
    query: str,
    hits: list[Hit],
    qvec: np.ndarray | None = None,
    semantic: bool = True,
    share: Rarity | None = None,
    stored: StoredSentences | None = None,
    finnish: Callable[[str], Analyses] | None = None,
) -> list[Hit]:
    """Mark the query's words (stem-aware) where they discriminate, and one
    best sentence per hit: the one whose query words weigh most (``share``
    says how common a word is in the hit's language); where no word matches
    (a passage in another language) and ``semantic`` is on, the one nearest
    the query by embedding, for the first few such hits. Their sentence
    vectors come from ``stored`` (embedded at build time) where it has
    them, else they are embedded now. Words in more than COMMON_SHARE of
    the passages still choose the sentence but are not marked. ``finnish``:
    the index's Finnish analyses of a text's words (kb/text/morphology.py)."""
    fi_text = " ".join(h.text for h in hits if h.lang == "fi")
    analyses = finnish(f"{query} {fi_text}") if finnish else None
    terms = content_terms(query, analyses)
    term_marks = [_term_marks(h, terms, share, analyses) for h in hits]
    best: dict[int, Span] = {}
    to_embed: dict[int, list[Span]] = {}
    for i, h in enumerate(hits):
        spans = body_spans(h.text, h.section)
        if len(spans) < 2:
            continue
        chosen = _best_lexical(h.text, spans, term_marks[i])
        if chosen is not None:
            best[i] = chosen
        elif semantic and len(to_embed) < SEMANTIC_HIGHLIGHTS:
            to_embed[i] = spans
    if to_embed:
        if qvec is None:
            qvec = embedder.embed_queries([query])
        best.update(_nearest(embedder, hits, to_embed, qvec[0], stored))
    out = []
    for i, h in enumerate(hits):
        spans = [Highlight(*best[i], HighlightKind.SENTENCE)] if i in best else []
        spans += [
            Highlight(s, e, HighlightKind.TERM)
            for s, e, w in term_marks[i]
            if w >= 1.0 - COMMON_SHARE
        ]
        out.append(replace(h, highlights=tuple(sorted(spans, key=lambda x: (x.start, x.end)))))
    return out


def _nearest(
    embedder: Embedder,
    hits: list[Hit],
    to_embed: dict[int, list[Span]],
    qvec: np.ndarray,
    stored: StoredSentences | None,
) -> dict[int, Span]:
    """Each hit's sentence nearest ``qvec``, whole sentences before pieces
    cut by the chunk's edge; vectors from ``stored`` where it has them,
    the others embedded in one call."""
    vectors = {i: stored(hits[i], spans) if stored else None for i, spans in to_embed.items()}
    missing = [i for i, v in vectors.items() if v is None]
    if missing:
        texts = [hits[i].text[s:e] for i in missing for s, e in to_embed[i]]
        fresh = embedder.embed_passages(texts)
        at = 0
        for i in missing:
            vectors[i] = fresh[at : at + len(to_embed[i])]
            at += len(to_embed[i])
    out = {}
    for i, spans in to_embed.items():
        sims = vectors[i] @ qvec
        whole = [j for j, span in enumerate(spans) if not _fragment(hits[i].text, span)]
        out[i] = spans[max(whole or range(len(spans)), key=lambda j: sims[j])]
    return out


__all__ = [
    "body_spans",
    "closes_mid_sentence",
    "heading_end",
    "highlight",
    "opens_mid_sentence",
    "sentence_spans",
]
