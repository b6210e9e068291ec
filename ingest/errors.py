"""Typed errors. The library raises them; the CLI and the app translate them."""

from __future__ import annotations

from pathlib import Path


class KBError(Exception):
    """Base class for every error this project raises on purpose."""


class ExtractionError(KBError):
    """A source file could not be read into text. Names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class IndexError_(KBError):
    """The index folder is missing, corrupt, or was built differently."""

    advice = "rebuild it with `python -m ingest`"

    def __init__(self, index_dir: Path | str, reason: str) -> None:
        super().__init__(f"index at {index_dir}: {reason}; {self.advice}")
        self.index_dir = str(index_dir)
        self.reason = reason


class IndexMissingError(IndexError_):
    advice = "build it with `python -m ingest` (or `make run`)"


class IndexCorruptError(IndexError_):
    pass


class IndexMismatchError(IndexError_):
    """Built with another model, format version or chunk settings."""


class BuildLockedError(KBError):
    """Another build holds the index lock."""
