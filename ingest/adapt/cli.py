"""Command line: ``python -m ingest adapt`` (also ``kb-adapt``)."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from ingest.adapt.train import AdaptOptions
from ingest.cliprogress import StageBars, choose_display
from ingest.progress import Stage
from kb.choices import PairKind
from kb.errors import AdaptError, IndexError_, KBError, TooFewPairsError
from kb.settings import child_env, load_settings
from kb.terminal import ExitCode, printable, run_cli

D = AdaptOptions  # its defaults are the options' defaults


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest adapt",
        description="Fine-tune the embedding model on training pairs mined from the live "
        "index (headings, language versions, sentences) and write it as a new model folder "
        "under the cache, with its ONNX query encoder; with --use, re-embed the index with it, "
        "after which builds and searches keep it (docs/model.md).",
    )
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument("--steps", type=int, default=D.steps, help="optimiser steps")
    p.add_argument("--batch-size", type=int, default=D.batch_size)
    p.add_argument("--learning-rate", type=float, default=D.learning_rate)
    p.add_argument("--max-seq-length", type=int, default=D.max_seq_length)
    p.add_argument("--seed", type=int, default=D.seed)
    p.add_argument(
        "--kinds",
        default=",".join(k.value for k in PairKind),
        help="pair kinds, comma-separated (default: all of them)",
    )
    p.add_argument(
        "--min-pairs",
        type=int,
        default=D.min_pairs,
        help="fewer pairs than this: no adaptation, the base model stays",
    )
    p.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="torch threads")
    p.add_argument(
        "--no-checkpointing",
        action="store_true",
        help="keep every layer's activations: faster, several GB more memory",
    )
    p.add_argument("--force", action="store_true", help="train again even if already done")
    p.add_argument(
        "--use",
        action="store_true",
        help="then re-embed the index with the adapted model (python -m ingest --model FOLDER)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or lines")
    p.add_argument("-v", "--verbose", action="store_true", help="log details (losses)")
    return p


def _options(args: argparse.Namespace) -> AdaptOptions:
    kinds = tuple(PairKind.from_str(k) for k in args.kinds.split(",") if k.strip())
    return AdaptOptions(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_seq_length=args.max_seq_length,
        seed=args.seed,
        kinds=kinds,
        min_pairs=args.min_pairs,
        threads=args.threads,
        checkpointing=not args.no_checkpointing,
    )


def cmd_adapt(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings(index_dir=args.index)
        options = _options(args)
    except KBError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    bars = StageBars(choose_display(args.quiet), prefix="adapt")
    try:
        with bars:
            bars.start(Stage.MINING)  # before the imports of torch and the trainer
            from ingest.adapt.run import adapt

            report = adapt(settings, options, bars, args.force)
    except TooFewPairsError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    except (IndexError_, AdaptError) as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.FAILED
    except KeyboardInterrupt:
        print("interrupted: no model was written; the model in use is unchanged", file=sys.stderr)
        return ExitCode.INTERRUPTED
    pairs = ", ".join(f"{n} {kind}" for kind, n in report.pairs.items())
    done = "already adapted, reused" if report.reused else f"{report.steps} steps"
    print(f"{sum(report.pairs.values())} pairs ({pairs}); {done} in {report.seconds:.0f} s")
    print(f"adapted model at {printable(report.path)} (fingerprint {report.fingerprint})")
    if report.bars is not None:
        print(
            f'"no relevant passage" below a cosine of {report.bars.home:.3f} '
            f"({report.bars.away:.3f} for a question in another language)"
        )
    if not report.query_encoder:
        print("warning: no ONNX query encoder; queries will use torch", file=sys.stderr)
    if args.use:
        return _use(settings, report.path, args.quiet, args.verbose)
    print(f"use it: python -m ingest --model {printable(report.path)} (re-embeds the index)")
    return ExitCode.OK


def _use(settings, model: Path, quiet: bool, verbose: bool) -> int:
    """Re-embed the index the model was adapted on with it: ``python -m
    ingest --model`` in a process of its own (which starts without what
    training left in this one), from the corpus that index was built from
    where that folder is here, else the configured one."""
    from kb.index.live import live_manifest

    try:
        recorded = Path(live_manifest(settings.index_dir, settings.backend)[1].corpus or ".")
    except KBError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.FAILED
    corpus = recorded if recorded.is_absolute() and recorded.is_dir() else settings.corpus_dir
    if os.environ.get("KB_MODEL"):
        print(
            "warning: KB_MODEL is set; later builds and searches follow it, not this model",
            file=sys.stderr,
        )
    argv = [f"--corpus={corpus}", f"--index={settings.index_dir}", f"--model={model}"]
    with subprocess.Popen(
        [sys.executable, "-m", "ingest", *argv, *["-q"] * quiet, *["-v"] * verbose],
        env=child_env(),
    ) as child:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the build heard it too: let it leave the old index live
            child.wait()
            print("interrupted: the index is unchanged", file=sys.stderr)
            return ExitCode.INTERRUPTED


def run(argv: list[str] | None = None) -> int:
    """The ``kb-adapt`` script."""
    return run_cli(cmd_adapt, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(run())
