"""``python -m ingest adapt``: from the live index to an adapted model folder.

The new folder, ``<cache>/models/<base>-adapted-<fingerprint>/``, is a
complete sentence-transformers model with its ONNX query encoder
(``onnx/``, as ``prepare-model`` makes for the default model). Its
fingerprint is a hash of the base model's fingerprint, the indexed
passages, the training pairs mined from them (which the installed
dictionary changes) and the training options; ``kb_model.json`` records them (and is
what the model's own fingerprint, kb/model/convert.py, is taken from), and
``kb_adapted.json`` what the run did: pairs by kind, losses, time, memory,
and the model's "no relevant passage" bars (ingest/adapt/calibrate.py).

The folder is written under a temporary name and renamed when complete: a
killed adaptation leaves no half model, and the model and index in use
answer as before. Nothing changes which model searches use until
``KB_MODEL`` names the new folder (docs/model.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingest.adapt.calibrate import calibrate, held_out
from ingest.adapt.pairs import Pair, count_kinds, mine_pairs
from ingest.adapt.train import AdaptOptions, train
from ingest.progress import Stage, StageProgress, no_progress
from kb.errors import AdaptError, IndexMissingError, TooFewPairsError
from kb.memory import trim_heap
from kb.model.bars import BARS_KEY, RECORD_FILE, CosineBars, read_bars
from kb.model.convert import MARKER_FILE, model_fingerprint
from kb.model.embedder import (
    SentenceTransformerEmbedder,
    export_onnx,
    map_onnx,
    mapped_onnx_path,
    resolve_model,
)
from kb.records import Chunk
from kb.settings import Settings

logger = logging.getLogger(__name__)

# 2: a share of the query-like pairs is held out of training, to carry the bars over
ADAPTER_VERSION = 2
TMP_PREFIX = ".adapt-"


@dataclass
class AdaptReport:
    path: Path
    fingerprint: str  # the model's, as an index manifest records it
    pairs: dict[str, int]
    steps: int
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    reused: bool = False  # the same adaptation was already there
    query_encoder: str = ""  # the ONNX export, "" when it could not be made
    bars: CosineBars | None = None  # its "no relevant passage" bars, as stored with it


def corpus_digest(chunks: list[Chunk]) -> str:
    """A hash of what the pairs are mined from: each passage's document,
    language, group, heading path and text, in document order."""
    h = hashlib.sha256()
    for c in sorted(chunks, key=lambda c: (c.doc_id, c.ordinal)):
        h.update(json.dumps([c.doc_id, c.lang, c.group, list(c.section), c.text]).encode())
    return h.hexdigest()


def pairs_digest(pairs: list[Pair]) -> str:
    """A hash of the training pairs themselves: what the corpus gives, and
    what the installed dictionary adds (gloss pairs)."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.kind.value, *p.texts()]).encode())
    return h.hexdigest()


def adapted_fingerprint(
    base_fingerprint: str, digest: str, options: AdaptOptions, pairs: str = ""
) -> str:
    identity = {
        "adapter": ADAPTER_VERSION,
        "base": base_fingerprint,
        "corpus": digest,
        "options": options.identity(),
        "pairs": pairs,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def read_marker(model_dir: Path) -> dict:
    try:
        marker = json.loads((Path(model_dir) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def base_model(settings: Settings) -> tuple[Path, str, str]:
    """(folder, name, fingerprint) of the model to adapt: the configured one,
    or, when that is itself an adapted model, the model it was adapted from
    (so adapting again starts afresh rather than from the last run)."""
    path, name, fingerprint = resolve_model(settings)
    base = read_marker(Path(path)).get("adapted_from")
    if isinstance(base, dict) and Path(str(base.get("path", ""))).is_dir():
        path, name = str(base["path"]), str(base.get("name", base["path"]))
        fingerprint = model_fingerprint(Path(path))
    if not Path(path).is_dir():
        raise AdaptError(f"the model {name} is not a local folder; only a folder can be adapted")
    return Path(path), name, fingerprint


def index_chunks(settings: Settings) -> tuple[list[Chunk], str]:
    """The live generation's passages and its name (index folder or PostgreSQL)."""
    from ingest.storage.stores import open_store

    store = open_store(settings)
    try:
        previous = store.previous()
    finally:
        store.close()
    where = settings.backend or settings.index_dir
    if previous is None or not previous.chunks:
        raise IndexMissingError(where, "no passages to adapt the model on")
    return list(previous.chunks), previous.name


def remove_stale(models: Path) -> None:
    """Folders of adaptations whose process is gone (killed mid-way)."""
    for path in models.glob(TMP_PREFIX + "*"):
        pid = path.name[len(TMP_PREFIX) :].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            logger.info("removing %s, left by a killed adaptation", path)
            shutil.rmtree(path, ignore_errors=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _let_go() -> None:
    """Hand back what training freed: the trainer's tensors, in pieces
    glibc would otherwise keep (about 5 GB held through the export)."""
    import gc

    gc.collect()
    trim_heap()


def _embedder(model_dir: Path, settings: Settings) -> SentenceTransformerEmbedder:
    """The model in ``model_dir``, loaded when first asked."""
    return SentenceTransformerEmbedder(
        str(model_dir), model_dir.name, "", settings.batch_size, settings.precision
    )


def _query_encoder(model_dir: Path) -> str:
    """Export the ONNX query encoder into ``model_dir``; "" (with a warning)
    where that fails: queries then use sentence-transformers."""
    try:
        return str(export_onnx(model_dir))
    except Exception as exc:  # noqa: BLE001 - the model works without it
        logger.warning("no ONNX query encoder for %s (%s); queries will use torch", model_dir, exc)
        return ""


def _install(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` at ``target``, replacing an older one."""
    old = None
    if target.exists():
        old = target.with_name(f"{TMP_PREFIX}{os.getpid()}-old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def adapt(
    settings: Settings,
    options: AdaptOptions | None = None,
    stages: StageProgress = no_progress,
    force: bool = False,
) -> AdaptReport:
    """Fine-tune the configured model on pairs mined from the live index
    and write it as a new model folder; the same adaptation already done is
    reused unless ``force``. Raises IndexMissingError (no index),
    TooFewPairsError (a corpus too small) or AdaptError."""
    options = options or AdaptOptions()
    started = time.monotonic()
    chunks, generation = index_chunks(settings)
    stages(Stage.MINING, 0, len(chunks))
    pairs = mine_pairs(chunks, options.kinds, options.seed)
    stages(Stage.MINING, len(chunks), len(chunks))
    if len(pairs) < options.min_pairs:
        raise TooFewPairsError(len(pairs), options.min_pairs)
    base, base_name, base_fp = base_model(settings)
    digest, mined = corpus_digest(chunks), pairs_digest(pairs)
    fingerprint = adapted_fingerprint(base_fp, digest, options, mined)
    identity = {
        "adapted_from": {"name": base_name, "path": str(base), "fingerprint": base_fp},
        "corpus": {"digest": digest, "passages": len(chunks), "pairs": mined},
        "options": options.identity(),
        "adapter_version": ADAPTER_VERSION,
        "fingerprint": fingerprint,
    }
    models = settings.model_cache
    target = models / f"{base.name}-adapted-{fingerprint}"
    report = AdaptReport(target, "", count_kinds(pairs), options.steps)
    if not force and read_marker(target) == identity:
        report.reused = True
    else:
        models.mkdir(parents=True, exist_ok=True)
        remove_stale(models)
        tmp = models / f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            training, held = held_out(pairs, options.seed)
            report.losses = train(base, training, options, tmp, stages)
            _let_go()  # the trainer's memory, before two models load to calibrate
            stages(Stage.CALIBRATING, 0, 2)
            bars, calibration = calibrate(
                _embedder(base, settings), _embedder(tmp, settings), held, chunks, options.seed
            )
            stages(Stage.CALIBRATING, 2, 2)
            _let_go()
            report.seconds = time.monotonic() - started
            record = {
                **identity,
                "generation": generation,
                "pairs": report.pairs,
                "trained_on": len(training),
                BARS_KEY: bars.as_dict(),
                "calibration": calibration,
                "losses": report.losses,
                "seconds": round(report.seconds, 1),
                "peak_mb": round(_peak_mb()),
                "threads": options.threads,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _write_json(tmp / RECORD_FILE, record)
            _write_json(tmp / MARKER_FILE, identity)  # last but the export: a complete model
            stages(Stage.EXPORTING, 0, 2)
            _query_encoder(tmp)
            _install(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    report.fingerprint = model_fingerprint(target)
    report.bars = read_bars(target)
    report.query_encoder = _map_query_encoder(settings, target, report.fingerprint)
    stages(Stage.EXPORTING, 2, 2)
    report.seconds = time.monotonic() - started
    return report


def _map_query_encoder(settings: Settings, target: Path, fingerprint: str) -> str:
    """The memory-mapped copy of the export (kb/model/embedder.py), made
    once the folder has its final name; "" when there is no export."""
    exported = _query_encoder(target)  # at once when the folder has a current one
    if not exported:
        return ""
    try:
        map_onnx(Path(exported), mapped_onnx_path(settings.cache_dir, fingerprint))
    except Exception as exc:  # noqa: BLE001 - the export itself serves
        logger.warning("no memory-mapped copy of the query encoder (%s)", exc)
    return exported


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
