"""Hardening II (issue 10): the faults found by attacking the product, each
with a test that failed before its fix. Fast ones use the fake embedder; the
CLI's exit code is checked against the real model (marked ``model``)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest import __main__ as cli
from ingest import pipeline
from ingest.corpus.sources import SourcesError, assign_ids, load_sources
from ingest.pipeline import build_index
from kb.errors import IndexWriteError, SettingsError
from kb.index.folder import CURRENT, current_name, load_generation
from kb.settings import PROJECT_ROOT, load_settings
from kb.terminal import printable
from search import __main__ as search_cli
from search.searcher import Searcher
from testsupport.fakes import FakeEmbedder


def _fake_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "load_embedder", lambda s: FakeEmbedder())
    monkeypatch.setattr(pipeline, "resolve_model", lambda s: ("fake", "fake", "fake-v1"))


# ---------------------------------------------------------------- 3. unique ids


def test_two_files_with_one_derived_id_stay_two_documents(settings, fake) -> None:
    c = settings.corpus_dir
    (c / "ohje.txt").write_text("Hankintaohje tekstinä. Kilpailutus alkaa ilmoituksella.")
    build_index(settings, embedder=fake)
    (c / "ohje.md").write_text("# Ohje\n\nMarkdown-ohje: tarjousten vertailu ja valinta.")
    counts = []
    for _ in range(3):
        build_index(settings, embedder=fake)
        gen = load_generation(settings.index_dir)
        counts.append(len(gen.chunks))
        ids = {rel: e["doc"]["id"] for rel, e in gen.manifest["files"].items()}
        assert ids == {"ohje.txt": "ohje", "ohje.md": "ohje-2"}
        for chunk in gen.chunks:  # each passage carries its own file's identity
            own = "tekstinä" if chunk.doc_id == "ohje" else "Markdown-ohje"
            assert own in chunk.text
    assert counts == [2, 2, 2]


def test_a_declared_id_wins_over_an_undeclared_files_earlier_id(settings, fake) -> None:
    c = settings.corpus_dir
    (c / "a.txt").write_text("Ensimmäinen asiakirja kertoo hankintojen suunnittelusta.")
    (c / "b.txt").write_text("Toinen asiakirja kertoo sopimusten hallinnasta.")
    build_index(settings, embedder=fake)
    (c / "sources.toml").write_text('[[document]]\nid = "a"\nfile = "b.txt"\n')
    build_index(settings, embedder=fake)
    build_index(settings, embedder=fake)
    gen = load_generation(settings.index_dir)
    ids = {rel: e["doc"]["id"] for rel, e in gen.manifest["files"].items()}
    assert ids["b.txt"] == "a" and ids["a.txt"] != "a"
    assert len(gen.chunks) == 2
    assert len({c.chunk_id for c in gen.chunks}) == 2
    by_id = {ch.doc_id: ch.text for ch in gen.chunks}
    assert "sopimusten" in by_id["a"]


def test_assign_ids_is_unique_whatever_the_order() -> None:
    files = ["ohje.md", "ohje.txt", "web/ohje.html", "web-ohje.txt"]
    ids = assign_ids(files, {}, {"ohje.txt": "ohje"}, {"web-ohje"})
    assert ids["ohje.txt"] == "ohje"
    assert len(set(ids.values())) == len(files)
    assert "web-ohje" not in ids.values()  # declared in sources.toml for a missing file


# ---------------------------------------------------------------- 4. empty filters


def test_filters_that_match_nothing_give_no_results(settings, fake) -> None:
    c = settings.corpus_dir
    (c / "sivu.sv.txt").write_text("Temagruppen främjar innovationer i offentlig upphandling.")
    (c / "ohje.fi.txt").write_text("Teemaryhmä edistää innovaatioita julkisissa hankinnoissa.")
    build_index(settings, embedder=fake)
    searcher = Searcher.load(settings.index_dir, settings, embedder=fake)
    for mode in ("dense", "bm25", "hybrid"):
        assert (
            searcher.search("innovaatio", mode=mode, languages=["fi"], docs=["sivu-sv"]).hits == []
        )


# ---------------------------------------------------------------- 9. clear errors


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("document = 5\n", "must be a list"),
        ('[[document]]\nid = 123\nfile = "x.pdf"\n', "id must be a string"),
        ('[[document]]\nid = "x"\npages = "many"\n', "pages must be a whole number"),
        ('document = ["x"]\n', "must be a list"),
    ],
)
def test_malformed_sources_toml_is_a_clear_error(settings, toml, message, monkeypatch, capsys):
    (settings.corpus_dir / "sources.toml").write_text(toml)
    with pytest.raises(SourcesError, match=message):
        load_sources(settings.corpus_dir)
    _fake_cli(monkeypatch)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("var", "value"),
    [("KB_FILE_TIMEOUT", "abc"), ("KB_WORKERS", "0"), ("KB_PRECISION", "fp8")],
)
def test_invalid_settings_are_a_clear_error(var, value, monkeypatch, capsys) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError):
        load_settings()
    assert cli.main([]) == 2
    assert cli.main(["status"]) == 2
    assert search_cli.main(["x"]) == 2
    err = capsys.readouterr().err
    assert var.removeprefix("KB_").lower() in err.lower() and "Traceback" not in err


@pytest.mark.parametrize("where", ["mkdtemp", "write_index"])
def test_full_disk_or_read_only_index_keeps_the_previous_index(
    settings, fake, monkeypatch, capsys, where
) -> None:
    (settings.corpus_dir / "a.txt").write_text("Hankinnat ja niiden suunnittelu vuodelle.")
    build_index(settings, embedder=fake)
    live = current_name(settings.index_dir)
    (settings.corpus_dir / "b.txt").write_text("Uusi asiakirja, joka ei mahdu levylle.")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "mkdtemp":
        monkeypatch.setattr("tempfile.mkdtemp", full)
    else:
        import faiss

        monkeypatch.setattr(faiss, "write_index", full)
    with pytest.raises(IndexWriteError, match="No space left"):
        build_index(settings, embedder=fake)
    assert current_name(settings.index_dir) == live
    assert len(load_generation(settings.index_dir).chunks) == 1
    assert not list(settings.index_dir.glob(".tmp-*"))
    _fake_cli(monkeypatch)
    assert cli.main([]) == 3
    err = capsys.readouterr().err
    assert "previous index is unchanged" in err and "Traceback" not in err


# ---------------------------------------------------------------- 10. terminal output


def test_printable_escapes_control_characters() -> None:
    hostile = "x\x1b[2J\x1b[31mred\rindexed forged.pdf: 1 pages\n\u202eevil\ud800"
    shown = printable(hostile)
    assert shown.isprintable()
    assert "\x1b" not in shown and "\n" not in shown and "\r" not in shown
    assert "\\x1b[2J" in shown and "\\n" in shown and "\\u202e" in shown
    assert printable("Hankintalaki 1397/2016 – åäö §") == "Hankintalaki 1397/2016 – åäö §"


def test_build_prints_hostile_file_names_escaped(settings, monkeypatch, capsys) -> None:
    name = "x\x1b[31m\nindexed forged.pdf: 9 pages, 9 chunks.pdf"
    (settings.corpus_dir / name).write_bytes(b"not a pdf at all")
    (settings.corpus_dir / "ok.txt").write_text("Tavallinen asiakirja hankinnoista.")
    _fake_cli(monkeypatch)
    assert cli.main([]) == 1
    out, err = capsys.readouterr()
    for stream in (out, err):
        assert "\x1b" not in stream
        assert not any(line.startswith("indexed forged") for line in stream.splitlines())
    assert "\\x1b[31m\\nindexed forged.pdf" in err
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[31m" in out


# ---------------------------------------------------------------- 11. status --index


def test_status_lists_against_the_corpus_the_index_was_built_from(
    tmp_path, settings, monkeypatch, capsys
) -> None:
    (settings.corpus_dir / "a.txt").write_text("Asiakirja, joka on hakemistossa.")
    (settings.corpus_dir / "sources.toml").write_text('[[document]]\nid = "a"\nfile = "a.txt"\n')
    _fake_cli(monkeypatch)
    assert cli.main([]) == 0
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "sources.toml").write_text('[[document]]\nid = "zz"\nfile = "zz.pdf"\n')
    monkeypatch.delenv("KB_CORPUS")
    monkeypatch.chdir(other)
    capsys.readouterr()
    assert cli.main(["status", "--index", str(settings.index_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["documents"]
    assert [(r["doc_id"], r["status"]) for r in rows] == [("a", "indexed")]
    assert cli.main(["status", "--index", str(settings.index_dir), "--corpus", str(other)]) == 0
    assert "zz.pdf" in capsys.readouterr().out


# ---------------------------------------------------------------- 12. CURRENT by hand


@pytest.mark.parametrize("garbage", ["garbage", "", "gen-0000-nonexistent", "../../etc"])
def test_a_hand_edited_current_never_costs_the_last_good_generation(
    settings, fake, garbage
) -> None:
    (settings.corpus_dir / "a.txt").write_text("Hankinnat ja niiden suunnittelu.")
    build_index(settings, embedder=fake)
    good = current_name(settings.index_dir)
    (settings.index_dir / CURRENT).write_text(garbage)
    (settings.corpus_dir / "a.txt").write_text("Hankinnat ja niiden suunnittelu, muutettu.")
    failing = FakeEmbedder()
    failing.embed_passages = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):  # a build dies after the stale clean-up
        build_index(settings, embedder=failing)
    assert (settings.index_dir / good / "manifest.json").is_file()
    build_index(settings, embedder=fake)
    gens = sorted(p.name for p in settings.index_dir.glob("gen-*"))
    assert good in gens and len(gens) == 2


# ---------------------------------------------------------------- 1. exit code


def test_the_query_encoder_loader_finishes_before_the_interpreter_exits(tmp_path) -> None:
    """The background ONNX load must not be cut off by interpreter exit: a
    daemon thread inside ONNX Runtime's loader at finalisation aborted the
    CLI (exit 134). A slow stand-in loader must run to its end."""
    done = tmp_path / "loaded"
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        from search.encoders import WarmingQueryEmbedder
        from testsupport.fakes import FakeEmbedder
        def slow():
            time.sleep(1.0)
            open({str(done)!r}, "w").write("ok")
            return FakeEmbedder()
        WarmingQueryEmbedder(FakeEmbedder(), slow).embed_queries(["x"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "ok"


def _search_cli(settings, *args: str, env_extra: dict | None = None, **kw):
    env = dict(os.environ, KB_INDEX=str(settings.index_dir), **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        **kw,
    )


@pytest.mark.model
@pytest.mark.quality  # the Act's real-model index: second lane
def test_search_cli_exits_zero_every_time(finlex_index) -> None:
    for engine in ("onnx", None):
        extra = {"KB_QUERY_ENGINE": engine} if engine else {}
        for _ in range(4):
            proc = _search_cli(finlex_index, "innovation", "-k", "2", env_extra=extra)
            assert proc.returncode == 0, proc.stderr.decode()[-500:]
            assert b"terminate called" not in proc.stderr


@pytest.mark.model
@pytest.mark.quality  # the Act's real-model index: second lane
def test_search_cli_batch_reports_bad_queries_and_answers_the_rest(finlex_index, tmp_path) -> None:
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        '{"query": "\\ud800"}\n'
        + json.dumps({"query": "x" * 3000})
        + '\n{"query": "kynnysarvot"}\n{"query": "fi"}\n'
    )
    proc = _search_cli(finlex_index, "--queries-file", str(qfile), "-k", "2")
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [bool(line.get("error")) for line in lines] == [True, True, False, False]
    assert "not valid text" in lines[0]["error"] and "limit" in lines[1]["error"]
    assert lines[2]["hits"]
    raw = tmp_path / "latin1.txt"
    raw.write_bytes("kynnysarvot\nhankinta\xe4\n".encode("latin-1"))
    proc = _search_cli(finlex_index, "--queries-file", str(raw))
    assert proc.returncode == 2  # an unreadable queries file: a usage error
    assert b"latin1.txt:2: not UTF-8" in proc.stderr and b"Traceback" not in proc.stderr


@pytest.mark.model
@pytest.mark.quality  # the Act's real-model index: second lane
def test_search_cli_into_a_closed_pipe_ends_quietly(finlex_index, tmp_path) -> None:
    queries = tmp_path / "many.txt"  # far more output than a pipe buffers
    queries.write_text("hankinta\nupphandling\n" * 40)
    env = dict(os.environ, KB_INDEX=str(finlex_index.index_dir))
    cmd = (
        f"{sys.executable} -m search --queries-file {queries} -k 10 | head -c 10; "
        "exit ${PIPESTATUS[0]}"
    )
    proc = subprocess.run(
        ["bash", "-c", cmd], cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert b"BrokenPipe" not in proc.stderr and b"Traceback" not in proc.stderr


@pytest.mark.model
@pytest.mark.quality  # the Act's real-model index: second lane
def test_search_cli_with_filters_that_match_nothing(finlex_index) -> None:
    proc = _search_cli(finlex_index, "innovaatio", "--lang", "fi", "--doc", "hankintalaki-sv")
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert proc.stdout.decode().strip() == "no results"


def test_output_that_cannot_be_written_is_a_one_line_error(tmp_path) -> None:
    """`python -m ingest status > /dev/full` (and the search CLI, through the
    same wrapper): one line on stderr and exit 1, no traceback."""
    if not Path("/dev/full").exists():
        pytest.skip("this system has no /dev/full to stand for a full disk")
    env = dict(os.environ, KB_INDEX=str(tmp_path / "index"), KB_CORPUS=str(tmp_path))
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "ingest", "status"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "the output could not be written" in err and "Traceback" not in err, err


def test_the_search_cli_translates_a_full_disk(monkeypatch, capsys) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("this system has no /dev/full to stand for a full disk")

    def main(argv):
        print("hit " * 5000)  # more than the buffer holds: the write itself fails
        return 0

    monkeypatch.setattr(search_cli, "main", main)
    with open("/dev/full", "w") as full:
        monkeypatch.setattr(sys, "stdout", full)
        assert search_cli.run([]) == 1
    assert "the output could not be written" in capsys.readouterr().err


def test_only_output_failures_are_translated() -> None:
    """A file the command could not read is not "the output could not be
    written": such errors go on to where they are handled (or shown)."""
    from kb.terminal import run_cli

    def missing(argv):
        open("/nonexistent-dir/x")

    with pytest.raises(FileNotFoundError):
        run_cli(missing)

    def full_cache(argv):
        raise OSError(errno.ENOSPC, "No space left on device", "/some/cache/file")

    with pytest.raises(OSError):  # a full disk under a named file: its own error
        run_cli(full_cache)
