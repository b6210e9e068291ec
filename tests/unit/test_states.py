"""The status vocabularies as enums (kb/choices.py's Choice): a source's
availability, a document's state in ``ingest status``, a file's outcome in
a build, a fetch's status. Their values are the words printed and stored,
so JSON and string comparisons read as before."""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.fetching import results
from ingest.fetching.availability import (
    Availability,
    read_fetch_states,
    record_fetch,
    source_states,
)
from ingest.fetching.results import FetchStatus
from ingest.pipeline import build_index
from ingest.progress import FileOutcome
from ingest.status import DocState, index_status
from kb.choices import ChoiceError
from kb.index.manifest import EntryStatus
from kb.settings import Settings
from testsupport.fakes import FakeEmbedder

VOCABULARIES = [Availability, DocState, FileOutcome, FetchStatus, EntryStatus]


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_each_word_parses_and_reads_as_its_value(vocabulary):
    for member in vocabulary:
        assert vocabulary.from_str(member.value.upper()) is member
        assert member == member.value and f"{member}" == member.value
        assert json.loads(json.dumps({"s": member})) == {"s": member.value}


@pytest.mark.parametrize("vocabulary", VOCABULARIES)
def test_an_unknown_word_names_the_valid_ones(vocabulary):
    with pytest.raises(ChoiceError) as caught:
        vocabulary.from_str("lost")
    assert all(m.value in str(caught.value) for m in vocabulary)


def test_fetch_results_have_no_module_level_aliases():
    for name in ("FETCHED", "UP_TO_DATE", "FAILED", "NO_IDENTIFIER", "LOCAL", "KEPT"):
        assert not hasattr(results, name)
    assert FetchStatus.KEPT == "kept"  # the web page fetch's own state is one of them


@pytest.fixture
def settings(tiny, tmp_path) -> Settings:
    root = tmp_path / "states"
    shutil.copytree(tiny.settings.corpus_dir, root / "corpus")
    shutil.copytree(tiny.index_dir, root / "index")
    return Settings(corpus_dir=root / "corpus", index_dir=root / "index")


def test_a_recorded_fetch_state_reads_back_as_the_enum(settings):
    corpus = settings.corpus_dir
    with (corpus / "sources.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[document]]\nid = "gone"\nfile = "gone.pdf"\nlang = "fi"\n')
    record_fetch(corpus, {}, "gone", FetchStatus.FAILED, "503 from the server")
    assert read_fetch_states(corpus)["gone"]["status"] == FetchStatus.FAILED
    states = {s.id: s for s in source_states(corpus)}
    assert states["laki-fi"].state is Availability.PRESENT
    assert states["gone"].state is Availability.FAILED and "503" in states["gone"].detail
    _, rows = index_status(settings.index_dir, corpus)
    by_id = {r.doc_id: r for r in rows}
    assert by_id["laki-fi"].status is DocState.INDEXED
    assert by_id["gone"].status is DocState.FAILED


def test_a_missing_source_and_a_new_file_in_status(settings):
    corpus = settings.corpus_dir
    with (corpus / "sources.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[document]]\nid = "later"\nfile = "later.pdf"\nlang = "fi"\n')
        f.write('\n[[document]]\nid = "new-fi"\nfile = "new.fi.md"\nlang = "fi"\n')
    (corpus / "new.fi.md").write_text("# Uusi\n\nUusi teksti.\n", encoding="utf-8")
    _, rows = index_status(settings.index_dir, corpus)
    by_id = {r.doc_id: r for r in rows}
    assert by_id["later"].status is DocState.MISSING
    assert by_id["new-fi"].status is DocState.NOT_INDEXED


def test_a_build_reports_each_file_by_outcome(settings):
    (settings.corpus_dir / "notes.txt").write_text("Other notes.\n", encoding="utf-8")
    (settings.corpus_dir / "lag.sv.md").unlink()
    report = build_index(settings, embedder=FakeEmbedder())
    outcomes = {f.path: f.status for f in report.files}
    assert outcomes == {
        "laki.fi.md": FileOutcome.UNCHANGED,
        "notes.txt": FileOutcome.INDEXED,
        "lag.sv.md": FileOutcome.REMOVED,
    }
    assert all(type(s) is FileOutcome for s in outcomes.values())
