"""ingest/cliviews.py: ``status --sources``'s listings. Every text in them
comes from sources.toml, a fetched page or a file name: shown escaped, one
line per document, whatever it holds."""

from __future__ import annotations

import json

from ingest.cliviews import discovered_rows, print_discovered, print_sources, status_sources
from ingest.fetching.availability import SourceState
from kb.terminal import ExitCode

RED = "\x1b[31m"


def state(**kw) -> SourceState:
    base = dict(
        id="strategy-fi",
        title="Strategia",
        lang="fi",
        kind="strategy",
        path="official/strategy.fi.pdf",
        state="present",
        detail="",
    )
    base.update(kw)
    return SourceState(**base)


def test_sources_are_counted_by_state_then_listed_one_line_each(capsys):
    print_sources(
        [
            state(),
            state(id="annex-fi", state="missing", detail="run python -m ingest fetch"),
            state(id="report-fi", state="missing", detail=""),
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "official documents (sources.toml): 1 present, 2 missing"
    assert len(lines) == 4
    assert lines[2].split()[:3] == ["annex-fi", "missing", "official/strategy.fi.pdf:"]
    assert lines[2].endswith(": run python -m ingest fetch")
    assert lines[3].rstrip().endswith("official/strategy.fi.pdf")  # no detail, no colon


def test_no_source_listed_says_so(capsys):
    print_sources([])
    assert capsys.readouterr().out == "official documents (sources.toml): none listed\n"


def test_hostile_text_is_escaped_and_forges_no_line(capsys):
    print_sources([state(id=f"x{RED}", path="a\nfake line", detail="why\rnot")])
    out = capsys.readouterr().out
    assert RED not in out and "\r" not in out
    assert len(out.splitlines()) == 2  # the count and the one document


def discovered(**kw) -> dict:
    base = dict(
        id="annex-1-fi",
        state="missing",
        path="-",
        kind="annex",
        lang_hint="fi",
        title_hint="Liite 1",
        found_on="https://vm.fi/hankinnat",
        found_at="2026-11-01",
    )
    base.update(kw)
    return base


def test_discovered_documents_one_line_each_and_nothing_when_none(capsys):
    print_discovered([])
    assert capsys.readouterr().out == ""
    print_discovered(
        [discovered(), discovered(id="annex-2-fi", lang_hint="", title_hint=f"{RED}x\ny")]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "discovered on the official pages (sources.discovered.json): 2"
    assert len(lines) == 3 and "'Liite 1' on https://vm.fi/hankinnat (2026-11-01)" in lines[1]
    assert ", -, " in lines[2] and RED not in lines[2]  # no language hint: a dash


def test_an_unreadable_discovery_record_is_a_warning_and_no_rows(tmp_path, capsys):
    assert discovered_rows(tmp_path) == []  # none recorded: nothing to say
    assert capsys.readouterr().err == ""
    (tmp_path / "sources.discovered.json").write_text('{"version": 999, "documents": []}')
    assert discovered_rows(tmp_path) == []
    assert capsys.readouterr().err.startswith("warning: ")


def test_status_sources_as_json_lists_sources_and_discoveries(settings, capsys):
    (settings.corpus_dir / "sources.toml").write_text(
        '[[document]]\nid = "s"\ntitle = "S"\nkind = "strategy"\nlang = "fi"\n'
        'url = "https://example.org/s.pdf"\n',
        encoding="utf-8",
    )
    assert status_sources(settings, as_json=True) == ExitCode.OK
    out = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in out["sources"]] == ["s"]
    assert out["sources"][0]["state"] == "missing" and out["discovered"] == []


def test_status_sources_with_a_broken_sources_file_is_a_usage_error(settings, capsys):
    (settings.corpus_dir / "sources.toml").write_text("[[document]\n", encoding="utf-8")
    assert status_sources(settings, as_json=False) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("error: ")
