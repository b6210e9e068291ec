"""The official pages listed in corpus/sources.toml, and a fresh machine
without network: sources listed but not fetched do not break the build."""

from __future__ import annotations

import shutil

from ingest.corpus.sources import load_sources
from ingest.pipeline import build_index
from kb.index.folder import load_generation
from kb.settings import PROJECT_ROOT, Settings
from testsupport.fakes import FakeEmbedder

CORPUS = PROJECT_ROOT / "corpus"

PAGES = {
    "https://vm.fi/teemaryhmat": ("fi", "theme-groups"),
    "https://vm.fi/sv/temagrupper": ("sv", "theme-groups"),
    "https://vm.fi/sv/innovationer": ("sv", "theme-group-innovations"),
    "https://vm.fi/sv/strategisk-ledning": ("sv", "theme-group-strategic-leadership"),
    "https://vm.fi/sv/social-hallbarhet": ("sv", "theme-group-social-sustainability"),
    "https://vm.fi/sv/ekologisk-hallbarhet": ("sv", "theme-group-ecological-sustainability"),
    "https://vm.fi/hankinnat-ekologinen-kestavyys": ("fi", "theme-group-ecological-sustainability"),
    "https://vm.fi/en/procurfinland": ("en", "procurfinland"),
}


def test_the_official_pages_are_listed_with_their_addresses_and_groups():
    sources = load_sources(CORPUS)
    pages = {s.url: s for s in sources if s.kind == "web page"}
    assert {url: (s.lang, s.group) for url, s in pages.items()} == PAGES
    bundled = pages["https://vm.fi/sv/innovationer"]
    assert bundled.file == "web/temagruppen-innovationer.sv.md"  # kept by hand, not fetched
    for url, s in pages.items():
        assert not s.handle and not s.urn, url  # no identifier invented
        if s.id != bundled.id:
            assert s.file == f"web/{s.id}.html", s


def test_a_fresh_checkout_without_fetched_files_builds(tmp_path):
    corpus = tmp_path / "fresh" / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("*.pdf", "*.html", "*.lock"))
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "fresh" / "index", workers=1)
    report = build_index(settings, embedder=FakeEmbedder())
    assert not report.failed
    assert [(f.path, f.status) for f in report.files] == [
        ("web/temagruppen-innovationer.sv.md", "indexed")
    ]
    doc = load_generation(settings.index_dir).manifest["files"][report.files[0].path]["doc"]
    assert doc["id"] == "temagruppen-innovationer-sv"
    assert doc["url"] == "https://vm.fi/sv/innovationer"
