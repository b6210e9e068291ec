"""A document's whole title. PDF metadata often holds a fragment of it
("julkisista hankinnoista ja käyttöoikeussopimuksista") while the running
header printed on every page holds all of it ("Laki julkisista hankinnoista
ja käyttöoikeussopimuksista 1397/2016"). The cleaner drops that header as
page furniture, so the title is read from the raw pages."""

from __future__ import annotations

import re
from collections import Counter

from ingest.reading.clean import normalize_unicode

MAX_TITLE_CHARS = 200


def _norm(text: str) -> str:
    return " ".join(normalize_unicode(text).casefold().split())


def running_header(pages: list[str]) -> str:
    """The first line that opens at least half of the pages (three at least),
    or ""; a line that is only a page number does not count."""
    firsts = []
    for page in pages:
        lines = [line.strip() for line in normalize_unicode(page).split("\n") if line.strip()]
        if lines:
            firsts.append(" ".join(lines[0].split()))
    if len(firsts) < 3:
        return ""
    line, n = Counter(firsts).most_common(1)[0]
    if n * 2 < len(pages) or not re.search(r"[^\W\d_]", line) or len(line) > MAX_TITLE_CHARS:
        return ""
    return line


def whole_title(hint: str, pages: list[str]) -> str:
    """The running header when it contains the hint (or there is no hint and
    the header reads like a title), else the hint."""
    header = running_header(pages)
    hint = " ".join(normalize_unicode(hint).split())
    if header and (not hint or _norm(hint) in _norm(header)):
        return header
    return hint
