"""Reading source files, each in a reader process with a time limit.

Every format (PDF, Markdown, HTML, text) is read in a child process,
``settings.workers`` at a time, each with ``settings.file_timeout`` seconds:
a reader that takes longer is killed and its file reported, one that dies
takes only its own file down, and an unexpected error inside a reader is
reported against its file. A reader dies with the build that started it
(``PR_SET_PDEATHSIG`` on Linux, a watcher thread elsewhere), so a killed
build leaves no process behind; and it holds no copy of the build lock
(``store.build_lock`` lets go of it in every forked child).
"""

from __future__ import annotations

import logging
import os
import time
from multiprocessing import connection as mp_connection
from pathlib import Path

from ingest.reading.clean import clean_pages
from ingest.reading.extract import extract
from ingest.reading.sandbox import context, die_with_parent, limit_memory
from ingest.reading.structure import HeadingFinder
from ingest.reading.titles import whole_title
from kb import failpoints
from kb.errors import ExtractionError
from kb.records import Page
from kb.settings import Settings

logger = logging.getLogger(__name__)

UNEXPECTED = "unexpected error while reading"


def read_pages(path: Path, settings: Settings) -> tuple[str, list[Page]]:
    """Extract, clean and find headings: (title hint, cleaned pages)."""
    raw = extract(path, settings.max_file_mb * 1_000_000, settings.max_pages)
    texts = clean_pages([text for _, text in raw.pages])
    finder = HeadingFinder(raw.hints)
    pages = [
        Page(number=i + 1, label=label, text=text, headings=finder.find(i + 1, text))
        for i, ((label, _), text) in enumerate(zip(raw.pages, texts, strict=True))
    ]
    if not any(p.text for p in pages):
        raise ExtractionError(path, "no text left after cleaning")
    return whole_title(raw.title_hint, [text for _, text in raw.pages]), pages


def _read_pages_or_reason(path: Path, settings: Settings):
    """The result, or the reason as a plain string (an ExtractionError with
    its two arguments does not survive pickling). An exception of any other
    type is a bug in a reader: it becomes a reason too, marked as unexpected,
    so one strange file never stops a build."""
    try:
        return read_pages(path, settings)
    except ExtractionError as exc:
        return exc.reason
    except RecursionError:
        return "corrupt PDF (structure nested too deeply)"
    except MemoryError:
        return "file needs more memory than is available to read"
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.exception("%s: unexpected error while reading", path)
        return f"{UNEXPECTED} ({type(exc).__name__}: {str(exc)[:160]})"


def _reader_child(conn, path: Path, settings: Settings, parent: int) -> None:
    """Entry point of a reader process: one file, its result down the pipe."""
    die_with_parent(parent)
    limit_memory(settings.reader_mb)
    try:
        conn.send(_read_pages_or_reason(path, settings))
    finally:
        conn.close()


def extract_many(paths: list[Path], settings: Settings) -> dict[Path, object]:
    """Read many files: path → (title hint, pages) or ExtractionError.

    Every file is read in a child process (see the module's docstring); a
    child is forked, so no pickling of settings and no re-import. With
    ``file_timeout`` 0 and one worker, files are read in this process,
    unguarded.
    """
    if paths and (settings.file_timeout > 0 or settings.workers > 1):
        return _read_in_children(paths, settings)
    out: dict[Path, object] = {}
    for path in paths:
        value = _read_pages_or_reason(path, settings)
        out[path] = ExtractionError(path, value) if isinstance(value, str) else value
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_in_children(paths: list[Path], settings: Settings) -> dict[Path, object]:
    ctx = context()
    limit = settings.file_timeout or None
    waiting = sorted(paths, key=_size, reverse=True)  # largest first
    running: dict[object, tuple[object, Path, float | None]] = {}
    out: dict[Path, object] = {}
    workers = max(1, settings.workers)
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                path = waiting.pop(0)
                receive, send = ctx.Pipe(duplex=False)
                args = (send, path, settings, os.getpid())
                proc = ctx.Process(target=_reader_child, args=args, daemon=True)
                proc.start()
                send.close()
                deadline = time.monotonic() + limit if limit else None
                running[receive] = (proc, path, deadline)
            failpoints.reached("extract")
            deadlines = [d for _, _, d in running.values() if d is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            for conn in mp_connection.wait(list(running), timeout):
                proc, path, _ = running.pop(conn)
                out[path] = _collect(conn, proc, path)
            now = time.monotonic()
            for conn, (proc, path, deadline) in list(running.items()):
                if deadline is not None and now >= deadline:
                    _stop(conn, proc)
                    del running[conn]
                    reason = (
                        f"reading took longer than {settings.file_timeout} s (KB_FILE_TIMEOUT); "
                        "skipped"
                    )
                    out[path] = ExtractionError(path, reason)
    finally:
        for conn, (proc, _, _) in running.items():
            _stop(conn, proc)
    return out


def _collect(conn, proc, path: Path) -> object:
    """The result a reader sent, or the error it died of."""
    try:
        value = conn.recv()
    except (EOFError, OSError):
        value = None
    conn.close()
    proc.join()
    if value is None:
        value = f"the reader crashed on this file (exit code {proc.exitcode})"
    return ExtractionError(path, value) if isinstance(value, str) else value


def _stop(conn, proc) -> None:
    proc.kill()
    proc.join()
    conn.close()
