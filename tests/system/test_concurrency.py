"""A rebuild swaps in a new index while a searcher answers queries in
threads: every answer comes whole from one generation, the old or the new,
and the searcher moves to the new one."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from ingest.pipeline import build_index
from kb.index.folder import load_generation
from search import Searcher, StaleHitError
from search.modes import Highlighting
from testsupport.fakes import FakeEmbedder

pytestmark = pytest.mark.slow  # second lane: rebuilds under running queries

QUERIES = ["hankinnat innovaatiot", "upphandling", "procurement innovation", "ympäristö"]

OLD = {
    "a.fi.md": "# Hankinnat\n\nInnovaatiot ja hankinnat vanhassa versiossa.\n\n"
    "## Ympäristö\n\nYmpäristö ja hankinnat.\n",
    "b.sv.md": "# Upphandling\n\nInnovationer och upphandling, gammal version.\n",
    "c.en.md": "# Procurement\n\nInnovation in public procurement, old version.\n",
}
NEW = {
    "a.fi.md": "# Hankinnat\n\nInnovaatiot, uusi versio, enemmän tekstiä hankinnoista.\n\n"
    "## Ympäristö\n\nYmpäristö.\n\n## Seuranta\n\nMittarit ja hankinnat.\n",
    "b.sv.md": "# Upphandling\n\nNy version om upphandling och innovationer.\n",
    "d.en.md": "# Procurement strategy\n\nA new document on procurement and innovation.\n",
}


def _write(corpus, files: dict[str, str]) -> None:
    for old in corpus.glob("*.md"):
        old.unlink()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")


def _answers(searcher: Searcher) -> dict[str, list]:
    """What a search shows, per query and mode: chunk, page and text."""
    out = {}
    for q in QUERIES:
        for mode in ("dense", "bm25", "hybrid"):
            hits = searcher.search(q, k=5, mode=mode, highlight=Highlighting.NONE)
            out[(q, mode)] = [(h.chunk_id, h.page_start, h.text, round(h.score, 9)) for h in hits]
    return out


def test_queries_during_a_rebuild_never_mix_generations(settings, tmp_path):
    fake = FakeEmbedder()
    # What each generation answers, each measured alone.
    expected = {}
    for name, files in (("old", OLD), ("new", NEW)):
        alone = replace(settings, index_dir=tmp_path / f"alone-{name}")
        _write(settings.corpus_dir, files)
        build_index(alone, embedder=fake)
        expected[name] = _answers(Searcher.load(alone.index_dir, alone, embedder=fake))
    assert expected["old"] != expected["new"]

    _write(settings.corpus_dir, OLD)
    build_index(settings, embedder=fake)
    searcher = Searcher.load(settings.index_dir, settings, embedder=fake)
    old_generation = searcher.generation.name

    stop = threading.Event()
    seen: list[str] = []
    problems: list[str] = []
    stale: list[str] = []
    reloads: list[bool] = []

    def serve() -> None:
        while not stop.is_set():
            reloads.append(searcher.reload_if_changed())
            for (q, mode), _ in expected["old"].items():
                hits = searcher.search(q, k=5, mode=mode, highlight=Highlighting.NONE)
                got = [(h.chunk_id, h.page_start, h.text, round(h.score, 9)) for h in hits]
                if got == expected["old"][(q, mode)]:
                    seen.append("old")
                elif got == expected["new"][(q, mode)]:
                    seen.append("new")
                else:
                    problems.append(f"{q!r} {mode}: {got}")
                for h in hits[:1]:
                    try:
                        aligned = searcher.aligned(h)
                    except StaleHitError:  # another thread swapped in a new generation
                        stale.append(h.chunk_id)
                        continue
                    except Exception as exc:  # noqa: BLE001 - any other failure is the finding
                        problems.append(f"aligned: {exc!r}")
                        continue
                    for other in aligned:
                        if other.chunk_id.split("#")[0] == h.chunk_id.split("#")[0]:
                            problems.append(f"aligned to its own document: {other.chunk_id}")

    def load_repeatedly() -> None:
        """Loading while generations are swapped must never fail."""
        while not stop.is_set():
            try:
                gen = load_generation(settings.index_dir)
                assert gen.index.ntotal == len(gen.chunks)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                problems.append(f"load during swap: {exc!r}")

    threads = [threading.Thread(target=serve) for _ in range(3)]
    threads.append(threading.Thread(target=load_repeatedly))
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        for round_ in range(6):  # swap back and forth: six generations
            _write(settings.corpus_dir, NEW if round_ % 2 == 0 else OLD)
            build_index(settings, embedder=fake)
            time.sleep(0.1)
        _write(settings.corpus_dir, NEW)
        build_index(settings, embedder=fake)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert not problems, problems[:5]
    assert "old" in seen and "new" in seen
    assert any(reloads)
    assert searcher.generation.name != old_generation
    assert _answers(searcher) == expected["new"]
