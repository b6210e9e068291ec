"""Progress of a command, drawn at the command line's edge.

On a terminal: one tqdm bar per stage, with counts, rate and time left,
redrawn at least every second (so a long model load or PDF extraction
still shows its clock moving). Elsewhere (a CI log, a pipe): one line per
stage as it starts, once its count is known. ``--quiet``: nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from enum import StrEnum
from typing import TextIO

from ingest.progress import Stage

REFRESH_SECONDS = 1.0


class Display(StrEnum):
    BARS = "bars"
    LINES = "lines"
    QUIET = "quiet"


def choose_display(quiet: bool, stream: TextIO | None = None) -> Display:
    stream = stream or sys.stderr
    if quiet:
        return Display.QUIET
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Display.BARS if tty else Display.LINES


class StageBars:
    """A ``StageProgress`` callback (ingest/progress.py) that shows each
    stage; a context manager that closes the last bar. ``start()`` shows
    the first stage at once, before the library has counted anything."""

    def __init__(
        self, display: Display, stream: TextIO | None = None, prefix: str = "build"
    ) -> None:
        self.display = display
        self.stream = stream or sys.stderr
        self.prefix = prefix
        self.stage: Stage | None = None
        self._announced = False  # the stage's line is printed (not on a terminal)
        self.bar = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> StageBars:
        if self.display is Display.BARS:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            self._close()

    def start(self, stage: Stage) -> None:
        self(stage, 0, 0)

    def __call__(self, stage: Stage, done: int, total: int) -> None:
        with self._lock:
            if stage is not self.stage:
                self._begin(stage, total)
            elif self.display is Display.LINES and total and not self._announced:
                self._line(stage, total)
            elif self.bar is not None:
                if total and self.bar.total != total:
                    self.bar.total = total
                self.bar.update(done - self.bar.n)

    def write(self, line: str, stream: TextIO | None = None) -> None:
        """Print a line of the command's own (above the bar, on a terminal),
        to ``stream`` (default: where the bars go)."""
        with self._lock:
            if self.bar is not None:
                self.bar.write(line, file=stream or self.stream)
            else:
                print(line, file=stream or self.stream, flush=True)

    def _begin(self, stage: Stage, total: int) -> None:
        self._close()
        self.stage = stage
        self._announced = False
        if self.display is Display.LINES and total:
            self._line(stage, total)
        elif self.display is Display.BARS:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total or None,
                desc=stage.value,
                unit=stage.unit,
                file=self.stream,
                mininterval=0.2,
                dynamic_ncols=True,
                leave=True,
            )

    def _line(self, stage: Stage, total: int) -> None:
        """The stage's one line, once its count is known."""
        self._announced = True
        unit = f"{stage.unit}{'s' if total != 1 else ''}"
        stamp = time.strftime("%H:%M:%S")
        print(f"{self.prefix} {stamp} {stage.value}: {total} {unit}", file=self.stream, flush=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            with self._lock:
                if self.bar is not None:
                    self.bar.refresh()
