"""Typed errors. The library raises them; the CLI and the app translate them."""

from __future__ import annotations

from pathlib import Path


class KBError(Exception):
    """Base class for every error this project raises on purpose; ``reason``
    is the part a caller may show on its own (without the file or index)."""

    def __init__(self, message: object = "", reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = str(message) if reason is None else reason


class ExtractionError(KBError):
    """A source file could not be read into text. Names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}", reason)
        self.path = str(path)


class IndexError_(KBError):
    """The index folder is missing, corrupt, or was built differently."""

    advice = "rebuild it with `python -m ingest`"

    def __init__(self, index_dir: Path | str, reason: str) -> None:
        super().__init__(f"index at {index_dir}: {reason}; {self.advice}", reason)
        self.index_dir = str(index_dir)


class IndexMissingError(IndexError_):
    advice = "build it with `python -m ingest` (or `make run`)"


class IndexCorruptError(IndexError_):
    pass


class IndexMismatchError(IndexError_):
    """Built with another model, format version or chunk settings."""


class IndexWriteError(KBError):
    """A build could not write its new generation (full disk, read-only
    folder...). The previous index is untouched and stays live."""

    def __init__(self, index_dir: Path | str, reason: str) -> None:
        super().__init__(
            f"cannot write the index at {index_dir}: {reason}; the previous index is unchanged"
        )
        self.index_dir = str(index_dir)
        self.reason = reason


class BuildLockedError(KBError):
    """Another build holds the index lock."""


class BackendError(KBError):
    """The PostgreSQL backend cannot serve: ``where`` is the server's address
    without its password, ``reason`` what went wrong."""

    advice = ""

    def __init__(self, where: str, reason: str) -> None:
        tail = f"; {self.advice}" if self.advice else ""
        super().__init__(f"PostgreSQL at {where}: {reason}{tail}")
        self.where = where
        self.reason = reason


class BackendUnavailableError(BackendError):
    """A wrong address, a refused connection, a server that went away. The
    live generation is untouched and answers again once the server is back."""

    advice = "check KB_BACKEND and that the server is running; the index there is unchanged"


class BackendSchemaError(BackendError):
    """The database lacks pgvector, or holds a schema of another format version."""


class SettingsError(KBError, ValueError):
    """A setting (a KB_* environment variable or an option) has an invalid value."""


class AdaptError(KBError):
    """``python -m ingest adapt`` cannot adapt the model; the model and the
    index in use stay as they are."""


class TooFewPairsError(AdaptError):
    """The corpus gives too few training pairs to adapt the model on."""

    def __init__(self, found: int, needed: int) -> None:
        super().__init__(
            f"the index gives {found} training pairs, fewer than the {needed} needed to adapt "
            "the model; add documents (with headings) or keep the base model",
            f"{found} training pairs, fewer than {needed}",
        )
        self.found, self.needed = found, needed
