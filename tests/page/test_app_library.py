"""Adding and removing documents in the page's documents view, through
streamlit.testing.v1.AppTest (the library itself: tests/system/test_library.py)."""

from __future__ import annotations

import pytest

from ingest.corpus.sources import load_sources
from testsupport.apptest import run_page, widget_values
from testsupport.library import FINNISH
from testsupport.pdfgen import make_pdf

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.usefixtures("allow_loopback")]

HOSTILE_NAME = "[x](https:127.0.0.1:9).pdf"


def _button(at, text: str):
    return next(b for b in at.button if b.label == text)


def _table_titles(at) -> set[str]:
    return set(at.dataframe[0].value.iloc[:, 0])  # the title column, in any language


def test_upload_add_rebuild_and_remove_with_confirmation(indexed, tmp_path):
    settings = indexed
    pdf = make_pdf(
        tmp_path / "s.pdf",
        [["1 Johdanto", "Julkiset hankinnat kannustavat yrityksiä innovaatioihin kunnissa."]],
        title="Kansallinen hankintastrategia",
    )
    at = run_page(view="docs")
    assert not at.exception
    at.file_uploader[0].set_value(
        [
            ("strategia.pdf", pdf.read_bytes(), "application/pdf"),
            ("muistio.md", FINNISH.encode(), "text/markdown"),
            (HOSTILE_NAME, b"<html>not a PDF</html>", "application/pdf"),
            ("kopio.md", (settings.corpus_dir / "sida.sv.md").read_bytes(), "text/markdown"),
        ]
    ).run()
    assert not at.exception, at.exception
    warnings = widget_values(at, "warning")
    assert len(warnings) == 2, warnings  # one line each, the name as text
    assert warnings[0].startswith("Not added: &#91;x&#93;&#40;https&#58;127&#46;0&#46;0&#46;1")
    assert "not a PDF file" in warnings[0] and "](" not in warnings[0]
    assert "already indexed as Upphandlingar" in warnings[1]
    titles = [t.value for t in at.text_input if t.label == "Title"]
    assert titles == ["Kansallinen hankintastrategia", "Hankintojen innovaatiot"]
    assert [s.value for s in at.selectbox if s.label == "Language"] == ["fi", "fi"]
    next(s for s in at.selectbox if s.label == "Kind").set_value("strategy")
    _button(at, "Add and rebuild the index").click().run()
    assert not at.exception, at.exception
    assert {"Kansallinen hankintastrategia", "Hankintojen innovaatiot"} <= _table_titles(at)
    assert any(
        s.startswith("Added: Kansallinen hankintastrategia") for s in widget_values(at, "success")
    )
    by_id = {s.id: s for s in load_sources(settings.corpus_dir)}
    assert by_id["strategia"].kind == "strategy"
    assert by_id["strategia"].file == "added/strategia.pdf"
    assert not [t for t in at.text_input if t.label == "Title"]  # the form is gone

    # remove: nothing happens before the confirmation; cancel keeps it
    at.selectbox(key="remove_doc").set_value("muistio").run()
    _button(at, "Remove…").click().run()
    assert any("its file and its entry" in w for w in widget_values(at, "warning"))
    _button(at, "Cancel").click().run()
    assert (settings.corpus_dir / "added/muistio.md").exists()
    _button(at, "Remove…").click().run()
    _button(at, "Yes, remove it").click().run()
    assert not at.exception, at.exception
    assert not (settings.corpus_dir / "added/muistio.md").exists()
    assert "muistio" not in {s.id for s in load_sources(settings.corpus_dir)}
    assert "Hankintojen innovaatiot" not in _table_titles(at)
    assert any(
        s.startswith("Removed: Hankintojen innovaatiot") for s in widget_values(at, "success")
    )


def test_an_address_is_fetched_on_the_click_and_added(indexed, address_server):
    base, hits = address_server
    at = run_page(view="docs", ui="sv")
    at.text_input(key="address-0").input(f"{base}/sv/innovationer").run()
    assert hits == []  # typing fetches nothing
    _button(at, "Hämta").click().run()
    assert not at.exception, at.exception
    assert hits == ["/sv/innovationer"]  # one connection per click (issue 24)
    assert [t.value for t in at.text_input if t.label == "Titel"] == ["Temagruppen Innovationer"]
    assert [s.value for s in at.selectbox if s.label == "Typ"] == ["web page"]
    _button(at, "Lägg till och bygg om indexet").click().run()
    assert not at.exception, at.exception
    assert "Temagruppen Innovationer" in _table_titles(at)
    (src,) = [s for s in load_sources(indexed.corpus_dir) if s.id == "innovationer"]
    assert src.url == f"{base}/sv/innovationer" and src.file == "added/innovationer.html"

    at.text_input(key="address-1").input(f"{base}/missing").run()
    _button(at, "Hämta").click().run()
    # Only the class of the failure, in the page's language (issue 24).
    assert "Adressen kunde inte hämtas: hittades inte" in widget_values(at, "warning")
