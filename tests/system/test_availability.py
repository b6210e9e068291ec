"""`python -m ingest status`: every official document of sources.toml as
present, missing (with what to do) or failed (with the reason), with or
without an index, the same in the page's documents table."""

from __future__ import annotations

import json

import pytest

from ingest import __main__ as cli
from ingest import pipeline
from ingest.fetching.availability import source_states
from ingest.status import index_status
from testsupport.fakes import FakeEmbedder

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = pytest.mark.usefixtures("allow_loopback")

SOURCES = """
[[document]]
id = "page-sv"
file = "web/sida.md"
kind = "web page"
url = "https://vm.fi/sv/innovationer"

[[document]]
id = "strategy-fi"
file = "official/strategy-fi.pdf"
url = "http://127.0.0.1:9/strategy.pdf"

[[document]]
id = "annex-fi"
file = "official/annex-fi.pdf"

[[document]]
id = "groups-fi"
kind = "web page"
url = "http://127.0.0.1:9/teemaryhmat"

[[document]]
id = "broken-fi"
file = "official/broken-fi.pdf"

[[document]]
id = "hostile"
file = "official/x\\u001b[31mred\\nFORGED present.pdf"
"""


def corpus(settings):
    c = settings.corpus_dir
    (c / "web").mkdir()
    (c / "official").mkdir()
    (c / "web" / "sida.md").write_text("# Temagruppen\n\nTemagruppen främjar innovationer.\n")
    (c / "official" / "broken-fi.pdf").write_bytes(b"%PDF-1.4 truncated")
    (c / "sources.toml").write_text(SOURCES, encoding="utf-8")
    return c


def _fake_cli(monkeypatch):
    monkeypatch.setattr(pipeline, "load_embedder", lambda s: FakeEmbedder())
    monkeypatch.setattr(pipeline, "resolve_model", lambda s: ("fake", "fake", "fake-v1"))


def status_lines(capsys, *args: str) -> tuple[int, dict[str, str]]:
    code = cli.main(["status", "--sources", *args])
    out = capsys.readouterr().out
    lines = out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:]}
    return code, {"summary": lines[0], **rows}


def test_each_official_document_is_present_missing_or_failed(settings, monkeypatch, capsys):
    corpus(settings)
    code, rows = status_lines(capsys)  # no index yet: --sources needs none
    assert code == 0
    assert rows["summary"] == "official documents (sources.toml): 2 present, 4 missing"
    assert " present " in rows["page-sv"]
    assert (
        "python -m ingest fetch (downloads it from http://127.0.0.1:9/strategy.pdf), "
        "or put the PDF at corpus/official/strategy-fi.pdf" in rows["strategy-fi"]
    )
    assert "put the PDF at corpus/official/annex-fi.pdf (no address known" in rows["annex-fi"]
    assert (
        "python -m ingest fetch (keeps a snapshot of http://127.0.0.1:9/teemaryhmat), "
        "or save the page at corpus/web/groups-fi.html" in rows["groups-fi"]
    )

    _fake_cli(monkeypatch)
    assert cli.main([]) == 1  # broken-fi.pdf cannot be read
    capsys.readouterr()
    code, rows = status_lines(capsys)
    assert " failed " in rows["broken-fi"] and "the build could not read it" in rows["broken-fi"]

    # A fetch without network: its reason is what status says next.
    assert cli.main(["fetch", "--retries", "0", "--timeout", "1"]) == 1
    capsys.readouterr()
    code, rows = status_lines(capsys)
    assert code == 0
    for doc_id in ("strategy-fi", "groups-fi"):
        assert f"{doc_id} " in rows[doc_id] and " failed " in rows[doc_id], rows[doc_id]
        assert "failed: network unavailable" in rows[doc_id]
    assert " missing " in rows["annex-fi"]  # no address: nothing was tried
    assert " present " in rows["page-sv"]


def test_the_documents_table_says_the_same(settings, monkeypatch, capsys):
    corpus(settings)
    _fake_cli(monkeypatch)
    cli.main([])
    capsys.readouterr()
    _facts, rows = index_status(settings.index_dir, settings.corpus_dir)
    table = {r.doc_id: (r.status, r.error) for r in rows}
    for s in source_states(settings.corpus_dir, None):
        if s.state == "missing":
            assert table[s.id] == ("missing", s.detail)
    assert table["page-sv"][0] == "indexed" and table["broken-fi"][0] == "failed"
    assert cli.main(["status", "--json"]) == 0
    docs = {d["doc_id"]: d for d in json.loads(capsys.readouterr().out)["documents"]}
    assert docs["annex-fi"]["status"] == "missing"
    assert "put the PDF at corpus/official/annex-fi.pdf" in docs["annex-fi"]["error"]


def test_without_an_index_status_still_lists_what_is_missing(settings, capsys):
    corpus(settings)
    assert cli.main(["status"]) == 1
    out, err = capsys.readouterr()
    assert "no index has been built" in err
    assert out.startswith("official documents (sources.toml): 2 present, 4 missing")
    assert cli.main(["status", "--json"]) == 1
    assert capsys.readouterr().out == ""  # no half-JSON; status --sources --json has the list


def test_names_are_printed_escaped(settings, capsys):
    corpus(settings)
    code, _rows = status_lines(capsys)
    cli.main(["status", "--sources"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "x\\x1b[31mred\\nFORGED present.pdf" in out
    assert not any(line.startswith("FORGED") for line in out.splitlines())
    assert cli.main(["status", "--sources", "--json"]) == 0
    states = json.loads(capsys.readouterr().out)["sources"]
    assert {s["id"]: s["state"] for s in states}["hostile"] == "missing"
