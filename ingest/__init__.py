"""Ingestion: corpus files → cleaned pages → chunks → embeddings → FAISS index."""

from importlib import import_module

# Loaded when first used (PEP 562), so that ``python -m ingest`` can show its
# progress before numpy, langchain and the pipeline are imported.
_WHERE = {
    "Chunker": "ingest.chunk",
    "Embedder": "kb.model.embedder",
    "SentenceTransformerEmbedder": "kb.model.embedder",
    "load_embedder": "kb.model.embedder",
    "BuildLockedError": "kb.errors",
    "ExtractionError": "kb.errors",
    "IndexCorruptError": "kb.errors",
    "IndexError_": "kb.errors",
    "IndexMismatchError": "kb.errors",
    "IndexMissingError": "kb.errors",
    "KBError": "kb.errors",
    "BuildReport": "ingest.pipeline",
    "FileResult": "ingest.pipeline",
    "build_index": "ingest.pipeline",
    "read_pages": "ingest.pipeline",
    "Chunk": "kb.records",
    "DocumentMeta": "kb.records",
    "Heading": "kb.records",
    "Page": "kb.records",
    "Settings": "kb.settings",
    "load_settings": "kb.settings",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
