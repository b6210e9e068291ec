"""'Open at page' serves only what was indexed (webapp/pdfs.py): a regular
file reached through no symlink, whose bytes have the indexed sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from testsupport.records import document
from webapp import pdfs
from webapp.pdfs import publish, served_name

PDF = b"%PDF-1.4 indexed content\n%%EOF\n"
SECRET = b"root:x:0:0:not a pdf at all\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "corpus" / "official").mkdir(parents=True, exist_ok=True)
    (tmp_path / "corpus" / "official" / "s.pdf").write_bytes(PDF)
    (tmp_path / "secret.txt").write_bytes(SECRET)  # a readable file outside the corpus
    return tmp_path / "corpus"


@pytest.fixture(params=["link", "copy"])
def placing(request, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of placing a file: a hard link, and the copy made where a
    hard link is impossible (another file system: os.link fails)."""
    if request.param == "copy":

        def cross_device(*args, **kwargs):
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(pdfs.os, "link", cross_device)
    return request.param


DOCS = {"s": document("s", path="official/s.pdf", sha256=_sha(PDF))}


def _served(static: Path) -> list[str]:
    docs = static / "docs"
    return sorted(os.listdir(docs)) if docs.is_dir() else []


def test_an_indexed_regular_file_is_published(corpus, tmp_path, placing):
    static = tmp_path / "static"
    links = publish(DOCS, corpus, static)
    name = served_name("s", _sha(PDF))
    assert links == {"s": f"app/static/docs/{name}"}
    served = static / "docs" / name
    assert served.read_bytes() == PDF and not served.is_symlink()
    source = corpus / "official" / "s.pdf"
    assert os.path.samefile(served, source) == (placing == "link")
    assert _served(static) == [name]  # no temporary file left behind
    assert publish(DOCS, corpus, static) == links  # the next generation keeps it


def test_a_symlink_in_place_of_an_indexed_pdf_is_not_published(corpus, tmp_path, placing):
    static = tmp_path / "static"
    assert publish(DOCS, corpus, static)  # served while it was the indexed file
    pdf = corpus / "official" / "s.pdf"
    pdf.unlink()
    pdf.symlink_to(tmp_path / "secret.txt")
    assert publish(DOCS, corpus, static) == {}
    assert _served(static) == []  # the earlier copy is gone too
    # even when the link's target has exactly the indexed bytes
    (tmp_path / "secret.txt").write_bytes(PDF)
    assert publish(DOCS, corpus, static) == {}
    assert _served(static) == []


def test_a_symlink_to_a_file_outside_is_never_copied(corpus, tmp_path, placing):
    """The attack: the manifest's hash is the target's (say the file was
    indexed through the link); still nothing is served through a link."""
    pdf = corpus / "official" / "s.pdf"
    pdf.unlink()
    pdf.symlink_to(tmp_path / "secret.txt")
    docs = {"s": document("s", path="official/s.pdf", sha256=_sha(SECRET))}
    assert publish(docs, corpus, tmp_path / "static") == {}
    assert _served(tmp_path / "static") == []


def test_a_symlinked_folder_inside_the_corpus_is_not_followed(corpus, tmp_path, placing):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "s.pdf").write_bytes(PDF)
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    docs = {"s": document("s", path="linked/s.pdf", sha256=_sha(PDF))}
    assert publish(docs, corpus, tmp_path / "static") == {}
    assert _served(tmp_path / "static") == []


def test_a_file_changed_since_indexing_is_not_published(corpus, tmp_path, placing):
    static = tmp_path / "static"
    assert publish(DOCS, corpus, static)
    (corpus / "official" / "s.pdf").write_bytes(b"%PDF-1.4 other content\n")
    assert publish(DOCS, corpus, static) == {}
    assert _served(static) == []


def test_a_changed_file_is_not_published_even_once(corpus, tmp_path, placing):
    (corpus / "official" / "s.pdf").write_bytes(b"%PDF-1.4 other content\n")
    assert publish(DOCS, corpus, tmp_path / "static") == {}
    assert _served(tmp_path / "static") == []


def test_a_stale_copy_is_replaced_by_the_indexed_bytes(corpus, tmp_path, placing):
    """A file already in static/docs under the right name but with other
    bytes (left by an earlier version) is not trusted."""
    static = tmp_path / "static"
    name = served_name("s", _sha(PDF))
    (static / "docs").mkdir(parents=True)
    (static / "docs" / name).write_bytes(SECRET)
    assert publish(DOCS, corpus, static) == {"s": f"app/static/docs/{name}"}
    assert (static / "docs" / name).read_bytes() == PDF


def test_special_files_and_escaping_paths_are_not_published(corpus, tmp_path):
    os.mkfifo(corpus / "official" / "fifo.pdf")  # must not hang the page either
    docs = {
        "fifo": document("fifo", path="official/fifo.pdf", sha256=_sha(b"")),
        "up": document("up", path="../secret.pdf", sha256=_sha(SECRET)),
        "abs": document("abs", path=str(tmp_path / "secret.pdf"), sha256=_sha(SECRET)),
        "missing": document("missing", path="official/gone.pdf", sha256=_sha(PDF)),
    }
    (tmp_path / "secret.pdf").write_bytes(SECRET)
    assert publish(docs, corpus, tmp_path / "static") == {}
    assert _served(tmp_path / "static") == []


def test_a_file_swapped_after_it_was_opened_is_not_what_gets_served(corpus, tmp_path, monkeypatch):
    """The name is replaced between opening the file and hard-linking it:
    the link is not the opened file, so the opened file is copied instead."""
    real_link = os.link
    pdf = corpus / "official" / "s.pdf"

    def swap_then_link(*args, **kwargs):
        pdf.unlink()
        pdf.write_bytes(SECRET)
        return real_link(*args, **kwargs)

    monkeypatch.setattr(pdfs.os, "link", swap_then_link)
    static = tmp_path / "static"
    assert publish(DOCS, corpus, static)
    assert (static / "docs" / served_name("s", _sha(PDF))).read_bytes() == PDF
