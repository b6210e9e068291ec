"""A page process's share of feedback, for tests/system/test_feedback.py: waits for
a start file, then records verdicts ``<name>-0``, ``<name>-1``, ... through
search/feedback.py, printing each number once its record is committed.

    python -m testsupport.feedbackwriter STORE NAME START STOP [STALL_AT]

It ends when the file STOP exists. With STALL_AT, the record of that number
stops at the ``feedback`` failpoint (inserted, not committed) and waits
there to be killed, holding the store's write lock."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kb.failpoints import ENV
from search.feedback import FAILPOINT, Feedback, FeedbackStore, Verdict

MAX_RECORDS = 100_000


def main(argv: list[str]) -> int:
    store_file, name, start, stop = argv[:4]
    stall_at = int(argv[4]) if len(argv) > 4 else -1
    store = FeedbackStore(Path(store_file))
    while not Path(start).exists():
        time.sleep(0.01)
    for n in range(MAX_RECORDS):
        if Path(stop).exists():
            return 0
        if n == stall_at:
            os.environ[ENV] = FAILPOINT
        verdict = Verdict.ANSWERED if n % 2 else Verdict.DID_NOT
        doc = ("laki-fi", "laki", ("1 luku Yleiset", f"{n} § Pykälä")) if n % 3 else (None, "", ())
        store.add(Feedback(f"{name}-{n}", "fi", verdict, "gen-test", *doc))
        print(n, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
