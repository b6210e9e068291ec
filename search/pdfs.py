"""Open a hit's PDF at its page: the app serves the indexed PDFs through
Streamlit's static file serving (``static/`` beside app.py, served at
``app/static/``) and links to ``<file>#page=N``, which browsers' PDF
viewers honour.

Streamlit serves only files inside ``static/`` (symlinks out of it are
refused), so each PDF is hard-linked there, or copied where a hard link is
impossible, under ``<doc id>-<sha256 prefix>.pdf``: a rebuilt file gets a new
address, and no browser shows a stale copy.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

STATIC_SUBDIR = "docs"
URL_PREFIX = "app/static/" + STATIC_SUBDIR
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def served_name(doc_id: str, sha256: str) -> str:
    return f"{_SAFE.sub('-', doc_id)}-{sha256[:12]}.pdf"


def publish(documents: dict[str, dict], corpus_dir: Path, static_dir: Path) -> dict[str, str]:
    """Make each indexed PDF servable; returns the link (without #page) by
    doc id. Files of documents no longer indexed are removed from the
    folder. A PDF that cannot be placed is logged and left without a link."""
    target_dir = static_dir / STATIC_SUBDIR
    links: dict[str, str] = {}
    wanted: set[str] = set()
    for doc_id, doc in documents.items():
        rel, digest = doc.get("path", ""), doc.get("sha256", "")
        if not rel.lower().endswith(".pdf") or not digest:
            continue
        source = corpus_dir / rel
        name = served_name(doc_id, digest)
        target = target_dir / name
        try:
            if not target.exists():
                if not source.is_file():
                    continue
                target_dir.mkdir(parents=True, exist_ok=True)
                _place(source, target)
        except OSError as exc:
            logger.warning("%s: cannot serve it for 'open at page' (%s)", source, exc)
            continue
        wanted.add(name)
        links[doc_id] = f"{URL_PREFIX}/{quote(name)}"
    if target_dir.is_dir():
        for old in target_dir.glob("*.pdf"):
            if old.name not in wanted:
                old.unlink(missing_ok=True)
    return links


def _place(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def page_link(base: str, page: int) -> str:
    """The link that opens the PDF at physical page ``page`` (1-based)."""
    return f"{base}#page={int(page)}"
