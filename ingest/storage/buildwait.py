"""Edits and builds of one corpus, in turn (issue 24, fault 6).

A build holds the corpus folder's edit lock (``.library.lock``, the one
ingest/corpus/library.py takes to add or remove a document) *shared* from before it
reads the corpus until its new index is live; an edit takes it *exclusive*.
So a document removed while a build runs is removed when that build is
done, never under it (no index swapped in that holds a file already gone),
and the page's rebuild after the edit then drops it. A build the page asks
for while another runs waits its turn (:func:`build_in_turn`) instead of
being refused.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.errors import BuildLockedError

logger = logging.getLogger(__name__)

EDIT_LOCK = ".library.lock"  # ingest/corpus/library.py's
WAIT_POLL = 0.5  # seconds between tries of a queued build
MAX_WAIT = 6 * 3600.0


@contextmanager
def corpus_read_lock(corpus: Path) -> Iterator[None]:
    """Hold ``corpus``'s edit lock shared (waiting for an edit to finish).
    A corpus folder the build cannot write to has no edits to wait for."""
    try:
        fd = os.open(corpus / EDIT_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    from kb.index import folder as store

    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        store._HELD.add(fd)  # forked readers let go of it (store._release_in_child)
        yield
    finally:
        store._HELD.discard(fd)
        os.close(fd)


def build_in_turn(build, *args, max_wait: float = MAX_WAIT, **kw):
    """``build(*args, **kw)`` (build_index), waiting while another build holds
    the index's lock rather than giving up: a rebuild asked for meanwhile is
    queued, not dropped. BuildLockedError only after ``max_wait`` seconds."""
    end = time.monotonic() + max_wait
    while True:
        try:
            return build(*args, **kw)
        except BuildLockedError:
            if time.monotonic() >= end:
                raise
            logger.info("another build is running; this one waits its turn")
            time.sleep(WAIT_POLL)
