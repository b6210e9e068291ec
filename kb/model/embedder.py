"""Embedders. The real one wraps sentence-transformers and loads lazily, once."""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.model.convert import DEFAULT_MODEL_NAME, ensure_default_model, model_fingerprint
from kb.settings import Settings

logger = logging.getLogger(__name__)

# Smaller calls run in float32 even when bf16 is on (measured: one query
# embeds in about 20 ms in fp32 and 30 ms with bf16 autocast on 2 cores).
BF16_MIN_BATCH = 4


class Embedder(Protocol):
    name: str
    fingerprint: str

    @property
    def dim(self) -> int: ...

    @property
    def passage_overhead(self) -> int:
        """Tokens the model adds to every passage (prompt and special tokens)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def cpu_has_native_bf16() -> bool:
    """True where the CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(precision: str) -> str:
    if precision == "auto":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return precision


class SentenceTransformerEmbedder:
    """sentence-transformers model; vectors are L2-normalised float32.

    With ``precision="bf16"`` the matrix products run in bfloat16 under
    ``torch.autocast`` (weights, layer norms and the output stay float32):
    about twice as fast on CPUs with AMX, at a cosine of 0.9999 to float32.
    """

    def __init__(
        self,
        model_path: str,
        name: str,
        fingerprint: str,
        batch_size: int = 16,
        precision: str = "fp32",
    ) -> None:
        self.model_path = model_path
        self.name = name
        self.fingerprint = fingerprint
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)
        self._model = None
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], prompt: str | None, batch_size: int) -> np.ndarray:
        import torch

        # bf16 pays off on batches; a single short query is faster in fp32.
        fast = self.precision == "bf16" and len(texts) >= BF16_MIN_BATCH
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast):
            vectors = self.model.encode(
                texts,
                prompt_name=self._prompt(prompt),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32)

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar on every load

                logger.info("loading embedding model %s", self.model_path)
                self._model = SentenceTransformer(self.model_path, device="cpu")
            return self._model

    def _prompt(self, kind: str) -> str | None:
        return kind if kind in (self.model.prompts or {}) else None

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def passage_overhead(self) -> int:
        prompt = (self.model.prompts or {}).get("passage", "")
        return len(self.model.tokenizer(prompt)["input_ids"])

    def count_tokens(self, text: str) -> int:
        # The backend tokenizer: no warning for texts over 512 tokens, and faster.
        backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if backend is not None:
            return len(backend.encode(text, add_special_tokens=False).ids)
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        """Embed in batches of similar token length, so little padding is wasted."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        lengths = [len(ids) for ids in self.model.tokenizer(texts)["input_ids"]]
        order = np.argsort(lengths, kind="stable")[::-1]
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            out[idx] = self._encode([texts[j] for j in idx], "passage", len(idx))
            if progress:
                progress(len(idx))
        return out

    def embed_queries(self, texts) -> np.ndarray:
        return self._encode(list(texts), "query", self.batch_size)


def resolve_model(settings: Settings) -> tuple[str, str, str]:
    """(path or hub name, display name, fingerprint) without loading the model."""
    if settings.model:
        path = Path(settings.model).expanduser()
        if path.is_dir():
            return str(path), settings.model, model_fingerprint(path)
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            logger.info(
                "KB_MODEL=%s is not a folder; it must be in the local HF cache", settings.model
            )
        return settings.model, settings.model, settings.model
    path = ensure_default_model(settings.model_cache)
    return str(path), DEFAULT_MODEL_NAME, model_fingerprint(path)


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    path, name, fingerprint = resolve_model(settings)
    return SentenceTransformerEmbedder(
        path, name, fingerprint, settings.batch_size, settings.precision
    )


ONNX_DIR, ONNX_FILE, ONNX_MARKER = "onnx", "model.onnx", "kb_onnx.json"
ONNX_MAX_TOKENS = 512


def onnx_path(model_dir: Path) -> Path:
    return Path(model_dir) / ONNX_DIR / ONNX_FILE


# What the export holds besides the model's own float32 weights: the token
# embedding table (250,037 x 384, 384 MB in float32, 80 % of the file) is
# stored in int8. A search process holds about half the memory; queries
# keep cosine >= 0.999 to float32 and Tatoeba accuracy moves by at most 0.3
# points (README, "Query encoder"). The transformer's MatMuls stay float32:
# quantizing them too cost 2 to 4 points.
ONNX_WEIGHTS = "token-embeddings-int8"


def export_onnx(model_dir: Path) -> Path:
    """Export the converted default model's transformer to ONNX once, for
    the query encoder, with its token embedding table in int8
    (``ONNX_WEIGHTS``); returns the file. Run by ``python -m ingest
    prepare-model``; nothing is downloaded."""
    import json

    model_dir = Path(model_dir)
    target = onnx_path(model_dir)
    marker = target.parent / ONNX_MARKER
    wanted = {"fingerprint": model_fingerprint(model_dir), "weights": ONNX_WEIGHTS}
    if onnx_export_current(model_dir):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".onnx.tmp")
    _export_float32(model_dir, tmp)
    small = target.with_suffix(".onnx.int8.tmp")
    try:
        _quantize_token_embeddings(tmp, small)
    finally:
        tmp.unlink(missing_ok=True)
    os.replace(small, target)
    marker.write_text(json.dumps(wanted))
    return target


def onnx_export_current(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds an ONNX export of ours (``export_onnx``)
    made from its current weights: the default model after ``prepare-model``,
    an adapted model after ``python -m ingest adapt``."""
    import json

    target = onnx_path(Path(model_dir))
    wanted = {"fingerprint": model_fingerprint(Path(model_dir)), "weights": ONNX_WEIGHTS}
    try:
        return target.is_file() and json.loads((target.parent / ONNX_MARKER).read_text()) == wanted
    except (OSError, ValueError):
        return False


def _quantize_token_embeddings(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic quantization, applied to Gather only: the
    token embedding table becomes int8 with one scale."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()  # the quantizer logs a pre-processing hint at WARNING
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"]
        )
    finally:
        quiet.setLevel(level)


def load_transformer(model_dir: Path):
    """The converted model's transformer, quietly: without the pooler e5
    never uses and lacks (no "LOAD REPORT ... pooler MISSING"), without the
    "Loading weights" bar. With a config object given, ``add_pooling_layer``
    reaches the model; else the folder's config.json, which names it,
    swallows the keyword."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    config = AutoConfig.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir), config=config, add_pooling_layer=False)
    return model.eval()


def _export_float32(model_dir: Path, tmp: Path) -> None:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = load_transformer(model_dir)
    example = (torch.ones((1, 8), dtype=torch.long), torch.ones((1, 8), dtype=torch.long))
    dims = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on opset details
        torch.onnx.export(
            Encoder(model),
            example,
            str(tmp),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": dims, "attention_mask": dims, "last_hidden_state": dims},
            opset_version=17,
            dynamo=False,
        )


MAPPED_DIR = "query-encoder"  # under the cache folder, one subfolder per model fingerprint
MAPPED_DATA = "model.onnx.data"
MAPPED_MARKER = "kb_mapped.json"


def mapped_onnx_path(cache_dir: Path, fingerprint: str) -> Path:
    """Where ``map_onnx`` puts the memory-mappable copy of the export."""
    return Path(cache_dir) / MAPPED_DIR / fingerprint / ONNX_FILE


def _source_stamp(source: Path) -> dict:
    st = Path(source).stat()
    return {"source": str(Path(source).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def mapped_onnx_ready(target: Path, source: Path) -> bool:
    """Whether ``target`` is a complete copy of the export ``source`` as it is now."""
    import json

    marker = target.parent / MAPPED_MARKER
    try:
        return (
            target.is_file()
            and (target.parent / MAPPED_DATA).is_file()
            and json.loads(marker.read_text()) == _source_stamp(source)
        )
    except (OSError, ValueError):
        return False


def map_onnx(source: Path, target: Path) -> Path:
    """A copy of the ONNX export ``source`` whose weights sit in a side file
    (ONNX external data). ONNX Runtime memory-maps such a file instead of
    reading the whole export into the process while loading: a search
    process peaks about 95 MB lower, and of the int8 token embedding
    table (96 MB, 250k rows) only the rows its queries touch become
    resident (README, "Queries use ONNX Runtime"). Same weights, same
    vectors. Run by ``python -m ingest prepare-model``; the
    query encoder takes the single file while this copy is missing."""
    import json
    import shutil
    import uuid

    if mapped_onnx_ready(target, source):
        return target
    import onnx

    model = onnx.load(str(source))
    tmp = target.parent.with_name(f".{target.parent.name}.{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        onnx.save_model(
            model,
            str(tmp / ONNX_FILE),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=MAPPED_DATA,
            size_threshold=1024,
        )
        (tmp / MAPPED_MARKER).write_text(json.dumps(_source_stamp(source)))
        shutil.rmtree(target.parent, ignore_errors=True)
        os.replace(tmp, target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
