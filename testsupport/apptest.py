"""The page through Streamlit's ``AppTest``: run app.py with query
parameters, and read the values of a kind of widget."""

from __future__ import annotations

import json
import re

from streamlit.testing.v1 import AppTest

from kb.settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def run_page(**params) -> AppTest:
    """app.py run once with ``params`` as its query parameters."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def widget_values(at: AppTest, kind: str) -> list[str]:
    """The values of every widget of ``kind`` ("multiselect", "radio", ...)."""
    return [x.value for x in getattr(at, kind)]


# The page tests' two-document corpus: HOSTILE (testsupport/hostile.py) as
# sivu.fi.md, this as sida.sv.md, described by SOURCES as one group.
SWEDISH = """# Upphandlingar

Upphandlande enheter främjar innovationer genom upphandlingar.
"""

SOURCES = """
[[document]]
id = "sivu-fi"
file = "sivu.fi.md"
title = "Hankinnat"
lang = "fi"
kind = "web page"
group = "sivu"
url = "https://example.org/sivu"
retrieved = "2024-05-01"

[[document]]
id = "sida-sv"
file = "sida.sv.md"
title = "Upphandlingar"
lang = "sv"
kind = "web page"
group = "sivu"
"""


def write_page_corpus(corpus_dir) -> None:
    """HOSTILE as sivu.fi.md and SWEDISH as sida.sv.md, with SOURCES."""
    from testsupport.hostile import HOSTILE

    (corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    (corpus_dir / "sida.sv.md").write_text(SWEDISH, encoding="utf-8")
    (corpus_dir / "sources.toml").write_text(SOURCES, encoding="utf-8")


def query_param(at, key: str) -> str:
    """A query parameter as the page wrote it (AppTest may keep a list)."""
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


# Labels the page once showed in English whatever its language.
ENGLISH = (
    "Select all",
    "other",
    "web page",
    "indexed",
    "chunks",
    "passages",
    "documents",
    "pages",
    "failed",
    "characters",
    "limit",
    "dense",
    "bm25",
    "hybrid",
    "Meaning",
    "Exact words",
    "title",
    "lang",
    "Answer",
    "Copy citation",
    "Examples",
    "Download",
    "All",
)


def shown_strings(at) -> list[str]:
    """Every text of the page but document text: element bodies, widget
    labels, option names, placeholders, table headers and codes, chart
    axes."""
    texts = [
        e.value
        for kind in ("title", "caption", "subheader", "info", "warning", "error", "success")
        for e in getattr(at, kind)
    ]
    texts += [m.value for m in at.markdown]
    texts += [
        m.value for m in at.html if not m.value.startswith(("<div id=", "<style"))
    ]  # no cards
    widgets = ("text_input", "selectbox", "multiselect", "slider", "toggle", "radio", "button")
    texts += [w.label for kind in widgets for w in getattr(at, kind)]
    texts += [e.label for e in at.expander]
    texts += [t.label for t in at.tabs]
    texts += [
        str(o)
        for kind in ("selectbox", "multiselect", "radio")
        for w in getattr(at, kind)
        for o in w.options
    ]
    texts += [w.placeholder for w in at.multiselect if w.placeholder]
    texts += [b.proto.label for b in at.get("download_button")]
    texts += [p.proto.popover.label for p in at.get("popover")]
    for df in at.dataframe:
        table = df.value
        texts += list(table.columns)
        texts += [str(v) for col in (table.columns[1], table.columns[5]) for v in table[col]]
    for chart in at.get("vega_lite_chart"):
        encoding = json.loads(chart.proto.spec)["encoding"]
        texts += [str(v.get("field")) for v in encoding.values() if isinstance(v, dict)]
        texts += [str(v.get("title", "")) for v in encoding.values() if isinstance(v, dict)]
    return texts


def english_in(at, words: tuple[str, ...] = ENGLISH) -> list[tuple[str, str]]:
    """(word, text) for each English label shown among ``words``."""
    found = []
    for text in shown_strings(at):
        text = re.sub(r"<[^>]*>", " ", text)  # what shows, not the tags' attributes
        for word in words:
            if re.search(rf"(?<![\w&]){re.escape(word)}(?!\w)", text):
                found.append((word, text))
    assert not [m for m in at.multiselect if m.proto.select_all != 0]  # its "Select all" is English
    return found


# Two sources.toml entries whose files are not there: one whose last fetch
# failed, one missing (the documents view's rough-edge tests).
LISTED = """
[[document]]
id = "strategia-fi"
file = "official/strategia-fi.pdf"
title = "Kansallinen hankintastrategia"
lang = "fi"
kind = "strategy"
url = "http://127.0.0.1:9/strategia.pdf"

[[document]]
id = "teemaryhmat-fi"
file = "web/teemaryhmat-fi.html"
title = ""
lang = "fi"
kind = "web page"
url = "http://127.0.0.1:9/teemaryhmat"
"""
