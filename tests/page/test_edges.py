"""The rough edges of issue 27 (item 3): each with a test that failed before
its fix. Fake embedder; no browser (tests/test_browser_edges.py has those)."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import streamlit as st

from ingest.pipeline import build_index
from ingest.progress import Stage
from kb.index.folder import load_generation
from testsupport.apptest import LISTED, SOURCES, SWEDISH
from testsupport.apptest import run_page as _run
from testsupport.fakes import FakeEmbedder
from testsupport.hostile import HOSTILE
from testsupport.records import document

pytestmark = pytest.mark.slow  # second lane: the page with the real model, many runs


@pytest.fixture
def built(settings, real_embedder):
    """tests/test_app.py's two web pages (fi, sv), indexed."""
    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    (settings.corpus_dir / "sida.sv.md").write_text(SWEDISH, encoding="utf-8")
    (settings.corpus_dir / "sources.toml").write_text(SOURCES, encoding="utf-8")
    build_index(settings, embedder=real_embedder)


# ------------------------------------------------ 2. built when it finished


def test_built_and_indexed_say_when_the_build_finished(settings):
    (settings.corpus_dir / "a.fi.md").write_text("# A\n\nHankinnat ovat tärkeitä.\n")
    writing = []

    def stages(stage, done, total):
        if stage is Stage.PASSAGES and done == 0:
            time.sleep(1.2)  # a long build: embedding takes its time
        if stage is Stage.WRITING and done == 0:
            writing.append(datetime.now(UTC).replace(microsecond=0))

    build_index(settings, embedder=FakeEmbedder(), stages=stages)
    manifest = load_generation(settings.index_dir).manifest
    assert writing
    assert datetime.fromisoformat(manifest["created"]) >= writing[0]
    (entry,) = manifest["files"].values()
    assert datetime.fromisoformat(entry["indexed_at"]) >= writing[0]
    assert datetime.fromisoformat(manifest["started"]) < writing[0]  # and when it began


# ------------------------------------------------ 7. a phone's first screen


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_the_question_box_has_a_neutral_placeholder_and_the_note_is_one_line(built, settings, ui):
    from kb.labels import EXAMPLES, label

    at = _run(ui=ui)
    placeholder = at.text_input(key="q").placeholder
    assert placeholder not in EXAMPLES  # it looked pre-filled
    assert placeholder == label(ui, "ask") and placeholder.endswith("…")
    listed = SOURCES + '\n[[document]]\nid = "puuttuu"\nfile = "puuttuu.pdf"\ntitle = "Strategia"\n'
    (settings.corpus_dir / "sources.toml").write_text(listed, encoding="utf-8")
    st.cache_data.clear()
    at = _run(q="innovaatiot", ui=ui)
    assert not at.exception
    long_note = label(ui, "not_in_index").format(n=1)
    (note,) = [e for e in at.expander if e.label == label(ui, "not_in_index_short").format(n=1)]
    assert len(note.label) <= 40  # one line on a phone
    # the whole note, in the expander only: not four lines on the first screen
    assert [c.value for c in note.caption] == [long_note]
    assert [c.value for c in at.caption].count(long_note) == 1


# ------------------------------------------------ 6. the answer box does not push the cards


class _Stop(Exception):
    pass


def _page_when_the_first_card_is_written(monkeypatch, **params):
    """The page as it stands when its first card is about to be written:
    what is above the cards then stays, and the cards do not move."""
    import webapp.results

    def stop(*args, **kwargs):
        raise _Stop

    put_card = webapp.results.put_card
    monkeypatch.setattr(webapp.results, "put_card", stop)
    at = _run(**params)
    monkeypatch.setattr(webapp.results, "put_card", put_card)
    assert at.exception and "raise _Stop" in at.exception[0].stack_trace[-1]
    return at


def _bodies(at) -> list[str]:
    return [m.value for m in at.html if not m.value.startswith("<style")]


@pytest.mark.model
def test_the_answer_is_in_place_before_the_first_card(built, monkeypatch):
    at = _page_when_the_first_card_is_written(
        monkeypatch, q="Miten hankintayksiköt edistävät innovaatioita?", ui="fi", lang="fi"
    )
    assert len(at.get("download_button")) == 2  # the exports above the cards, in place too
    shown = _bodies(at)
    assert shown and shown[0].startswith('<div role="region" aria-label="Vastaus asiakirjoista"')
    assert "Hankintayksiköt edistävät innovaatioita" in shown[0]


@pytest.mark.model
def test_without_stored_sentences_the_answer_has_a_place_of_its_height(
    built, settings, monkeypatch
):
    """An older index: the best sentences are embedded after the cards; the
    answer's place is held, as high as the answer box at its least."""
    from kb.index.folder import write_generation

    gen = load_generation(settings.index_dir)
    manifest = {k: v for k, v in gen.manifest.items() if k != "checksums"}
    write_generation(
        settings.index_dir, gen.vectors(list(range(gen.index.ntotal))), gen.chunks, manifest
    )
    query = dict(q="Miten hankintayksiköt edistävät innovaatioita?", ui="fi", lang="fi")
    shown = _bodies(_page_when_the_first_card_is_written(monkeypatch, **query))
    held = re.search(r"min-height:\s*([\d.]+)rem", shown[0] if shown else "")
    assert held, shown
    at = _run(**query)
    assert not at.exception, at.exception
    box = next(m.value for m in at.html if m.value.startswith('<div role="region"'))
    assert float(re.search(r"min-height:\s*([\d.]+)rem", box)[1]) >= float(held[1])


# ------------------------------------------------ 4. a citation names its file


UNLISTED = document("muistio", path="muistiot/Muistio 2024.pdf", kind="other", title="Muistio")


def test_a_file_without_a_sources_entry_is_cited_by_its_file_name():
    """One citation (search/cite.py) for the page's "copy citation", the
    CLI's JSON and both exports: a file no sources.toml entry describes has
    no address or identifier, so its file name says where it is."""
    from search.__main__ import hit_json
    from search.cite import citation_text, cite
    from search.export import to_csv, to_markdown
    from testsupport.records import hit

    h = hit(doc_id="muistio", title="Muistio")
    for ui in ("fi", "sv", "en"):
        assert "muistiot/Muistio 2024.pdf" in citation_text(cite(h, UNLISTED), ui)
    assert "muistiot/Muistio 2024.pdf" in hit_json(h, UNLISTED)["citation"]
    assert "muistiot/Muistio 2024.pdf" in to_csv([h], lambda _: UNLISTED)
    assert "muistiot/Muistio 2024.pdf" in to_markdown("q", [h], lambda _: UNLISTED)
    # a listed document is cited by its address and identifier, not its file
    listed = replace(UNLISTED, url="https://example.org/m.pdf", identifier="URN:1")
    assert "Muistio 2024" not in citation_text(cite(h, listed), "fi")


def test_the_copy_help_says_how_to_copy_with_the_keyboard_too():
    from kb.labels import label

    for ui in ("fi", "sv", "en"):
        assert "Ctrl+C" in label(ui, "copy_help")


# ------------------------------------------------ 5. the context tab, once, the hit marked


def _three_overlapping():
    from ingest.chunk import Chunker
    from search.hits import hit_from_chunk
    from testsupport.records import META
    from testsupport.records import two_pages as _pages

    fake = FakeEmbedder()
    chunker = Chunker(fake.count_tokens, max_tokens=64, overlap=12, overhead=4)
    chunks = [c for c in chunker.chunk(META, _pages()) if c.section[-1] == "1 § Tarkoitus"]
    return [hit_from_chunk(c, 0.0, i + 1, i) for i, c in enumerate(chunks[1:4])]


def test_the_context_shows_overlapping_passages_once_the_hit_whole():
    from search.context import without_overlap

    before, hit, after = _three_overlapping()
    words = [w for p in (before, hit, after) for w in p.text.split()]
    assert len(words) > len(set(words))  # the chunks overlap
    shown = without_overlap([before, hit, after], hit.chunk_id)
    assert shown[1] == hit  # the hit whole, its highlights kept
    words = [w for p in shown for w in p.text.split()]
    assert len(words) == len(set(words))  # each word once
    assert words[0] == before.text.split()[0] and words[-1] == after.text.split()[-1]


def test_the_hit_is_marked_among_its_neighbours_in_every_language():
    from kb.labels import label
    from webapp.cards import card_html

    before, hit, _ = _three_overlapping()
    for ui in ("fi", "sv", "en"):
        marked = card_html(hit, ui, rank=False, current=True)
        assert label(ui, "this_hit") in marked and "<mark" in marked
        assert label(ui, "this_hit") not in card_html(before, ui, rank=False)


# ------------------------------------------------ 1. the documents view


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv"])
def test_the_documents_view_says_why_and_what_to_do_in_full_in_the_page_language(
    built, settings, ui
):
    import json

    from kb.labels import coded, label

    corpus = settings.corpus_dir
    (corpus / "sources.toml").write_text(SOURCES + LISTED, encoding="utf-8")
    fetched = {"status": "failed", "detail": "network unavailable", "at": "2026-12-06T10:00:00Z"}
    (corpus / ".fetch-state.json").write_text(json.dumps({"strategia-fi": fetched}))
    at = _run(view="docs", ui=ui)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    titles, status = label(ui, "form_title"), table.columns[5]
    by_title = dict(zip(table[table.columns[0]], table[status], strict=True))
    # the status a word in the page's language; missing documents by their title or id
    assert by_title["Kansallinen hankintastrategia"] == coded(ui, "status", "failed")
    assert by_title["teemaryhmat-fi"] == coded(ui, "status", "missing")
    assert titles and not [f for f in table[table.columns[-1]] if f in by_title]
    # why and what to do, in full and in the page's language, below the table
    shown = " ".join(m.value for m in at.markdown)
    assert "fetch of" not in shown and "python -m ingest fetch (downloads" not in shown
    why = label(ui, "reason_fetch_failed").split("{")[0].strip()
    assert why and why in shown.replace("&#32;", " ")
    assert "strategia&#46;pdf" in shown  # the address it would fetch, whole
    # the counts agree with the rows
    failed = sum(1 for s in table[status] if s == coded(ui, "status", "failed"))
    missing = sum(1 for s in table[status] if s == coded(ui, "status", "missing"))
    assert (failed, missing) == (1, 1)
    counts = label(ui, "counts_line_more").format(failed=1, missing=1, waiting=0)
    assert counts.split(",")[0] in shown


# ------------------------------------------------ 3. the uploader in the page's language


@pytest.mark.model
@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_the_uploader_speaks_the_page_language_and_states_the_real_limit(built, monkeypatch, ui):
    from kb.labels import label

    monkeypatch.setenv("KB_MAX_FILE_MB", "7")
    at = _run(view="docs", ui=ui)
    assert not at.exception, at.exception
    (uploader,) = at.get("file_uploader")
    assert uploader.proto.max_upload_size_mb == 7  # the browser refuses what the build would
    styles = " ".join(m.value for m in at.html if "stFileUploaderDropzone" in m.value)
    # Streamlit's own "Upload" and "200MB per file • PDF, MD" hidden, ours shown instead
    assert "display: none" in styles
    assert f'content: "{label(ui, "upload_button")}"' in styles
    from ingest.corpus.library import SUFFIXES

    types = ", ".join(s[1:].upper() for s in SUFFIXES)
    assert "PDF" in types and "HTML" in types
    limit = label(ui, "upload_limit").format(mb=7, types=types)
    assert f'content: "{limit}"' in styles, styles


# ------------------------------------------------ 8. --mode named as the page names it


def test_the_cli_mode_option_says_what_the_page_calls_each_mode():
    from kb.labels import coded
    from search.__main__ import _parser
    from search.modes import SearchMode

    text = " ".join(_parser().format_help().split())
    for mode in SearchMode:
        assert f"{mode.value} ({coded('en', 'mode', mode).lower()}" in text, text
