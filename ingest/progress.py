"""What a build (or a fetch) is doing, stage by stage, for whoever shows it.

The library reports through a callback, ``StageProgress(stage, done,
total)``: ``done`` of ``total`` items of ``stage`` are finished (``total``
0: not known yet). A stage is reported first with ``done`` 0, as it
starts. The command line draws bars from these calls (ingest/cliprogress.py);
the library never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from kb.choices import Choice


class Stage(StrEnum):
    READING = "reading"
    PASSAGES = "embedding passages"
    SENTENCES = "embedding sentences"
    ANALYSING = "analysing Finnish words"  # kb/text/morphology.py, in a child process
    WRITING = "writing"
    FETCHING = "fetching"  # python -m ingest fetch: sources done
    MINING = "mining pairs"  # python -m ingest adapt: passages read
    TRAINING = "training"  # python -m ingest adapt: optimiser steps
    CALIBRATING = "calibrating"  # python -m ingest adapt: held-out queries asked of both models
    EXPORTING = "exporting"  # python -m ingest adapt: the model and its query encoder

    @property
    def unit(self) -> str:
        return {
            Stage.READING: "file",
            Stage.PASSAGES: "passage",
            Stage.SENTENCES: "sentence",
            Stage.ANALYSING: "word",
            Stage.WRITING: "step",
            Stage.FETCHING: "source",
            Stage.MINING: "passage",
            Stage.TRAINING: "step",
            Stage.CALIBRATING: "model",
            Stage.EXPORTING: "step",
        }[self]


class FileOutcome(Choice):
    """What a build did with one corpus file (``pipeline.FileResult``)."""

    INDEXED = "indexed"  # read, chunked and embedded
    UNCHANGED = "unchanged"  # its chunks and vectors kept from the live index
    FAILED = "failed"  # unreadable: the result's error says why
    REMOVED = "removed"  # no longer in the corpus


StageProgress = Callable[[Stage, int, int], None]


def no_progress(stage: Stage, done: int, total: int) -> None:
    """The callback of a build nobody watches."""
