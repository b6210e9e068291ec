"""Loading the default model prints nothing a newcomer would take for a
fault: no "LOAD REPORT ... pooler MISSING", no "Loading weights" bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.model.embedder import load_transformer, resolve_model
from kb.settings import load_settings


@pytest.mark.model
def test_transformer_loads_without_pooler_and_quietly(capfd):
    path, _, _ = resolve_model(load_settings())
    capfd.readouterr()
    model = load_transformer(Path(path))
    out, err = capfd.readouterr()
    assert model.pooler is None
    assert "LOAD REPORT" not in out + err
    assert "MISSING" not in out + err
    assert "Loading weights" not in out + err
