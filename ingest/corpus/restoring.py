"""Restoring a removed document from the trash: its file back in its place
and its entry back in sources.toml, under the corpus's edit lock (the trash
itself, ingest/corpus/trash.py, knows nothing of the library)."""

from __future__ import annotations

import logging
import os

from ingest.corpus import library, sourcesfile, trash
from kb.terminal import printable

logger = logging.getLogger(__name__)


def restore(settings, name: str):
    """Put the trash item ``name`` back: its file to its place and its
    entry into sources.toml; returns the document (library.Document).
    Refused, changing nothing, when its id or its file's place is taken
    again. Raises TrashError, SourcesError."""
    corpus = settings.corpus_dir
    with library._edit_lock(corpus):
        trash.purge_expired(corpus, settings.trash_days)
        item = trash.find(corpus, name)
        listed = library.documents(settings)
        if any(d.id == item.id for d in listed):
            raise trash.TrashError(
                f"{printable(item.id)}: a document of that id is in the corpus again"
            )
        doc = None
        if item.entry is not None:
            doc = sourcesfile.parse(library._sources_text(corpus))
            sourcesfile.append(doc, item.entry)
        trash.take_back(corpus, item)
        if doc is not None:
            try:
                sourcesfile.write(corpus, doc)
            except BaseException:
                kept = trash.trash_dir(corpus) / item.name / trash.KEPT_FILE
                if (corpus / item.path).is_symlink() or (corpus / item.path).exists():
                    os.rename(corpus / item.path, kept)
                raise
        trash.discard(corpus, item)
    logger.info("restored %s (%s) from the trash", item.id, printable(item.path))
    present = (corpus / item.path).exists()
    kind = str((item.entry or {}).get("kind", "other"))
    return library.Document(item.id, item.title, item.path, item.entry is not None, present, kind)
