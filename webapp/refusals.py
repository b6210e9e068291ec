"""What the page says when a document could not be added from an address:
for a failed fetch only its class (not found, not allowed, too large, timed
out, not reachable, not a document) in the page's language, never the
server's bytes or the socket's error (ingest/corpus/address.py)."""

from __future__ import annotations

from ingest.corpus.address import FetchRefusedError
from kb.errors import KBError
from kb.labels import label
from webapp.cards import plain


def refusal_text(exc: KBError, ui: str) -> str:
    """One line for the page: why ``exc`` (from fetch_address) refused the address."""
    if isinstance(exc, FetchRefusedError):
        why = label(ui, f"why_{exc.kind.name.lower()}")
        return f"{label(ui, 'fetch_failed')}: {why}"
    return f"{label(ui, 'refused')}: {plain(exc)}"
