"""Where a build writes: the index folder (store.py) or PostgreSQL
(pgstore.py), chosen by one setting (``KB_BACKEND``). Both answer the same
few questions, so the pipeline is one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.errors import IndexError_
from kb.index.live import live_manifest
from kb.index.manifest import Manifest
from kb.records import Chunk
from kb.settings import Settings
from kb.text.lexical import Analyses


class PreviousIndex(Protocol):
    """The live generation as a build reuses it."""

    name: str
    manifest: Manifest
    chunks: list[Chunk]
    analyses: Analyses  # its Finnish words' index terms, reused by the next build

    def vectors(self, rows: list[int]) -> np.ndarray: ...


class IndexStore(Protocol):
    def lock(self): ...
    def remove_stale(self) -> list[str]: ...
    def previous(self) -> PreviousIndex | None: ...
    def has_index(self) -> bool: ...

    keeps_sentences: bool  # whether write() stores sentence vectors (kb/text/sentences.py)

    def write(
        self,
        vectors: np.ndarray,
        chunks: list[Chunk],
        manifest: Manifest,
        sentences=None,
        analyses: Analyses | None = None,
    ) -> str: ...
    def close(self) -> None: ...


class FileStore:
    """The index folder, as it has always been written."""

    keeps_sentences = True

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    @contextmanager
    def lock(self) -> Iterator[None]:
        from kb.index.folder import build_lock

        with build_lock(self.index_dir):
            yield

    def remove_stale(self) -> list[str]:
        from kb.index.folder import remove_stale

        return remove_stale(self.index_dir)

    def previous(self) -> PreviousIndex | None:
        """The live generation; None (with a warning by the caller) when
        there is none or it cannot be read."""
        from kb.index.folder import load_generation

        return load_generation(self.index_dir)

    def has_index(self) -> bool:
        from kb.index.folder import CURRENT

        return (self.index_dir / CURRENT).exists()

    def write(
        self,
        vectors: np.ndarray,
        chunks: list[Chunk],
        manifest: Manifest,
        sentences=None,
        analyses: Analyses | None = None,
    ) -> str:
        from kb.index.folder import write_generation

        return write_generation(self.index_dir, vectors, chunks, manifest, sentences, analyses).name

    def close(self) -> None:
        pass


def live_name(settings: Settings) -> str | None:
    """The live generation's name; None when there is none or it cannot be read."""
    try:
        return live_manifest(settings.index_dir, settings.backend)[0]
    except IndexError_:
        return None


def open_store(settings: Settings) -> IndexStore:
    """The store that ``settings`` names: PostgreSQL when ``backend`` is set."""
    if settings.uses_postgres:
        from ingest.storage.pgstore import PgStore

        return PgStore(settings.backend)
    return FileStore(settings.index_dir)


__all__ = ["FileStore", "IndexStore", "PreviousIndex", "live_manifest", "live_name", "open_store"]
