"""Adding documents as the library's tests and the page's do: two short
texts, a sources.toml full of comments, ``add_file`` (check, then add with
the form's defaults) and a server on 127.0.0.1 holding a PDF and a web page
to add by address."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ingest.corpus.library import Form, add, check_file
from testsupport.httpserve import serve
from testsupport.pdfgen import make_pdf

FINNISH = (
    "# Hankintojen innovaatiot\n\nJulkiset hankinnat kannustavat yrityksiä uusien "
    "ratkaisujen kehittämiseen kunnissa ja valtiolla.\n"
)
SWEDISH = (
    "# Innovationer i upphandling\n\nOffentliga upphandlingar uppmuntrar företag att "
    "utveckla nya lösningar i kommuner och staten.\n"
)
COMMENTED = """# Metadata for the documents (a comment that must survive).
#   id   stable identifier

[[document]]
id = "sivu"  # trailing comment
file = "sivu.md"
title = "Sivu"
lang = "fi"

# a comment between entries
[[document]]
id = "official"
title = "Missing official"
kind = "strategy"
url = "https://example.org/strategy.pdf"
"""


def form(c, **kw) -> Form:
    """The form as the page fills it for the checked file ``c``, with ``kw`` changed."""
    values = dict(title=c.title, lang=c.lang, kind=c.kind)
    values.update(kw)
    return Form(**values)


def add_file(settings, name: str, data: bytes, **kw):
    """Check ``data`` as the file ``name`` and add it to the corpus."""
    c = check_file(name, data, settings)
    return add(settings, c, form(c, **kw))


ADDRESS_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8">
<title>Innovationer - Finansministeriet</title></head><body>
<nav><a href="/">Meny</a></nav><main><article><h1>Temagruppen Innovationer</h1>
<p>Offentliga upphandlingar uppmuntrar företag att utveckla nya lösningar i kommuner och
staten, och temagruppen samlar experter från upphandlande enheter och företag.</p>
</article></main><footer>Finansministeriet, Snellmansgatan 1</footer></body></html>"""


@contextlib.contextmanager
def serve_addresses(workdir: Path) -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 with /strategi.pdf and /sv/innovationer (every
    other path a 404); yields its URL and the paths requested so far."""
    pdf = make_pdf(workdir / "served.pdf", [["1 Inledning", "Upphandlingar och innovationer."]])
    routes = {
        "/strategi.pdf": ("application/pdf", pdf.read_bytes()),
        "/sv/innovationer": ("text/html; charset=utf-8", ADDRESS_PAGE.encode()),
    }

    class Routes:
        def __init__(self) -> None:
            self.url = ""
            self.hits: list[str] = []

        def handle(self, request) -> None:
            self.hits.append(request.path)
            ctype, body = routes.get(request.path, ("text/plain", b""))
            request.send_response(200 if request.path in routes else 404)
            request.send_header("Content-Type", ctype)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

    with serve(Routes()) as state:
        yield state.url, state.hits
