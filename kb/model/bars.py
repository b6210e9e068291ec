"""The cosine bars of the "no relevant passage" verdict, per model.

A search whose best passage is less close than the bar, by the dense
retriever's cosine, found nothing relevant (search/relevance.py). Where the
bar lies depends on the model: e5's cosines are compressed into a narrow
band, and an adapted model (``python -m ingest adapt``) moves that band.
The base model's bars were calibrated on the dev half of the held-out
questions; an adapted model's are carried over from them by ``adapt``
(ingest/adapt/calibrate.py) and stored in its ``kb_adapted.json``, which
this module reads.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

RECORD_FILE = "kb_adapted.json"  # what an adaptation did (ingest/adapt/run.py)
BARS_KEY = "cosine_bars"


@dataclass(frozen=True)
class CosineBars:
    """``home``: for a query in one of the index's languages (its own
    passages are there to be found); ``away``: for a query in another one
    (cross-language cosines run lower)."""

    home: float
    away: float

    def bar(self, home: bool) -> float:
        return self.home if home else self.away

    def as_dict(self) -> dict[str, float]:
        return {"home": round(self.home, 4), "away": round(self.away, 4)}


# The bundled e5-small's, calibrated on the dev half (search/relevance.py):
# the domain-adjacent no-answer questions' best cosines (0.812 to 0.894) lie
# among the answerable ones' (fi and sv questions 0.827 and up, en 0.797 and
# up), so the bars sit under the answerable ones.
BASE_BARS = CosineBars(home=0.815, away=0.79)


def bars_for(settings, fingerprint: str) -> CosineBars | None:
    """The bars of the configured model (``settings.model``, an adapted
    folder) when ``fingerprint`` is that model's; None otherwise: the base
    model, or an embedder of another model."""
    if settings.model is None:
        return None  # the bundled model: its bars are BASE_BARS
    from kb.model.embedder import resolve_model

    path, _, configured = resolve_model(settings)
    return read_bars(path) if fingerprint == configured else None


def read_bars(model_dir: str | Path | None) -> CosineBars | None:
    """The bars stored with the model in ``model_dir``; None when it has
    none (the base model, a model from elsewhere) or they cannot be read."""
    if model_dir is None:
        return None
    path = Path(model_dir) / RECORD_FILE
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8")).get(BARS_KEY)
        bars = CosineBars(float(found["home"]), float(found["away"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        logger.warning("%s holds no usable cosine bars (%s); using the base model's", path, exc)
        return None
    if not all(math.isfinite(b) and -1.0 <= b <= 1.0 for b in (bars.home, bars.away)):
        logger.warning("%s holds cosine bars out of range; using the base model's", path)
        return None
    return bars
