"""Typed errors. The library raises them; the CLI and the app translate them."""

from __future__ import annotations

import errno
import os
import sys
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


_CONTROL = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_CONTROL.update(
    {c: f"\\u{c:04x}" for c in (0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F))}
)
_CONTROL.update({c: f"\\u{c:04x}" for c in range(0x2066, 0x206A)})


def printable(text: object) -> str:
    """``text`` made safe for a terminal line: control characters (escape
    sequences, newlines, carriage returns), bidirectional overrides and lone
    surrogates are shown as backslash escapes, so a file name can neither
    recolour or clear the terminal nor forge a line of its own."""
    s = str(text).translate(_CONTROL)
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does
    not fail a second time on what could not be written."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor behind it
        pass


# What a write to stdout fails with when its disk or device cannot take it.
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EIO", "EDQUOT", "EFBIG") if hasattr(errno, name)
)


def run_cli(main, argv: list[str] | None = None) -> int:
    """A command line's ``main`` with its output's failures translated: a
    closed pipe (``… | head``) ends quietly with exit 0, the reader had what
    it wanted; output that cannot be written (a full disk) is a one-line
    error and exit 1, never a traceback. Any other error is left alone."""
    try:
        code = main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _stdout_to_devnull()
        return 0
    except OSError as exc:
        if exc.errno not in _WRITE_ERRNOS or exc.filename is not None:
            raise
        _stdout_to_devnull()
        print(f"error: the output could not be written: {printable(exc)}", file=sys.stderr)
        return 1
