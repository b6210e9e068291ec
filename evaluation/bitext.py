"""Bitext retrieval accuracy (the Tatoeba test): for each sentence, is its
nearest neighbour on the other side its translation?"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def read_pairs(folder: Path, lang: str, limit: int | None = None) -> tuple[list[str], list[str]]:
    """(sentences in ``lang``, their English translations) from tatoeba.<lang>-eng.*"""
    src = (folder / f"tatoeba.{lang}-eng.{lang}").read_text(encoding="utf-8").splitlines()
    eng = (folder / f"tatoeba.{lang}-eng.eng").read_text(encoding="utf-8").splitlines()
    if len(src) != len(eng):
        raise ValueError(f"{folder}: {lang} has {len(src)} lines, English {len(eng)}")
    return src[:limit], eng[:limit]


def bitext_accuracy(embedder, source: Sequence[str], target: Sequence[str]) -> float:
    """Share of source sentences whose nearest target (cosine) is their translation.

    Both sides are embedded as queries, the usual setting for e5 on this task.
    """
    a = embedder.embed_queries(list(source))
    b = embedder.embed_queries(list(target))
    nearest = (a @ b.T).argmax(axis=1)
    return float((nearest == np.arange(len(source))).mean())
