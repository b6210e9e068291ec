"""Ingestion: corpus files → cleaned pages → chunks → embeddings → FAISS index."""

from ingest.chunk import Chunker
from ingest.pipeline import BuildReport, FileResult, build_index, read_pages
from kb.errors import (
    BuildLockedError,
    ExtractionError,
    IndexCorruptError,
    IndexError_,
    IndexMismatchError,
    IndexMissingError,
    KBError,
)
from kb.model.embedder import Embedder, SentenceTransformerEmbedder, load_embedder
from kb.records import Chunk, DocumentMeta, Heading, Page
from kb.settings import Settings, load_settings

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
