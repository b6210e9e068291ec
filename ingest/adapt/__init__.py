"""Adapting the embedding model to the corpus (``python -m ingest adapt``):
training pairs mined from the index (pairs.py), sentence-transformers'
trainer (train.py), the new model folder (run.py). docs/model.md."""
