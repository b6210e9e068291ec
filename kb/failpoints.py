"""Named points where a crash test can stop a build and kill it, in the
manner of etcd's gofail failpoints and SQLite's test hooks.

With ``KB_FAILPOINT=<name>`` in the environment, a process that reaches the
point ``<name>`` writes the name to the file named by
``KB_FAILPOINT_SIGNAL`` and sleeps until it is killed. Without it (always,
outside the kill tests) a point costs one dictionary lookup and does
nothing.

The points of a build, in order:

- ``extract``: PDFs are being read in child processes;
- ``embed``: the first batch of new passages has been embedded;
- ``write``: the new generation's vectors and chunk records are written to
  its temporary folder, the manifest is not;
- ``swap``: the new generation is complete and renamed, ``CURRENT`` still
  names the old one.

Outside a build (not in ``POINTS``, which the build's kill test walks):

- ``feedback``: a reader's verdict is inserted into the feedback store, its
  transaction not yet committed (search/feedback.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("extract", "embed", "write", "swap")
ENV, SIGNAL_ENV = "KB_FAILPOINT", "KB_FAILPOINT_SIGNAL"


def reached(name: str) -> None:
    """Stop here for good if the environment asks for this point."""
    if os.environ.get(ENV) != name:
        return
    signal_file = os.environ.get(SIGNAL_ENV)
    if signal_file:
        Path(signal_file).write_text(name, encoding="utf-8")
    while True:
        time.sleep(60)
