"""The rough edges of issue 27 (item 3): each with a test that failed before
its fix. Fake embedder; no browser (tests/test_browser_edges.py has those)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ingest.pipeline import build_index
from ingest.progress import Stage
from kb.index.folder import load_generation
from tests.fakes import FakeEmbedder


# ------------------------------------------------ 2. built when it finished


def test_built_and_indexed_say_when_the_build_finished(settings):
    (settings.corpus_dir / "a.fi.md").write_text("# A\n\nHankinnat ovat tärkeitä.\n")
    writing = []

    def stages(stage, done, total):
        if stage is Stage.PASSAGES and done == 0:
            time.sleep(1.2)  # a long build: embedding takes its time
        if stage is Stage.WRITING and done == 0:
            writing.append(datetime.now(UTC).replace(microsecond=0))

    build_index(settings, embedder=FakeEmbedder(), stages=stages)
    manifest = load_generation(settings.index_dir).manifest
    assert writing
    assert datetime.fromisoformat(manifest["created"]) >= writing[0]
    (entry,) = manifest["files"].values()
    assert datetime.fromisoformat(entry["indexed_at"]) >= writing[0]
    assert datetime.fromisoformat(manifest["started"]) < writing[0]  # and when it began
