"""The naive baseline the held-out evaluation compares against: pypdf page
text, LangChain's RecursiveCharacterTextSplitter (1,000 characters, 200
overlap), the same e5-small passages, a flat FAISS inner-product index,
dense only. No cleaning, no structure, no BM25, no fusion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class NaiveHit:
    text: str
    path: str
    page: int
    score: float


class NaiveIndex:
    def __init__(self, embedder, texts: list[tuple[str, int, str]]) -> None:
        import faiss

        self.embedder = embedder
        self.records = texts  # (path, page, text)
        vectors = embedder.embed_passages([t for _, _, t in texts])
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def build(cls, corpus: Path, embedder) -> NaiveIndex:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from pypdf import PdfReader

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        records: list[tuple[str, int, str]] = []
        for path in sorted(corpus.iterdir()):
            if path.suffix == ".pdf":
                pages = [p.extract_text() or "" for p in PdfReader(path).pages]
            elif path.suffix in (".txt", ".md"):
                pages = [path.read_text(encoding="utf-8")]
            else:
                continue
            for number, text in enumerate(pages, start=1):
                records.extend((path.name, number, piece) for piece in splitter.split_text(text))
        return cls(embedder, records)

    def search(self, query: str, k: int = 10) -> list[NaiveHit]:
        qvec = self.embedder.embed_queries([query])
        scores, rows = self.index.search(qvec, k)
        return [
            NaiveHit(self.records[r][2], self.records[r][0], self.records[r][1], float(s))
            for s, r in zip(scores[0], rows[0], strict=True)
            if r >= 0
        ]
