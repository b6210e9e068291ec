"""The page through Streamlit's ``AppTest``: run app.py with query
parameters, and read the values of a kind of widget."""

from __future__ import annotations

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
