"""The model an index was built with, used where no model is configured.

An index built with an adapted model (``python -m ingest adapt --use``, or
``KB_MODEL`` naming its folder) records that model's fingerprint in its
manifest. Where ``KB_MODEL`` is not set, a build and a searcher look for
that model among the adapted folders of the model cache and use it: the
adapted model stays in use across builds (an incremental build re-embeds
only what changed, with the same model), and ``python -m search``, the page
and the PostgreSQL backend need no setting. ``KB_MODEL``, where set, wins;
an index whose adapted model is gone from the cache is an index of another
model, as before (IndexMismatchError when searched, re-embedded when built).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from kb.errors import BackendError, IndexError_
from kb.index.live import live_manifest
from kb.model.bars import RECORD_FILE
from kb.model.convert import MARKER_FILE, model_fingerprint
from kb.settings import Settings

logger = logging.getLogger(__name__)


def adapted_folders(cache: Path) -> list[Path]:
    """The complete adapted models in ``cache`` (not one still being
    written: those are hidden)."""
    if not cache.is_dir():
        return []
    return [
        folder
        for folder in sorted(cache.iterdir())
        if not folder.name.startswith(".")
        and (folder / RECORD_FILE).is_file()
        and (folder / MARKER_FILE).is_file()
    ]


def adapted_folder(cache: Path, fingerprint: str) -> Path | None:
    """The complete adapted model in ``cache`` whose fingerprint is ``fingerprint``."""
    return next((f for f in adapted_folders(cache) if model_fingerprint(f) == fingerprint), None)


def indexed_model(
    settings: Settings, index_dir: Path | None = None, backend: str | None = None
) -> Settings:
    """``settings`` with ``model`` set to the adapted model that the live
    index (in ``index_dir``, default ``settings.index_dir``; or in the
    PostgreSQL of ``backend``, default ``settings.backend``: a searcher
    passes its read replica's) was built with, where no model is configured
    and that model is in the cache; otherwise ``settings`` as they are."""
    if settings.model is not None or not adapted_folders(settings.model_cache):
        return settings  # the index is not read where no adapted model could match
    try:
        _, manifest = live_manifest(
            index_dir or settings.index_dir, settings.backend if backend is None else backend
        )
    except (IndexError_, BackendError):
        return settings  # no index, or none readable: the build or the load says so
    folder = adapted_folder(settings.model_cache, manifest.model.fingerprint)
    if folder is None:
        return settings
    logger.info("the index was built with the adapted model %s: using it", folder.name)
    return replace(settings, model=str(folder))
