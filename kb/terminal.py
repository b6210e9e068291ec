"""The command lines' shared edge: text made safe for a terminal line, and
``run_cli``, which translates what writing the output can fail with."""

from __future__ import annotations

import errno
import os
import sys
from enum import IntEnum


class ExitCode(IntEnum):
    """What both command lines exit with (``python -m ingest`` and ``python -m search``)."""

    OK = 0
    PARTIAL = 1  # some inputs failed (files skipped, queries refused); the rest is done
    USAGE = 2  # bad settings, options, sources.toml or query; another build running
    FAILED = 3  # nothing could be done: the index could not be written or read
    INTERRUPTED = 130  # Ctrl+C


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
        return ExitCode.PARTIAL
