"""A deterministic fake embedder: a hashed bag of words. No model, no network."""

from __future__ import annotations

import hashlib
import re

import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class FakeEmbedder:
    name = "fake-bag-of-words"
    fingerprint = "fake-v1"
    passage_overhead = 4

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.embedded: list[str] = []  # every passage it was asked to embed

    @property
    def dim(self) -> int:
        return self._dim

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for word in _TOKEN.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            v[h % self._dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        texts = list(texts)
        self.embedded.extend(texts)
        if progress:
            progress(len(texts))
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self._dim)

    def embed_queries(self, texts) -> np.ndarray:
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self._dim)


class NoTies(FakeEmbedder):
    """The fake embedder, plus a small component drawn from each text's own
    hash: no two passages tie in cosine, so two exact searches must agree on
    the order, not only on the set."""

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "little")
        v = super()._vector(text) + 0.05 * np.random.default_rng(seed).standard_normal(self.dim)
        return (v / np.linalg.norm(v)).astype(np.float32)
