"""What a search backend answers (``base``), the index folder (``folder``)
and PostgreSQL (``postgres``), and the one factory that picks between them."""

from __future__ import annotations

from pathlib import Path

from kb.settings import Settings
from search.backend.base import MIN_PREFIX, Backend, SearchIndex, Where
from search.backend.folder import FileBackend, FileIndex

__all__ = [
    "MIN_PREFIX",
    "Backend",
    "FileBackend",
    "FileIndex",
    "SearchIndex",
    "Where",
    "open_backend",
]


def open_backend(settings: Settings, index_dir: Path | None = None) -> Backend:
    """PostgreSQL when ``settings.backend`` is set (searches read
    ``settings.backend_read``, a replica, when that is set), else the index
    folder."""
    if settings.uses_postgres:
        from search.backend.postgres import PgBackend

        return PgBackend(settings.search_backend)
    return FileBackend(index_dir or settings.index_dir)
