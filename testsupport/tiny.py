"""The tiny corpus of the unit tests (tests/unit/conftest.py indexes it once
per session with the fake embedder): a Finnish and a Swedish version of a
three-section law (one group) and an English note, each section one chunk.

Rows (documents in id order, chunks in document order):
0-2 lag-sv (1 §, 2 §, 3 §; 3 § in chapter 2), 3-5 laki-fi (same), 6 notes-en."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.settings import Settings
from testsupport.fakes import FakeEmbedder

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


def rows_of(view, doc_id: str) -> list[int]:
    """The rows of ``doc_id`` in ``view``, in document order."""
    return [int(r) for r in view.doc_rows[doc_id]]


def row_with(view, doc_id: str, key: str) -> int:
    """The row of ``doc_id`` whose heading key is ``key`` ("2§")."""
    (row,) = [r for r in rows_of(view, doc_id) if view.heading_keys[r] == key]
    return row
