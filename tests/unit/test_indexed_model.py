"""kb/model/indexed.py: where no model is configured, the adapted model
that the live index was built with, found in the model cache."""

from __future__ import annotations

import json
from dataclasses import replace

from kb.model.bars import RECORD_FILE
from kb.model.convert import MARKER_FILE, model_fingerprint
from kb.model.indexed import adapted_folder, indexed_model
from kb.settings import Settings


def model_folder(cache, name: str, fingerprint: str, adapted: bool = True):
    folder = cache / "models" / name
    folder.mkdir(parents=True)
    (folder / MARKER_FILE).write_text(json.dumps({"fingerprint": fingerprint}))
    if adapted:
        (folder / RECORD_FILE).write_text("{}")
    return folder


def test_only_a_complete_adapted_folder_of_that_fingerprint_is_found(tmp_path):
    cache = tmp_path / "cache"
    assert adapted_folder(cache / "models", "x") is None  # no cache yet
    one = model_folder(cache, "e5-adapted-one", "one")
    model_folder(cache, ".adapt-123-ab", "two")  # still being written: hidden
    model_folder(cache, "e5", "three", adapted=False)  # a base model
    models = cache / "models"
    assert adapted_folder(models, model_fingerprint(one)) == one
    for name in (".adapt-123-ab", "e5"):
        assert adapted_folder(models, model_fingerprint(models / name)) is None


def test_the_index_model_is_used_only_where_no_model_is_configured(tmp_path):
    from ingest.pipeline import build_index
    from testsupport.fakes import FakeEmbedder

    settings = Settings(
        corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"
    )
    assert indexed_model(settings) == settings  # no index yet
    settings.corpus_dir.mkdir(exist_ok=True)
    (settings.corpus_dir / "laki.fi.md").write_text("# 1 § Laki\n\nTeksti.\n", encoding="utf-8")
    build_index(settings, embedder=FakeEmbedder())
    assert indexed_model(settings) == settings  # the fake model: no adapted folder
    folder = model_folder(settings.cache_dir, "fake-adapted", "fake")
    adapted = FakeEmbedder()
    adapted.fingerprint = model_fingerprint(folder)
    build_index(settings, embedder=adapted)  # as if built with the adapted model
    assert indexed_model(settings).model == str(folder)
    assert indexed_model(settings, tmp_path / "other").model is None  # another index folder
    configured = replace(settings, model="/somewhere/else")
    assert indexed_model(configured) == configured  # KB_MODEL wins
