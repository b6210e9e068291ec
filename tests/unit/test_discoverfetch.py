"""ingest/fetching/discoverfetch.py without a network: the documents a
page's snapshot links to are recorded and each handed to ``fetch_source``
once; a publication page's versions in other languages follow (its own
site only); offline on a fresh clone nothing is written."""

from __future__ import annotations

from ingest.corpus.sources import Source
from ingest.fetching.discoverfetch import fetch_discovered
from ingest.fetching.discovery import read_discovered
from ingest.fetching.httpread import FetchOptions
from ingest.fetching.results import FetchResult

PAGE = Source(id="sivu", lang="fi", kind="web page", url="https://vm.fi/sivu", file="sivu.fi.html")
SNAPSHOT = """<html><body>
<a href="/liite-1.pdf">Liite 1</a>
<a href="https://vm.fi/handle/10024/7">Hankintastrategia</a>
<a href="https://elsewhere.example/x.pdf">Not a site of sources.toml</a>
</body></html>"""
PUBLICATION = "https://vm.fi/handle/10024/7"
IN_SWEDISH = '<a href="/handle/10024/8" hreflang="sv">På svenska</a>'  # on the landing's site


class Fetcher:
    """``fetch_source`` as a fake: each request recorded; ``landings``
    maps an address to the (URL, HTML) of the page that address answered."""

    def __init__(self, landings: dict[str, tuple[str, str]] | None = None) -> None:
        self.asked: list[str] = []
        self.landings = landings or {}

    def __call__(self, source: Source) -> FetchResult:
        self.asked.append(source.url)
        return FetchResult(source.id, "fetched", landing=self.landings.get(source.url))


def corpus(tmp_path):
    (tmp_path / PAGE.file).write_text(SNAPSHOT, encoding="utf-8")
    return tmp_path


def test_each_linked_document_is_recorded_and_fetched_once(tmp_path):
    fetch = Fetcher()
    found = fetch_discovered(corpus(tmp_path), [PAGE], FetchOptions(), fetch)
    assert sorted(fetch.asked) == ["https://vm.fi/handle/10024/7", "https://vm.fi/liite-1.pdf"]
    assert {d.url for d in found} == set(fetch.asked)
    assert read_discovered(tmp_path) == found
    annex = next(d for d in found if d.url.endswith(".pdf"))
    assert (annex.kind, annex.lang_hint, annex.found_on) == ("annex", "fi", "sivu")


def test_a_publication_pages_other_language_is_found_and_fetched(tmp_path):
    landing = (PUBLICATION, f"<html><body>{IN_SWEDISH}</body></html>")
    fetch = Fetcher({PUBLICATION: landing})
    found = fetch_discovered(corpus(tmp_path), [PAGE], FetchOptions(), fetch)
    assert fetch.asked.count("https://vm.fi/handle/10024/8") == 1
    swedish = next(d for d in found if d.url.endswith("/8"))
    original = next(d for d in found if d.url == PUBLICATION)
    assert swedish.lang_hint == "sv" and swedish.group == original.group != ""
    assert read_discovered(tmp_path) == found


def test_a_landing_on_another_site_is_not_followed(tmp_path):
    moved = ("https://other.example/handle/10024/7", f"<html><body>{IN_SWEDISH}</body></html>")
    fetch = Fetcher({PUBLICATION: moved})
    found = fetch_discovered(corpus(tmp_path), [PAGE], FetchOptions(), fetch)
    assert sorted(fetch.asked) == ["https://vm.fi/handle/10024/7", "https://vm.fi/liite-1.pdf"]
    assert len(found) == 2


def test_offline_on_a_fresh_clone_nothing_is_fetched_nor_written(tmp_path):
    fetch = Fetcher()
    assert fetch_discovered(tmp_path, [PAGE], FetchOptions(), fetch) == []  # no snapshot yet
    assert fetch.asked == [] and not (tmp_path / "sources.discovered.json").exists()
