"""A tiny index for the unit tests, built once per session with the fake
embedder: a Finnish and a Swedish version of a three-section law (one
group) and an English note, each section one chunk.

Rows (documents in id order, chunks in document order):
0-2 lag-sv (1 §, 2 §, 3 §; 3 § in chapter 2), 3-5 laki-fi (same), 6 notes-en."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kb.records import Chunk
from kb.settings import Settings
from tests.fakes import FakeEmbedder

LAKI_FI = """# Hankintalaki

## 1 luku Yleiset säännökset

### 1 § Soveltamisala

Tätä lakia sovelletaan julkisiin hankintoihin.

### 2 § Tavoitteet

Hankinnat on toteutettava taloudellisesti.

## 2 luku Kynnysarvot

### 3 § Kynnysarvot

Kynnysarvo on 60 000 euroa.
"""

LAG_SV = """# Upphandlingslag

## 1 kap. Allmänna bestämmelser

### 1 § Tillämpningsområde

Denna lag tillämpas på offentlig upphandling.

### 2 § Mål

Upphandlingar ska genomföras ekonomiskt.

## 2 kap. Tröskelvärden

### 3 § Tröskelvärden

Tröskelvärdet är 60 000 euro.
"""

NOTES = "Notes on procurement\n\nThe carbon footprint of procurement is measured yearly.\n"

SOURCES = """
[[document]]
id = "laki-fi"
file = "laki.fi.md"
lang = "fi"
kind = "report"
group = "laki"

[[document]]
id = "lag-sv"
file = "lag.sv.md"
lang = "sv"
kind = "report"
group = "laki"

[[document]]
id = "notes-en"
file = "notes.txt"
lang = "en"
kind = "web page"
"""


@dataclass(frozen=True)
class Tiny:
    settings: Settings
    embedder: FakeEmbedder

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir


def write_corpus(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "laki.fi.md").write_text(LAKI_FI, encoding="utf-8")
    (corpus / "lag.sv.md").write_text(LAG_SV, encoding="utf-8")
    (corpus / "notes.txt").write_text(NOTES, encoding="utf-8")
    (corpus / "sources.toml").write_text(SOURCES, encoding="utf-8")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Tiny:
    """The tiny index, built once; read-only for the tests."""
    from ingest.pipeline import build_index

    root = tmp_path_factory.mktemp("tiny")
    write_corpus(root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    embedder = FakeEmbedder()
    report = build_index(settings, embedder=embedder)
    assert not report.failed, report.failed
    return Tiny(settings, embedder)


@pytest.fixture(scope="session")
def view(tiny):
    from kb.index.folder import load_generation
    from search.view import IndexView

    return IndexView(load_generation(tiny.index_dir))


def rows_of(view, doc_id: str) -> list[int]:
    return [int(r) for r in view.doc_rows[doc_id]]


def row_with(view, doc_id: str, key: str) -> int:
    """The row of ``doc_id`` whose heading key is ``key`` ("2§")."""
    (row,) = [r for r in rows_of(view, doc_id) if view.heading_keys[r] == key]
    return row


def chunk(
    doc_id: str = "d",
    section: tuple[str, ...] = ("S",),
    text: str = "text",
    ordinal: int = 0,
    lang: str = "en",
    group: str = "",
) -> Chunk:
    return Chunk(
        chunk_id=f"{doc_id}#{ordinal}",
        doc_id=doc_id,
        title=doc_id,
        lang=lang,
        kind="other",
        group=group,
        page_start=1,
        page_end=1,
        label_start="1",
        label_end="1",
        section=section,
        text=text,
        char_start=0,
        char_end=len(text),
        ordinal=ordinal,
    )
