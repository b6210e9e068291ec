"""The README, the docs and the code's comments name modules by path; a
path that no longer exists (a module moved by the structure issue) sends a
newcomer nowhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATH = re.compile(r"\b(?:kb|ingest|search|webapp|evaluation|benchmarks)/[A-Za-z_/]+\.py\b")
EXAMPLES = {"search/a.py", "ingest/b.py", "kb/x.py", "kb/y.py", "kb/long.py"}  # test_layers'


def _texts() -> list[Path]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    code = [
        p
        for top in ("kb", "ingest", "search", "webapp", "evaluation", "benchmarks", "tests")
        for p in sorted((ROOT / top).rglob("*.py"))
    ]
    return docs + code + [ROOT / "app.py"]


def stale_paths(text: str) -> set[str]:
    return {p for p in PATH.findall(text) if p not in EXAMPLES and not (ROOT / p).exists()}


def test_the_check_sees_a_moved_module():
    assert stale_paths("see ingest/discovery.py and ingest/fetching/discovery.py") == {
        "ingest/discovery.py"
    }


def test_every_module_path_named_exists():
    stale = {
        str(p.relative_to(ROOT)): sorted(found)
        for p in _texts()
        if p != Path(__file__).resolve() and (found := stale_paths(p.read_text(encoding="utf-8")))
    }
    assert not stale
