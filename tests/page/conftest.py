"""The page tests' fixtures (the root tests/conftest.py isolates each test)."""

from __future__ import annotations

import pytest


@pytest.fixture
def indexed(settings):
    """A built index of one Swedish page, for the documents view's tests."""
    from ingest.pipeline import build_index

    (settings.corpus_dir / "sida.sv.md").write_text(
        "# Upphandlingar\n\nUpphandlande enheter främjar innovationer.\n", encoding="utf-8"
    )
    build_index(settings)
    return settings
