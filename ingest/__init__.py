"""Ingestion: corpus files → cleaned pages → chunks → embeddings → FAISS index."""

from importlib import import_module

# Loaded when first used (PEP 562), so that ``python -m ingest`` can show its
# progress before numpy, langchain and the pipeline are imported.
_WHERE = {
    "Chunker": "chunk",
    "Embedder": "embed",
    "SentenceTransformerEmbedder": "embed",
    "load_embedder": "embed",
    "BuildLockedError": "errors",
    "ExtractionError": "errors",
    "IndexCorruptError": "errors",
    "IndexError_": "errors",
    "IndexMismatchError": "errors",
    "IndexMissingError": "errors",
    "KBError": "errors",
    "BuildReport": "pipeline",
    "FileResult": "pipeline",
    "build_index": "pipeline",
    "read_pages": "pipeline",
    "Chunk": "records",
    "DocumentMeta": "records",
    "Heading": "records",
    "Page": "records",
    "Settings": "settings",
    "load_settings": "settings",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
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
