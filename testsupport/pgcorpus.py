"""The small corpus of the PostgreSQL tests (the same answers as the index
folder, faults, scale): three documents in fi, sv and en, a fourth to add,
queries over them, and a corpus of many passages."""

from __future__ import annotations

from pathlib import Path

# Passages long enough that the fake embedder's cosines rarely tie.
OLD = {
    "hankinnat.fi.md": "# Hankinnat\n\nJulkiset hankinnat edistävät innovaatioita ja "
    "kestävää kehitystä kunnissa.\n\n## Ympäristö\n\nYmpäristökriteerit otetaan huomioon "
    "hankintayksikön kilpailutuksissa ja sopimuksissa.\n\n## Seuranta\n\nMittarit kertovat "
    "hankintojen vaikutuksista vuosittain.\n",
    "upphandling.sv.md": "# Upphandling\n\nOffentlig upphandling främjar innovationer och "
    "hållbar utveckling i kommunerna.\n\n## Miljö\n\nMiljökriterier beaktas i den "
    "upphandlande enhetens konkurrensutsättningar.\n",
    "procurement.en.md": "# Procurement\n\nPublic procurement promotes innovation and "
    "sustainable development in municipalities.\n\n## Environment\n\nEnvironmental "
    "criteria are considered in tendering and contracts.\n",
}
NEW_FILE = {
    "strategy.en.md": "# Strategy\n\nA national procurement strategy sets goals for "
    "knowledge management and the economy of procurement.\n"
}
QUERIES = [
    "hankinnat innovaatiot",
    "ympäristökriteerit kilpailutus",
    "upphandling miljö",
    "procurement innovation municipalities",
    "seuranta mittarit",
]


def write_files(corpus: Path, files: dict[str, str]) -> None:
    """Write each text of ``files`` to ``corpus`` under its name."""
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")


def many_passages(corpus: Path, n_docs: int = 40) -> None:
    """``n_docs`` Finnish and Swedish documents of six sections each, made of
    six words with numbers: enough passages for a plan to matter."""
    words = ("hankinta", "innovaatio", "ympäristö", "sopimus", "kilpailutus", "kunta")
    ord_ = ("upphandling", "innovation", "miljö", "avtal", "anbud", "kommun")
    for i in range(n_docs):
        for lang, vocab in (("fi", words), ("sv", ord_)):
            sections = "\n\n".join(
                f"## {vocab[(i + j) % 6]} {j}\n\n"
                + " ".join(f"{vocab[(i * j + k) % 6]}{(i + k) % 9}" for k in range(30))
                for j in range(6)
            )
            (corpus / f"d{i}.{lang}.md").write_text(f"# {lang} {i}\n\n{sections}\n", "utf-8")
