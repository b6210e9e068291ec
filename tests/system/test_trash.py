"""Removing a document moves it to the trash (ingest/corpus/trash.py), from where
it can be restored for ``trash_days`` days; expired items go at the next
edit. Without Streamlit (the page: tests/page/test_app_access.py)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from ingest.corpus import restoring, trash
from ingest.corpus.library import LibraryError, documents, remove
from ingest.corpus.sources import load_sources
from ingest.pipeline import build_index
from testsupport.fakes import FakeEmbedder
from testsupport.library import COMMENTED, FINNISH, SWEDISH, add_file


def test_a_removed_document_goes_to_the_trash_and_comes_back(settings):
    corpus = settings.corpus_dir
    (corpus / "sources.toml").write_text(COMMENTED)
    added = add_file(settings, "uusi.md", FINNISH.encode(), title="Uusi", kind="report")
    with_entry = (corpus / "sources.toml").read_text()
    remove(settings, added.id, who="editor@example.fi")
    assert not (corpus / added.path).exists()
    assert (corpus / "sources.toml").read_text() == COMMENTED
    (item,) = trash.items(corpus)
    assert (item.id, item.path, item.title, item.who) == (
        "uusi",
        "added/uusi.md",
        "Uusi",
        "editor@example.fi",
    )
    kept = trash.trash_dir(corpus) / item.name / trash.KEPT_FILE
    assert kept.read_text(encoding="utf-8") == FINNISH  # the file itself, not a copy of its text
    assert item.entry["kind"] == "report" and item.entry["file"] == "added/uusi.md"
    assert "uusi" not in {d.id for d in documents(settings)}  # the build never reads .trash

    back = restoring.restore(settings, item.name)
    assert (back.id, back.path, back.entry, back.present) == ("uusi", "added/uusi.md", True, True)
    assert (corpus / "added/uusi.md").read_text(encoding="utf-8") == FINNISH
    assert (corpus / "sources.toml").read_text() == with_entry  # the same entry, comments kept
    assert trash.items(corpus) == []


def test_a_file_without_an_entry_and_an_entry_without_a_file(settings):
    corpus = settings.corpus_dir
    (corpus / "sources.toml").write_text(COMMENTED)
    (corpus / "kasin.md").write_text(SWEDISH)
    remove(settings, "kasin")
    remove(settings, "official")  # listed, its file never fetched
    by_id = {i.id: i for i in trash.items(corpus)}
    assert by_id["kasin"].entry is None and by_id["official"].entry["kind"] == "strategy"
    assert [s.id for s in load_sources(corpus)] == ["sivu"]
    for item in by_id.values():
        restoring.restore(settings, item.name)
    assert (corpus / "kasin.md").read_text() == SWEDISH
    assert [s.id for s in load_sources(corpus)] == ["sivu", "official"]


def test_restoring_is_refused_when_the_place_or_the_id_is_taken(settings):
    corpus = settings.corpus_dir
    added = add_file(settings, "uusi.md", FINNISH.encode())
    remove(settings, added.id)
    (item,) = trash.items(corpus)
    (corpus / "added/uusi.md").write_text(SWEDISH)  # a new file where it was
    before = (corpus / "sources.toml").read_text()
    with pytest.raises(trash.TrashError, match="in the corpus again"):
        restoring.restore(settings, item.name)
    assert (corpus / "added/uusi.md").read_text() == SWEDISH  # not overwritten
    assert (corpus / "sources.toml").read_text() == before
    assert trash.items(corpus) == [item]
    with pytest.raises(trash.TrashError, match="no such item"):
        restoring.restore(settings, "../../etc")
    with pytest.raises(trash.TrashError, match="no such item"):
        restoring.restore(settings, "20260101T000000Z-nothing")


def test_expired_items_are_purged_at_the_next_edit(settings):
    corpus = settings.corpus_dir
    old = add_file(settings, "vanha.md", FINNISH.encode())
    new = add_file(settings, "uusi.md", SWEDISH.encode())
    remove(settings, old.id)
    (item,) = trash.items(corpus)
    meta = trash.trash_dir(corpus) / item.name / trash.ITEM_FILE
    data = json.loads(meta.read_text())
    data["removed_at"] = time.time() - (settings.trash_days + 1) * 86_400
    meta.write_text(json.dumps(data))
    assert len(trash.items(corpus)) == 1  # nothing is purged by looking
    remove(settings, new.id)  # the next edit
    assert [i.id for i in trash.items(corpus)] == ["uusi"]
    assert not (trash.trash_dir(corpus) / item.name).exists()
    same_day = replace(settings, trash_days=0)  # 0: kept only until the next edit
    add_file(same_day, "kolmas.md", (FINNISH + "Kolmas.").encode())
    assert trash.items(corpus) == []


def test_a_refused_removal_changes_nothing(settings):
    corpus = settings.corpus_dir
    (corpus / ".piilo").mkdir()
    (corpus / ".piilo/salainen.md").write_text(FINNISH)
    toml = '[[document]]\nid = "piilo"\nfile = ".piilo/salainen.md"\n'
    (corpus / "sources.toml").write_text(toml)
    (corpus / "sivu.md").write_text(FINNISH)
    # the entry's file is hidden: refused before sources.toml is touched
    from ingest.corpus import library

    hidden = library.Document("piilo", "", ".piilo/salainen.md", True, True)
    real = library.documents
    library.documents = lambda s: [hidden, *real(s)]
    try:
        with pytest.raises(LibraryError, match="not a document file"):
            remove(settings, "piilo")
    finally:
        library.documents = real
    assert (corpus / "sources.toml").read_text() == toml
    assert (corpus / ".piilo/salainen.md").exists() and trash.items(corpus) == []


def test_the_next_build_drops_a_trashed_document_and_a_restored_one_returns(settings):
    corpus = settings.corpus_dir
    a = add_file(settings, "yksi.md", FINNISH.encode())
    add_file(settings, "kaksi.md", SWEDISH.encode())
    build_index(settings, embedder=FakeEmbedder())
    remove(settings, a.id)
    report = build_index(settings, embedder=FakeEmbedder())
    assert {f.doc_id for f in report.files if f.status != "removed"} == {"kaksi"}
    restoring.restore(settings, trash.items(corpus)[0].name)
    report = build_index(settings, embedder=FakeEmbedder())
    assert {f.doc_id: f.status for f in report.files}["yksi"] == "indexed"
