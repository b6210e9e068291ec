"""Adding documents to the corpus and removing them (ingest/corpus/library.py),
without Streamlit: the checks, safe names, sources.toml edited with its
comments kept and written atomically, and the build that follows."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ingest.corpus.address import fetch_address
from ingest.corpus.library import (
    AddressError,
    DuplicateError,
    RefusedError,
    UnknownDocumentError,
    add,
    check_file,
    documents,
    remove,
    safe_id,
)
from ingest.corpus.sources import SourcesError, load_sources
from ingest.fetching.download import FetchOptions
from ingest.fetching.netguard import AllowList
from ingest.pipeline import build_index
from testsupport.fakes import FakeEmbedder
from testsupport.library import COMMENTED, FINNISH, SWEDISH, add_file, form
from testsupport.pdfgen import make_pdf

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = pytest.mark.usefixtures("allow_loopback")

# ---------------------------------------------------------------- names

HOSTILE_NAMES = [
    ("[x](https:127.0.0.1:9).md", "x-https-127-0-0-1-9"),
    ("../../etc/passwd.md", "passwd"),
    ("..\\..\\windows\\evil.md", "evil"),
    (".hidden.md", "hidden"),
    ("..md", "document"),
    ("a/b/../c.md", "c"),
    ("$\\huge{BIG}$ **BOLD**.md", "huge-big-bold"),
    ("Hankintastrategia ÄÖÅ 2020.pdf", "hankintastrategia-aoa-2020"),
    ("<script>alert(1)</script>.md", "script"),  # after the last slash
    ("x" * 300 + ".md", "x" * 60),
]


@pytest.mark.parametrize(("name", "expected"), HOSTILE_NAMES)
def test_file_names_become_safe_ids(name, expected):
    got = safe_id(name)
    assert got == expected
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,59}", got)


@pytest.mark.parametrize("name", [n for n, _ in HOSTILE_NAMES if n.endswith(".md")])
def test_hostile_names_are_written_inside_the_corpus_under_a_safe_name(settings, name):
    added = add_file(settings, name, FINNISH.encode())
    corpus = settings.corpus_dir
    path = (corpus / added.path).resolve()
    assert path.parent == (corpus / "added").resolve()
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*\.md", path.name)
    assert [p.name for p in (corpus / "added").iterdir()] == [path.name]
    assert [p for p in corpus.parent.rglob("*.md")] == [corpus / added.path]
    (src,) = load_sources(corpus)
    assert src.file == added.path
    assert f"uploaded as {name}"[:200] in src.note  # as TOML text, read back as written


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("tool.exe", b"MZ\x90\x00", "type .exe is not accepted"),
        ("README", b"text", "type (none) is not accepted"),
        ("sivu.docx", b"PK\x03\x04", "type .docx is not accepted"),
        ("tyhja.md", b"", "empty file"),
        ("iso.txt", b"a" * 1_000_001, "over the limit of 1 MB"),
        ("fake.pdf", b"<html>not a pdf</html>", "not a PDF file"),
        ("blank.md", b"  \n\n  ", "no text"),
        ("binary.txt", b"\x00\xff\xfe\x00 binary", "cannot be read"),
    ],
)
def test_refused_files_say_why_and_nothing_is_written(settings, name, data, reason):
    from dataclasses import replace

    small = replace(settings, max_file_mb=1)
    with pytest.raises(RefusedError) as info:
        check_file(name, data, small)
    assert reason in str(info.value), info.value
    assert info.value.name == name
    assert "\n" not in str(info.value)
    assert list(settings.corpus_dir.iterdir()) == []


def test_a_pdf_gets_its_own_title_and_detected_language(settings, tmp_path):
    pdf = make_pdf(
        tmp_path / "strategia.pdf",
        [["1 Johdanto", "Julkiset hankinnat kannustavat yrityksiä innovaatioihin kunnissa."]],
        title="Kansallinen hankintastrategia",
    )
    c = check_file("strategia.pdf", pdf.read_bytes(), settings)
    assert (c.title, c.lang, c.kind, c.suffix) == (
        "Kansallinen hankintastrategia",
        "fi",
        "other",
        ".pdf",
    )
    c = check_file("sida.txt", SWEDISH.lstrip("# ").encode(), settings)
    assert c.lang == "sv" and c.title == "Innovationer i upphandling"
    c = check_file(
        "sida.html", b"<html><body><p>" + SWEDISH.encode() + b"</p></body></html>", settings
    )
    assert c.kind == "web page" and c.suffix == ".html"


def test_the_same_file_twice_is_reported_not_added(settings):
    added = add_file(settings, "sivu.md", FINNISH.encode())
    with pytest.raises(DuplicateError, match="already in the corpus as added/sivu.md"):
        check_file("toinen nimi.md", FINNISH.encode(), settings)
    # also when the check passed before the first was added (two sessions)
    (settings.corpus_dir / added.path).unlink()
    c = check_file("toinen.md", FINNISH.encode(), settings)
    (settings.corpus_dir / "kasin.md").write_bytes(FINNISH.encode())
    with pytest.raises(DuplicateError, match="kasin.md"):
        add(settings, c, form(c))


def test_a_file_already_indexed_is_reported_with_its_title(settings):
    (settings.corpus_dir / "sivu.md").write_bytes(FINNISH.encode())
    build_index(settings, embedder=FakeEmbedder())
    (settings.corpus_dir / "sivu.md").rename(settings.corpus_dir / ".moved")
    with pytest.raises(
        DuplicateError, match=r"already indexed as Hankintojen innovaatiot \(sivu.md\)"
    ):
        check_file("kopio.md", FINNISH.encode(), settings)


# ---------------------------------------------------------------- sources.toml


def test_sources_toml_keeps_its_comments_and_order(settings):
    corpus = settings.corpus_dir
    (corpus / "sivu.md").write_text(SWEDISH)
    (corpus / "sources.toml").write_text(COMMENTED)
    added = add_file(settings, "uusi.md", FINNISH.encode(), title='Uusi "sivu" [1]', kind="report")
    text = (corpus / "sources.toml").read_text()
    assert text.startswith(COMMENTED)  # every byte before the new entry as it was
    ids = [s.id for s in load_sources(corpus)]
    assert ids == ["sivu", "official", "uusi"]
    new = load_sources(corpus)[-1]
    assert (new.file, new.title, new.kind, new.lang) == (
        "added/uusi.md",
        'Uusi "sivu" [1]',
        "report",
        "fi",
    )
    assert "Added from the page on" in new.note
    remove(settings, added.id)
    assert (corpus / "sources.toml").read_text() == COMMENTED
    remove(settings, "official")  # an entry without its file
    text = (corpus / "sources.toml").read_text()
    assert "(a comment that must survive)" in text and "# trailing comment" in text
    assert [s.id for s in load_sources(corpus)] == ["sivu"]


def test_sources_toml_is_written_atomically(settings, monkeypatch):
    corpus = settings.corpus_dir
    (corpus / "sources.toml").write_text(COMMENTED)
    c = check_file("uusi.md", FINNISH.encode(), settings)
    replaced = []
    real = os.replace

    def failing(src, dst):
        replaced.append((Path(src).name, Path(dst).name))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError):
        add(settings, c, form(c))
    assert (corpus / "sources.toml").read_text() == COMMENTED  # untouched
    assert replaced and replaced[0][1] == "sources.toml"
    assert replaced[0][0].startswith(".sources.toml.")  # a temporary file beside it
    leftovers = [p.name for p in corpus.rglob("*") if p.is_file() and p.name != ".library.lock"]
    assert leftovers == ["sources.toml"]  # no temporary file, no orphan document
    monkeypatch.setattr(os, "replace", real)
    add(settings, c, form(c))
    assert [s.id for s in load_sources(corpus)][-1] == "uusi"


def test_an_edit_the_build_could_not_read_is_not_written(settings):
    corpus = settings.corpus_dir
    (corpus / "sources.toml").write_text(COMMENTED)
    c = check_file("uusi.md", FINNISH.encode(), settings)
    with pytest.raises(RefusedError, match="kind must be one of"):
        add(settings, c, form(c, kind="novel"))
    (corpus / "sources.toml").write_text("[[document]]\nid = 'x'\nkind = 'novel'\n")
    with pytest.raises(SourcesError):
        add(settings, c, form(c))
    assert not (corpus / "added").exists() or not list((corpus / "added").iterdir())


def test_a_version_of_another_document_shares_its_group(settings):
    corpus = settings.corpus_dir
    (corpus / "sivu.md").write_text(SWEDISH)
    (corpus / "sources.toml").write_text(COMMENTED)
    fi = add_file(settings, "fi.md", FINNISH.encode(), version_of="sivu")
    by_id = {s.id: s for s in load_sources(corpus)}
    assert by_id["sivu"].group == "sivu" and by_id[fi.id].group == "sivu"
    # a file without an entry gets one, with the group
    (corpus / "lone.md").write_text("# Lone\n\nA page in English about public procurement.\n")
    sv = add_file(settings, "sv.txt", SWEDISH.encode() + b"\nMer text.", version_of="lone")
    by_id = {s.id: s for s in load_sources(corpus)}
    assert by_id["lone"].file == "lone.md" and by_id["lone"].group == "lone"
    assert by_id[sv.id].group == "lone"


# ---------------------------------------------------------------- remove and build


def test_added_documents_are_indexed_and_removed_ones_dropped(settings, tmp_path):
    corpus = settings.corpus_dir
    (corpus / "kasin.md").write_text("# Käsin\n\nTiedosto ilman merkintää hankinnoista.\n")
    pdf = make_pdf(tmp_path / "s.pdf", [["1 Johdanto", "Hankinnat edistävät innovaatioita."]])
    a = add_file(settings, "Strategia.pdf", pdf.read_bytes(), title="Strategia", kind="strategy")
    b = add_file(settings, "sivu.md", FINNISH.encode())
    report = build_index(settings, embedder=FakeEmbedder())
    assert {f.doc_id: f.status for f in report.files} == {
        "strategia": "indexed",
        "sivu": "indexed",
        "kasin": "indexed",
    }
    listed = {d.id: d for d in documents(settings)}
    assert listed["strategia"].title == "Strategia" and listed["kasin"].entry is False
    removed = remove(settings, a.id)
    assert removed.path == "added/strategia.pdf"
    assert not (corpus / a.path).exists()
    remove(settings, "kasin")  # a file without an entry: the file goes
    assert not (corpus / "kasin.md").exists()
    report = build_index(settings, embedder=FakeEmbedder())
    assert {f.doc_id: f.status for f in report.files if f.status != "removed"} == {
        b.id: "unchanged"
    }
    assert [s.id for s in load_sources(corpus)] == [b.id]
    with pytest.raises(UnknownDocumentError):
        remove(settings, a.id)


def test_ids_do_not_collide_with_existing_documents(settings):
    corpus = settings.corpus_dir
    (corpus / "sivu.md").write_text(SWEDISH)  # derived id "sivu"
    a = add_file(settings, "sivu.md", FINNISH.encode())
    b = add_file(settings, "sivu.txt", (FINNISH + "Toinen.").encode())
    assert (a.id, b.id) == ("sivu-2", "sivu-3")
    assert a.path == "added/sivu-2.md"


def test_removing_never_follows_a_link_out_of_the_corpus(settings, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text(FINNISH)
    (settings.corpus_dir / "linkki.md").symlink_to(outside)
    with pytest.raises(UnknownDocumentError):  # discover skips it: not a document
        remove(settings, "linkki")
    assert outside.exists()
    inside = settings.corpus_dir / "oikea.md"
    inside.write_text(SWEDISH)
    (settings.corpus_dir / "linkki2.md").symlink_to(inside)
    remove(settings, "linkki2")
    assert inside.exists() and not (settings.corpus_dir / "linkki2.md").is_symlink()


# ---------------------------------------------------------------- by address

FAST = FetchOptions(
    connect_timeout=2, read_timeout=5, retries=0, deadline=20, allow=AllowList.parse("127.0.0.1")
)


def test_a_pdf_address_goes_where_fetch_puts_pdfs(settings, address_server):
    base, _ = address_server
    c = fetch_address(f"{base}/strategi.pdf", settings, FAST)
    assert (c.suffix, c.url, c.lang) == (".pdf", f"{base}/strategi.pdf", "sv")
    added = add(settings, c, form(c, kind="strategy"))
    assert added.path == "official/strategi.pdf"
    (src,) = load_sources(settings.corpus_dir)
    assert src.url == f"{base}/strategi.pdf" and src.kind == "strategy"
    with pytest.raises(DuplicateError):
        fetch_address(f"{base}/strategi.pdf", settings, FAST)


def test_a_web_page_address_is_kept_as_a_snapshot(settings, address_server):
    from ingest.reading.webpage import read_snapshot

    base, _ = address_server
    c = fetch_address(f"{base}/sv/innovationer", settings, FAST)
    assert (c.suffix, c.kind, c.title, c.lang) == (
        ".html",
        "web page",
        "Temagruppen Innovationer",
        "sv",
    )
    added = add(settings, c, form(c))
    assert added.path == "added/innovationer.html"
    snapshot = read_snapshot(settings.corpus_dir / added.path)
    assert snapshot.url == f"{base}/sv/innovationer"
    report = build_index(settings, embedder=FakeEmbedder())
    assert [(f.doc_id, f.status) for f in report.files] == [("innovationer", "indexed")]


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/missing", r"could not fetch this address \(not found\)"), ("ftp", "not a web address")],
)
def test_an_address_that_fails_says_why(settings, address_server, path, reason):
    base, _ = address_server
    url = "ftp://example.org/x.pdf" if path == "ftp" else base + path
    with pytest.raises(AddressError, match=reason):
        fetch_address(url, settings, FAST)


def test_no_network_is_reported_as_such(settings):
    with pytest.raises(AddressError, match=r"could not fetch this address \(not reachable\)"):
        fetch_address("http://127.0.0.1:9/x.pdf", settings, FAST)


def test_fetch_leaves_an_uploaded_pdf_alone(settings, tmp_path):
    from ingest.fetching.fetch import fetch_all
    from ingest.fetching.results import FetchStatus

    pdf = make_pdf(tmp_path / "s.pdf", [["1 Johdanto", "Hankinnat edistävät innovaatioita."]])
    added = add_file(settings, "oma.pdf", pdf.read_bytes(), kind="report")
    corpus = settings.corpus_dir
    report = fetch_all(corpus / "sources.toml", corpus / "official", FAST)
    (result,) = report.results
    assert (result.status, result.detail) == (
        FetchStatus.NO_IDENTIFIER,
        f"local file corpus/{added.path}",
    )
    assert not list((corpus / "official").iterdir())  # nothing fetched, nothing asked for


def test_a_version_of_an_indexed_page_without_an_entry_keeps_its_kind(settings):
    from ingest.reading.webpage import snapshot_text

    corpus = settings.corpus_dir
    (corpus / "web").mkdir()
    html = f"<html><body><main><h1>Innovationer</h1><p>{SWEDISH}</p></main></body></html>"
    snapshot = snapshot_text(html, "https://example.org/sv", "2026-11-30T00:00:00Z")
    (corpus / "web" / "sida.html").write_text(snapshot, encoding="utf-8")
    build_index(settings, embedder=FakeEmbedder())
    fi = add_file(settings, "fi.md", FINNISH.encode(), version_of="web-sida")
    by_id = {s.id: s for s in load_sources(corpus)}
    assert (by_id["web-sida"].kind, by_id["web-sida"].group) == ("web page", "web-sida")
    assert by_id[fi.id].group == "web-sida"
