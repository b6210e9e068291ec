"""The real documents beside the checkout (../shared/testdata, or
``KB_SHARED``): paths to them, or a skip that says why they are absent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kb.settings import PROJECT_ROOT

SHARED = Path(os.environ.get("KB_SHARED", PROJECT_ROOT.parent / "shared"))
TESTDATA = SHARED / "testdata"


def needs_testdata(*parts: str) -> Path:
    """A path under ../shared/testdata, or skip the test with the reason."""
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared/testdata is not beside this checkout")
    return path


def finlex_corpus(root: Path, sources: str | None = None) -> Path:
    """A corpus folder under ``root`` holding the finlex PDFs (and ``sources``
    as its sources.toml), or skip where ../shared is absent."""
    src = needs_testdata("finlex")
    corpus = root / "corpus"
    corpus.mkdir()
    for pdf in src.glob("*.pdf"):
        shutil.copy(pdf, corpus / pdf.name)
    if sources is not None:
        (corpus / "sources.toml").write_text(sources, encoding="utf-8")
    return corpus
