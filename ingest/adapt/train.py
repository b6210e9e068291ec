"""Fine-tuning with sentence-transformers' own trainer.

``SentenceTransformerTrainer`` with ``MultipleNegativesRankingLoss``: each
anchor (embedded with the ``query: `` prompt) against its positive, its
hard negative and the other passages of its batch (``passage: ``). One
dataset per pair kind, batches drawn from them in proportion to their
sizes, never the same text twice in a batch. The 250k-row token embedding
table stays frozen: it is most of the model's weights, the corpus teaches
it little, and two cores train the rest several times faster.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.adapt.pairs import Pair
from ingest.progress import Stage, StageProgress, no_progress
from kb.choices import PairKind

logger = logging.getLogger(__name__)

PROMPTS = {"anchor": "query: ", "positive": "passage: ", "negative": "passage: "}


@dataclass(frozen=True)
class AdaptOptions:
    """What an adaptation is made of; all but ``threads``, ``min_pairs`` and
    ``checkpointing`` enter its fingerprint."""

    # As measured on the Act (docs/model.md): 150 steps of 128 tokens take
    # about 23 minutes on two cores.
    steps: int = 150
    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    # Passages are 160 tokens (Settings.chunk_tokens): training reads their
    # first 128; the saved model reads as far as its base.
    max_seq_length: int = 128
    seed: int = 0
    kinds: tuple[PairKind, ...] = field(default_factory=lambda: tuple(PairKind))
    min_pairs: int = 64  # fewer: TooFewPairsError, and the base model stays
    threads: int = field(default=2, compare=False)
    # Recompute each layer's activations in the backward pass instead of
    # keeping them all: the same weights, a fraction of the memory, more time.
    checkpointing: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        from kb.errors import SettingsError

        if self.steps < 1 or self.batch_size < 2 or self.threads < 1 or self.min_pairs < 1:
            raise SettingsError("steps, threads and min_pairs must be ≥ 1, batch size ≥ 2")
        if not 0 < self.learning_rate < 1 or not 0 <= self.warmup_ratio < 1:
            raise SettingsError("learning rate must be in (0, 1), warm-up ratio in [0, 1)")
        if not 16 <= self.max_seq_length <= 512:
            raise SettingsError("max_seq_length must be between 16 and 512")
        if not self.kinds:
            raise SettingsError("at least one kind of pair is needed")

    def identity(self) -> dict:
        """The settings that make a different model."""
        out = asdict(self)
        out.pop("threads")
        out.pop("min_pairs")
        out.pop("checkpointing")
        out["kinds"] = sorted(PairKind.from_str(k).value for k in self.kinds)
        return out


def freeze_token_embeddings(model) -> int:
    """Freeze the token embedding table; returns the weights left to train."""
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad = False
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def datasets_by_kind(pairs: Sequence[Pair]) -> dict:
    """One ``datasets.Dataset`` (anchor, positive, negative) per pair kind."""
    from datasets import Dataset

    columns: dict[str, dict[str, list[str]]] = {}
    for p in pairs:
        cols = columns.setdefault(p.kind.value, {"anchor": [], "positive": [], "negative": []})
        cols["anchor"].append(p.anchor)
        cols["positive"].append(p.positive)
        cols["negative"].append(p.negative)
    return {kind: Dataset.from_dict(cols) for kind, cols in columns.items()}


def _progress_callback(stages: StageProgress, losses: list[float]):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """Steps to the command's progress bar; the loss to the report."""

        def on_step_end(self, args, state, control, **kwargs):
            stages(Stage.TRAINING, state.global_step, state.max_steps)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))
                logger.info("step %d: loss %.4f", state.global_step, logs["loss"])

    return Progress()


def _arguments(options: AdaptOptions, work: Path):
    from sentence_transformers import SentenceTransformerTrainingArguments

    return SentenceTransformerTrainingArguments(
        output_dir=str(work),
        max_steps=options.steps,
        per_device_train_batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        warmup_steps=options.warmup_ratio,  # a float below 1: a share of the steps
        seed=options.seed,
        data_seed=options.seed,
        prompts=PROMPTS,
        batch_sampler="no_duplicates",
        multi_dataset_batch_sampler="proportional",
        save_strategy="no",
        logging_strategy="steps",
        logging_steps=max(1, options.steps // 10),
        report_to="none",
        disable_tqdm=True,  # the command draws its own bar (ingest/cliprogress.py)
        use_cpu=True,
        dataloader_num_workers=0,
        activation_checkpointing=options.checkpointing,
        # Reentrant checkpoints would get no gradient: the frozen token table's
        # output, their input, does not require one.
        activation_checkpointing_kwargs={"use_reentrant": False},
    )


def train(
    base: Path,
    pairs: Sequence[Pair],
    options: AdaptOptions,
    out_dir: Path,
    stages: StageProgress = no_progress,
) -> list[float]:
    """Fine-tune the sentence-transformers model at ``base`` on ``pairs``
    and save it into ``out_dir`` (which must not exist); returns the
    logged training losses, first to last."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the network
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import PrinterCallback
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(options.threads)
    model = SentenceTransformer(str(base), device="cpu")
    longest = model.max_seq_length  # what the saved model reads: the base's, not the training's
    model.max_seq_length = options.max_seq_length
    trainable = freeze_token_embeddings(model)
    logger.info("training %d of %d weights", trainable, sum(p.numel() for p in model.parameters()))
    losses: list[float] = []
    work = out_dir.with_name(out_dir.name + ".trainer")

    class Trainer(SentenceTransformerTrainer):
        def add_model_card_callback(self, *args, **kwargs) -> None:
            """No model card (the documented way to drop it): none is saved."""

    trainer = Trainer(
        model=model,
        args=_arguments(options, work),
        train_dataset=datasets_by_kind(pairs),
        loss=MultipleNegativesRankingLoss(model),
        callbacks=[_progress_callback(stages, losses)],
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log line to stdout
    stages(Stage.TRAINING, 0, options.steps)
    try:
        trainer.train()
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    model.max_seq_length = longest
    model.save(str(out_dir), create_model_card=False)
    keep_model_kwargs(base, out_dir)
    return losses


def keep_model_kwargs(base: Path, out_dir: Path) -> None:
    """The base's ``model_kwargs`` (e5: ``add_pooling_layer: false``, no
    pooler) in the saved folder's sentence_bert_config.json, which
    sentence-transformers writes without them: else every load reports a
    missing pooler and makes a random one nobody uses."""
    import json

    name = "sentence_bert_config.json"
    try:
        kwargs = json.loads((base / name).read_text(encoding="utf-8")).get("model_kwargs")
        saved = json.loads((out_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError):
        return
    if kwargs and "model_kwargs" not in saved:
        saved["model_kwargs"] = kwargs
        (out_dir / name).write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
