"""Ingestion: corpus files → cleaned pages → chunks → embeddings → FAISS index."""

from .chunk import Chunker
from .embed import Embedder, SentenceTransformerEmbedder, load_embedder
from .errors import (
    BuildLockedError,
    ExtractionError,
    IndexCorruptError,
    IndexError_,
    IndexMismatchError,
    IndexMissingError,
    KBError,
)
from .pipeline import BuildReport, FileResult, build_index, read_pages
from .records import Chunk, DocumentMeta, Heading, Page
from .settings import Settings, load_settings

__all__ = [
    "BuildLockedError",
    "BuildReport",
    "Chunk",
    "Chunker",
    "DocumentMeta",
    "Embedder",
    "ExtractionError",
    "FileResult",
    "Heading",
    "IndexCorruptError",
    "IndexError_",
    "IndexMismatchError",
    "IndexMissingError",
    "KBError",
    "Page",
    "SentenceTransformerEmbedder",
    "Settings",
    "build_index",
    "load_embedder",
    "load_settings",
    "read_pages",
]
