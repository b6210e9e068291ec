"""The "other languages" panel of a document whose other versions are not
in the index: it says so, in the page's language, instead of showing the
same card again (AppTest)."""

from __future__ import annotations

import pytest

from ingest.pipeline import build_index
from kb.labels import label
from search.modes import Highlighting
from testsupport.apptest import run_page
from testsupport.hostile import HOSTILE

pytestmark = pytest.mark.slow  # second lane: the page with the real model, many runs

ALONE = """
[[document]]
id = "sivu-fi"
file = "sivu.fi.md"
title = "Hankinnat"
lang = "fi"
kind = "web page"
group = "sivu"
"""

NO_OTHER = {
    "fi": "Tästä asiakirjasta ei ole hakemistossa muuta kieliversiota.",
    "sv": "Dokumentet har ingen annan språkversion i indexet.",
    "en": "This document has no other language version in the index.",
}


@pytest.mark.model
@pytest.mark.parametrize("ui", list(NO_OTHER))
def test_other_languages_says_when_a_document_has_no_other_version(settings, real_embedder, ui):
    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    (settings.corpus_dir / "sources.toml").write_text(ALONE, encoding="utf-8")
    build_index(settings, embedder=real_embedder)
    from search import Searcher

    hit = Searcher.load(settings.index_dir, settings).search(
        "innovaatiot", highlight=Highlighting.NONE
    )[0]
    at = run_page(q="innovaatiot", ui=ui)
    at.session_state[f"panels:{hit.chunk_id}"] = True
    at.run()
    assert not at.exception, at.exception
    other = next(t for t in at.tabs if t.label == label(ui, "other"))
    assert [i.value for i in other.info] == [NO_OTHER[ui]]
    assert not other.html  # not the same card again


def test_chart_bars_tell_two_laws_apart():
    """The documents chart cut titles at their start: two laws looked
    alike. A bar's name keeps the title's start and end (the number)."""
    from webapp.page import bar_name

    fi = "Laki julkisista hankinnoista ja käyttöoikeussopimuksista 1397/2016"
    special = (
        "Laki vesi- ja energiahuollon, liikenteen ja postipalvelujen alalla toimivien "
        "yksiköiden hankinnoista ja käyttöoikeussopimuksista 1398/2016"
    )
    assert bar_name(fi, "fi") == "Laki julkisista hankinnoista ja … 1397/2016 (fi)"
    assert bar_name(special, "fi").endswith(" … 1398/2016 (fi)")
    assert bar_name("Hankinnat", "sv") == "Hankinnat (sv)"
    assert all(len(bar_name(t, "fi")) <= 50 for t in (fi, special))
