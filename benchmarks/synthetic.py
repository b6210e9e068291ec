"""A synthetic index of distinct passages, for measuring search at scale.

benchmarks/query.py ``scale`` copies the finlex index until it holds the
size asked: at a million passages each text appears 765 times. That
measures duplicates more than scale: every BM25 list is runs of identical
weights, and the first ten hits are ten copies of one text. ``mix`` makes
each passage distinct instead: a source passage's pieces (runs of
PIECE_WORDS words), about half of them replaced by pieces of one passage
drawn in the same language (the donor; now and then itself), with a vector
between the two in proportion to what each gave, jittered as the copies
are. A passage of k pieces keeps all its own words with chance 0.5^k, so
short passages repeat (of 13,080, 97 % were distinct). The vectors are
made at once: about 8 GB at a million passages. Words, languages, lengths and metadata stay
those of the Act; no text is invented.

    scale(...)  ->  765 copies of 1,308 texts
    mix(...)    ->  a million texts, each from two passages' pieces
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

PIECE_WORDS = 12
SWAP_SHARE = 0.5  # the chance that a piece is the donor's
JITTER = 0.02  # as the copies'


def pieces(text: str) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + PIECE_WORDS]) for i in range(0, len(words), PIECE_WORDS)]


def mixed_text(own: list[str], donor: list[str], rng) -> tuple[str, float]:
    """The passage's pieces, each replaced by one of the donor's with
    chance SWAP_SHARE; the text and the donor's share of its characters."""
    out, given = [], 0
    for s in own:
        if donor and rng.random() < SWAP_SHARE:
            s = donor[int(rng.integers(len(donor)))]
            given += len(s)
        out.append(s)
    text = " ".join(out)
    return text, given / max(1, len(text))


def mix(source: Path, target: Path, n_chunks: int, seed: int = 0) -> Path:
    """A synthetic index of ``n_chunks`` distinct passages made from the
    passages of ``source`` (module docstring)."""
    import numpy as np

    from kb.index.folder import load_generation, write_generation

    gen = load_generation(source)
    base = gen.vectors(list(range(gen.index.ntotal)))
    rng = np.random.default_rng(seed)
    split = [pieces(c.text) for c in gen.chunks]
    by_lang: dict[str, np.ndarray] = {}
    for i, c in enumerate(gen.chunks):
        by_lang.setdefault(c.lang, []).append(i)
    by_lang = {lang: np.asarray(rows) for lang, rows in by_lang.items()}
    n = len(gen.chunks)
    own = np.arange(n_chunks) % n
    donors = np.empty(n_chunks, dtype=np.int64)
    shares = np.empty(n_chunks, dtype=np.float32)
    chunks = []
    for row in range(n_chunks):
        c = gen.chunks[own[row]]
        pool = by_lang[c.lang]
        donors[row] = pool[int(rng.integers(len(pool)))]
        text, shares[row] = mixed_text(split[own[row]], split[donors[row]], rng)
        copy = row // n
        chunks.append(
            replace(
                c,
                text=text,
                doc_id=f"{c.doc_id}-m{copy}",
                chunk_id=f"{c.chunk_id}-m{copy}",
                group=f"{c.group}-m{copy}",
            )
        )
    vectors = (1 - shares)[:, None] * base[own] + shares[:, None] * base[donors]
    vectors += rng.normal(0, JITTER, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = replace(gen.manifest, counts=replace(gen.manifest.counts, chunks=n_chunks))
    # Sentence vectors are the source passage's (unused without highlights).
    sentence_store = gen.sentences.take(list(own)) if gen.sentences is not None else None
    write_generation(target, vectors.astype(np.float32), chunks, manifest, sentence_store)
    return target
