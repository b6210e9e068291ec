"""bfloat16 autocast must cost no more than 0.5 points of Tatoeba accuracy."""

from __future__ import annotations

import pytest

from evaluation.bitext import bitext_accuracy, read_pairs
from kb.model.embedder import SentenceTransformerEmbedder, resolve_model, resolve_precision
from kb.settings import Settings
from testsupport.testdata import needs_testdata

pytestmark = [pytest.mark.model, pytest.mark.quality]


def _embedders():
    path, name, fingerprint = resolve_model(Settings())
    return [
        SentenceTransformerEmbedder(path, name, fingerprint, precision=p) for p in ("fp32", "bf16")
    ]


@pytest.mark.parametrize(
    ("lang", "limit"),
    [
        ("fin", 300),
        ("swe", 300),
        pytest.param("fin", None, marks=pytest.mark.slow),
        pytest.param("swe", None, marks=pytest.mark.slow),
    ],
)
def test_bf16_accuracy_within_half_a_point(lang, limit):
    src, eng = read_pairs(needs_testdata("tatoeba"), lang, limit)
    fp32, bf16 = (bitext_accuracy(e, src, eng) for e in _embedders())
    assert fp32 > 0.6  # the model really retrieves translations
    assert bf16 >= fp32 - 0.005, (fp32, bf16)


def test_precision_setting():
    assert resolve_precision("fp32") == "fp32"
    assert resolve_precision("bf16") == "bf16"
    assert resolve_precision("auto") in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision"):
        Settings(precision="int4")
