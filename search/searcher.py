"""Load an index once and answer queries with cited hits.

Dense retrieval (FAISS, inner product over normalised e5 vectors) and BM25
(bm25s over Snowball stems) are fused by reciprocal rank fusion. Filters
apply inside both retrievers, so a filtered search is exact, not a filtered
top-k.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ingest.embed import Embedder, load_query_embedder, resolve_model
from ingest.errors import KBError
from ingest.lexical import query_terms, term_spans
from ingest.records import Chunk
from ingest.settings import Settings, load_settings
from ingest.store import Generation, current_name, load_generation

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
MODES = ("dense", "bm25", "hybrid")
RRF_K = 60  # the usual constant of reciprocal rank fusion
MIN_CANDIDATES = 100  # per retriever, before fusion
ALIGN_POSITION_PENALTY = 0.3  # cosine given up per whole document of offset
PIVOT_DEPTH = 20  # same-language hits mapped to their other-language versions
SEMANTIC_HIGHLIGHTS = 2  # hits whose best sentence is found by embedding (costly)
# Weight of the pivot list in the fusion: its order leads, and direct
# cross-lingual dense hits follow. Measured on the finlex heading check (README): weights 1, 2, 4, 8
# and 100 gave fi→sv recall@5 of 0.63, 0.74, 0.85, 0.97 and 0.99.
PIVOT_LEADS = 100.0
# Sentence ends: punctuation before a capital, digit or list mark; a blank
# line; a line break before a list item. A plain line break is a PDF wrap.
_SENTENCE_END = re.compile(
    r"(?<=[.!?;:])\s+(?=[A-ZÅÄÖÜ0-9•(–-])|\n\s*\n|\n(?=\s*(?:\d{1,3}\)|[•–-]\s))"
)


class QueryError(KBError):
    """The query or its filters cannot be searched; the message says why."""


@dataclass(frozen=True)
class Highlight:
    """A span of a hit's text: a query ``term`` or the ``sentence`` most like the query."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    lang: str
    kind: str
    group: str
    page: int
    page_label: str
    page_end: int
    page_end_label: str
    section: tuple[str, ...]
    text: str
    score: float
    rank: int
    row: int
    char_start: int
    char_end: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    highlights: tuple[Highlight, ...] = field(default=())

    @property
    def pages(self) -> str:
        if self.page == self.page_end:
            return self.page_label
        return f"{self.page_label}–{self.page_end_label}"

    @property
    def citation(self) -> str:
        section = f", {self.section[-1]}" if self.section else ""
        return f"{self.title}, p. {self.pages}{section}"


def query_language(query: str) -> str | None:
    """The query's language, fi, sv or en, when py3langid is confident (≥ 0.9);
    None for ambiguous or mixed queries. Asked among all three even when the
    index lacks one: an English query on a Finnish-Swedish index is English,
    so neither BM25 nor the pivot guesses at a language it is not in."""
    lang, prob = _language_identifier(("en", "fi", "sv")).classify(query)
    return lang if prob >= 0.9 else None


@functools.cache
def _language_identifier(langs: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(langs))
    return identifier


def group_by_language(hits: list[Hit]) -> dict[str, list[Hit]]:
    """Hits grouped by language, languages in order of their best hit."""
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.lang, []).append(h)
    return groups


class _View:
    """Everything derived from one index generation. A search uses one view
    from start to end, so a reload never mixes two generations."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.chunks: list[Chunk] = generation.chunks
        self.langs = np.array([c.lang for c in self.chunks])
        self.docs = np.array([c.doc_id for c in self.chunks])
        self.kinds = np.array([c.kind for c in self.chunks])
        self.language_list = sorted(set(self.langs.tolist()))
        self.kind_list = sorted(set(self.kinds.tolist()))
        self.doc_rows: dict[str, np.ndarray] = {
            d: np.flatnonzero(self.docs == d) for d in sorted(set(self.docs.tolist()))
        }
        self.doc_group = {c.doc_id: c.group for c in self.chunks}
        self.group_docs: dict[str, list[str]] = {}
        for doc, group in self.doc_group.items():
            if group:
                self.group_docs.setdefault(group, []).append(doc)
        grouped_docs = [d for docs in self.group_docs.values() if len(docs) > 1 for d in docs]
        self.grouped = np.isin(self.docs, grouped_docs)  # rows with a sibling version
        # What the manifest knows of each document: title, url, identifier,
        # path in the corpus, sha256, pages.
        self.doc_meta: dict[str, dict] = {}
        for rel, entry in generation.manifest.get("files", {}).items():
            doc = entry.get("doc")
            if doc and entry.get("status") != "failed":
                self.doc_meta[doc["id"]] = dict(
                    doc, path=rel, sha256=entry.get("sha256", ""), pages=entry.get("pages", 0)
                )
        self.heading_keys = np.array([heading_key(c.section) for c in self.chunks], dtype=object)
        self._doc_vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vector(self, row: int) -> np.ndarray:
        return self.generation.index.reconstruct(int(row)).astype(np.float32)

    def doc_vectors(self, doc: str) -> np.ndarray:
        with self._lock:
            if doc not in self._doc_vectors:
                rows = self.doc_rows[doc]
                start, n = int(rows[0]), len(rows)
                contiguous = rows[-1] - rows[0] + 1 == n
                self._doc_vectors[doc] = (
                    self.generation.index.reconstruct_n(start, n)
                    if contiguous
                    else np.vstack([self.vector(r) for r in rows])
                ).astype(np.float32)
            return self._doc_vectors[doc]


class Searcher:
    def __init__(
        self, generation: Generation, embedder: Embedder, index_dir: Path | None = None
    ) -> None:
        _one_faiss_thread()
        self.embedder = embedder
        self.index_dir = index_dir
        self._view = _View(generation)
        self._reload_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        index_dir: Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> Searcher:
        """Load the live index and the model that built it; raises a typed
        IndexError_ when the index is missing, corrupt or from another model."""
        settings = settings or load_settings()
        index_dir = index_dir or settings.index_dir
        if embedder is None:
            _, _, fingerprint = resolve_model(settings)
            generation = load_generation(index_dir, fingerprint)
            embedder = load_query_embedder(settings)
        else:
            generation = load_generation(index_dir, embedder.fingerprint)
        return cls(generation, embedder, index_dir)

    # ------------------------------------------------------------ state

    @property
    def generation(self) -> Generation:
        return self._view.generation

    @property
    def chunks(self) -> list[Chunk]:
        return self._view.chunks

    def reload_if_changed(self) -> bool:
        """Switch to a newer generation if a rebuild swapped one in."""
        if self.index_dir is None:
            return False
        with self._reload_lock:
            live = current_name(self.index_dir)
            if live is None or live == self._view.generation.name:
                return False
            self._view = _View(load_generation(self.index_dir, self.embedder.fingerprint))
            logger.info("reloaded index generation %s", live)
            return True

    @property
    def languages(self) -> list[str]:
        return self._view.language_list

    @property
    def documents(self) -> list[str]:
        return list(self._view.doc_rows)

    @property
    def kinds(self) -> list[str]:
        return self._view.kind_list

    # ------------------------------------------------------------ search

    def _check(self, query: str, mode: str, k: int, languages, docs, kinds) -> None:
        if not isinstance(query, str) or not query.strip():
            raise QueryError("the query is empty")
        try:
            query.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise QueryError(
                f"the query is not valid text (character {exc.start + 1} is a lone surrogate "
                "or undecodable byte)"
            ) from exc
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(
                f"the query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}"
            )
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if k < 1:
            raise QueryError("k must be at least 1")
        for name, values, known in (
            ("language", languages, self.languages),
            ("document", docs, self.documents),
            ("kind", kinds, self.kinds),
        ):
            unknown = sorted(set(values or ()) - set(known))
            if unknown:
                raise QueryError(
                    f"unknown {name} {', '.join(unknown)}; the index has "
                    f"{', '.join(known) or 'none'}"
                )

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        languages=None,
        docs=None,
        kinds=None,
        highlight: bool | str = True,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, optionally only in some
        languages, documents or kinds. ``highlight``: True for query words
        and best sentences, "terms" for the query words and the sentences
        holding them (no sentence embedding), False for none."""
        self._check(query, mode, k, languages, docs, kinds)
        view = self._view
        n = len(view.chunks)
        if n == 0:
            return []
        query = query.strip()
        mask = _mask(view, languages, docs, kinds)
        allowed = int(mask.sum())
        if allowed == 0:  # filters that no passage meets: no results, not an error
            return []
        depth = min(allowed, max(MIN_CANDIDATES, 4 * k))

        qvec = None
        ranked: dict[str, list[int]] = {}
        if mode in ("dense", "hybrid"):
            qvec = self.embedder.embed_queries([query])
            ranked["dense"] = self._dense(view, qvec, mask, depth)
        if mode == "bm25":
            ranked["bm25"] = self._bm25(view, query, mask, depth)
        if mode == "hybrid":
            qlang = query_language(query)
            # Lexical matches across languages are mostly shared numbers and
            # names: BM25 takes part only where the query's language is.
            home = mask if qlang is None else mask & (view.langs == qlang)
            ranked["bm25"] = self._bm25(view, query, home, depth)
            if qlang is not None and not (mask & (view.langs == qlang)).any():
                # The search excludes the query's own language (cross-language
                # filter): reach the passages through their versions written in
                # it, in that order; direct dense hits follow.
                ranked["pivot"] = self._pivot(view, query, qvec, qlang, mask, depth)

        weights = {name: PIVOT_LEADS if name == "pivot" else 1.0 for name in ranked}
        fused, order = _fuse([(rows, weights[name]) for name, rows in ranked.items()])
        dense_rank = {r: i + 1 for i, r in enumerate(ranked.get("dense", []))}
        bm25_rank = {r: i + 1 for i, r in enumerate(ranked.get("bm25", []))}
        rows = _collapse(view, order, k)
        hits = [
            _hit(view.chunks[r], fused[r], i + 1, r, dense_rank.get(r), bm25_rank.get(r))
            for i, r in enumerate(rows)
        ]
        if highlight:
            hits = self._highlight(query, hits, qvec, semantic=highlight != "terms")
        return hits

    def _dense(self, view: _View, qvec: np.ndarray, mask: np.ndarray, depth: int) -> list[int]:
        index = view.generation.index
        depth = min(depth, int(mask.sum()))
        if depth < 1:
            return []
        if mask.all():
            _, rows = index.search(qvec, depth)
        else:
            import faiss

            sel = faiss.IDSelectorArray(np.flatnonzero(mask).astype(np.int64))
            _, rows = index.search(qvec, depth, params=faiss.SearchParameters(sel=sel))
        return [int(r) for r in rows[0] if r >= 0]

    def _bm25(self, view: _View, query: str, mask: np.ndarray, depth: int) -> list[int]:
        lexical = view.generation.lexical
        if lexical is None:
            return []
        scores = lexical.scores(query_terms(query), len(view.chunks))
        scores = np.where(mask, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > depth:
            candidates = candidates[np.argpartition(-scores[candidates], depth - 1)[:depth]]
        return [int(r) for r in candidates[np.lexsort((candidates, -scores[candidates]))]]

    def _pivot(
        self, view: _View, query: str, qvec: np.ndarray, qlang: str, mask: np.ndarray, depth: int
    ) -> list[int]:
        """Cross-language hits through the query's own language: search the
        versions written in the query's language (where retrieval is
        strongest), then take the aligned passage of each hit in the allowed
        other-language versions."""
        source = (view.langs == qlang) & view.grouped
        if not source.any():
            return []
        n_src = min(int(source.sum()), PIVOT_DEPTH)
        _, order = _fuse(
            [
                (self._dense(view, qvec, source, n_src), 1.0),
                (self._bm25(view, query, source, n_src), 1.0),
            ]
        )
        out: dict[int, None] = {}
        for r in order:
            for sib_row, _ in self._align_row(view, r):
                if mask[sib_row] and view.langs[sib_row] != qlang:
                    out.setdefault(sib_row, None)
            if len(out) >= depth:
                break
        return list(out)

    # ------------------------------------------------------------ highlights

    def highlight(self, query: str, hits: list[Hit], semantic: bool = True) -> list[Hit]:
        """``hits`` with their highlights (re)computed: what ``search`` does
        with ``highlight=True``, or with ``highlight="terms"`` when
        ``semantic`` is False. The page shows hits with their cheap highlights
        first and adds the costly ones after."""
        return self._highlight(query.strip(), hits, None, semantic)

    def _highlight(
        self, query: str, hits: list[Hit], qvec: np.ndarray | None, semantic: bool = True
    ) -> list[Hit]:
        """Mark the query's words (stem-aware) and the best sentence of each hit:
        the one with the most query words; where no word matches (a passage in
        another language) and ``semantic`` is on, the one nearest the query by
        embedding, for the first few such hits (embedding sentences is the
        costly part)."""
        terms = {t for t in query_terms(query) if len(t) > 2}
        term_marks = [term_spans(h.text, h.lang, terms) for h in hits]
        best: dict[int, list[tuple[int, int]]] = {}
        to_embed: list[tuple[int, int, int]] = []
        for i, h in enumerate(hits):
            spans = sentence_spans(h.text)
            if len(spans) < 2:
                continue
            counts = [sum(s <= a < e for a, _ in term_marks[i]) for s, e in spans]
            if max(counts) > 0:
                best[i] = [span for span, n in zip(spans, counts, strict=True) if n == max(counts)]
            elif semantic and len({j for j, _, _ in to_embed}) < SEMANTIC_HIGHLIGHTS:
                to_embed.extend((i, s, e) for s, e in spans)
        if to_embed:
            if qvec is None:
                qvec = self.embedder.embed_queries([query])
            vectors = self.embedder.embed_passages([hits[i].text[s:e] for i, s, e in to_embed])
            sims = vectors @ qvec[0]
            for i in {j for j, _, _ in to_embed}:
                idx = [j for j, (h, _, _) in enumerate(to_embed) if h == i]
                best[i] = [to_embed[max(idx, key=lambda j: sims[j])][1:]]
        out = []
        for i, h in enumerate(hits):
            spans = [Highlight(s, e, "sentence") for s, e in best.get(i, [])]
            spans += [Highlight(s, e, "term") for s, e in term_marks[i]]
            out.append(replace(h, highlights=tuple(sorted(spans, key=lambda x: (x.start, x.end)))))
        return out

    # ------------------------------------------------------------ passages

    def _resolve(self, view: _View, hit: Hit | str) -> int:
        chunk_id = hit if isinstance(hit, str) else hit.chunk_id
        if (
            isinstance(hit, Hit)
            and hit.row < len(view.chunks)
            and view.chunks[hit.row].chunk_id == chunk_id
        ):
            return hit.row
        for row, c in enumerate(view.chunks):
            if c.chunk_id == chunk_id:
                return row
        raise QueryError(f"unknown passage {chunk_id}")

    def aligned(self, hit: Hit | str) -> list[Hit]:
        """The same passage in each other language version of its document
        (documents sharing its ``group``), with its cosine as the score.

        Numbered headings ("38 §", "3.2", "5 luku" = "5 kap.") are the same in
        every version, so the candidates are the sibling's chunks under the
        same number when it has any; among them, the nearest by cosine, less a
        penalty for sitting at another relative position in the document.
        """
        view = self._view
        row = self._resolve(view, hit)
        out = [
            _hit(view.chunks[r], sim, i + 1, r)
            for i, (r, sim) in enumerate(self._align_row(view, row))
        ]
        return sorted(out, key=lambda h: h.lang)

    def _align_row(self, view: _View, row: int) -> list[tuple[int, float]]:
        """(row, cosine) of the aligned passage in each sibling version."""
        chunk = view.chunks[row]
        if not chunk.group:
            return []
        vector = view.vector(row)
        key = view.heading_keys[row]
        position = _relative_position(view, row)
        out = []
        for doc in view.group_docs.get(chunk.group, ()):
            if doc == chunk.doc_id:
                continue
            rows = view.doc_rows[doc]
            sims = view.doc_vectors(doc) @ vector
            candidates = np.arange(len(rows))
            if key is not None:
                same = np.flatnonzero(view.heading_keys[rows] == key)
                if len(same):
                    candidates = same
            offsets = np.abs(candidates / max(len(rows) - 1, 1) - position)
            best = int(candidates[np.argmax(sims[candidates] - ALIGN_POSITION_PENALTY * offsets)])
            out.append((int(rows[best]), float(sims[best])))
        return out

    def document(self, doc_id: str) -> dict:
        """The manifest's record of a document: title, lang, kind, url,
        identifier, path (in the corpus folder), sha256, pages; {} if unknown."""
        return dict(self._view.doc_meta.get(doc_id, {}))

    def neighbours(self, hit: Hit | str) -> list[Hit]:
        """The passage with the chunks just before and after it in its
        document, in reading order (the hit itself included)."""
        view = self._view
        row = self._resolve(view, hit)
        rows = view.doc_rows[view.chunks[row].doc_id]
        at = int(np.searchsorted(rows, row))
        around = rows[max(0, at - 1) : at + 2]
        return [_hit(view.chunks[r], 0.0, i + 1, int(r)) for i, r in enumerate(around)]

    def similar(self, hit: Hit | str, k: int = 5, languages=None) -> list[Hit]:
        """Passages most like this one, across all documents ("more like this")."""
        view = self._view
        row = self._resolve(view, hit)
        mask = _mask(view, languages)
        mask[row] = False
        depth = min(int(mask.sum()), 4 * k + 8)
        if depth == 0:
            return []
        qvec = view.vector(row)[None, :]
        own = view.chunks[row]
        order = [
            r for r in self._dense(view, qvec, mask, depth) if not _adjacent(own, view.chunks[r])
        ]
        rows = _collapse(view, order, k)
        sims = [float(view.vector(r) @ qvec[0]) for r in rows]
        return [
            _hit(view.chunks[r], s, i + 1, r)
            for i, (r, s) in enumerate(zip(rows, sims, strict=True))
        ]


@functools.cache
def _one_faiss_thread() -> None:
    """Search one query at a time on one thread. FAISS splits a single
    query's scan over OpenMP threads, which then contend with the query
    encoder's own threads: on 2 cores at 10k chunks, dense search took
    21.8 ms at the median with FAISS's default threads and 16.4 ms with one
    (benchmarks/query.py, README). Process-wide, and a searcher's process
    only ever asks one query at a time per call."""
    import faiss

    faiss.omp_set_num_threads(1)


def _mask(view: _View, languages=None, docs=None, kinds=None) -> np.ndarray:
    """Rows allowed by the filters."""
    mask = np.ones(len(view.chunks), dtype=bool)
    for values, column in ((languages, view.langs), (docs, view.docs), (kinds, view.kinds)):
        if values:
            mask &= np.isin(column, list(values))
    return mask


def _fuse(lists: list[tuple[list[int], float]]) -> tuple[dict[int, float], list[int]]:
    """Weighted reciprocal rank fusion of ranked row lists: (score by row,
    rows best first, ties by row)."""
    fused: dict[int, float] = {}
    for rows, weight in lists:
        for rank, row in enumerate(rows, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank)
    return fused, sorted(fused, key=lambda r: (-fused[r], r))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line-level item of ``text``."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


_NUMBERED_HEADING = re.compile(
    r"^(\d+(?:\.\d+)*)\s?([a-z](?=\s?§))?\s?(§|luku\b|kap\.|kapitlet\b|chapter\b|osa\b|avdelning\b)?",
    re.IGNORECASE,
)
_UNIT = {
    "luku": "ch",
    "kap.": "ch",
    "kapitlet": "ch",
    "chapter": "ch",
    "osa": "part",
    "avdelning": "part",
    "§": "§",
}


def heading_key(section: tuple[str, ...]) -> str | None:
    """A language-independent key for the deepest numbered heading of a
    section path: "38 § Innovaatiokumppanuus" and "38 § Innovationspartnerskap"
    both give "38§"; "5 luku ..." and "5 kap. ..." both give "5ch"."""
    for title in reversed(section):
        m = _NUMBERED_HEADING.match(title)
        if m:
            unit = _UNIT.get((m.group(3) or "").lower(), "")
            return f"{m.group(1)}{(m.group(2) or '').lower()}{unit}"
    return None


def _relative_position(view: _View, row: int) -> float:
    rows = view.doc_rows[view.chunks[row].doc_id]
    return float(np.searchsorted(rows, row)) / max(len(rows) - 1, 1)


def _adjacent(a: Chunk, b: Chunk) -> bool:
    """Neighbouring chunks of one section: they overlap, so they are one passage."""
    return a.doc_id == b.doc_id and a.section == b.section and abs(a.ordinal - b.ordinal) <= 1


def _collapse(view: _View, order: list[int], k: int) -> list[int]:
    """The first ``k`` rows of ``order`` without near-duplicates: overlapping
    neighbours of a passage already taken, or the same text again."""
    kept: list[int] = []
    texts: set[str] = set()
    for row in order:
        c = view.chunks[row]
        norm = " ".join(c.text.split()).lower()
        if norm in texts or any(_adjacent(c, view.chunks[r]) for r in kept):
            continue
        kept.append(row)
        texts.add(norm)
        if len(kept) == k:
            break
    return kept


def _hit(
    chunk: Chunk,
    score: float,
    rank: int,
    row: int,
    dense_rank: int | None = None,
    bm25_rank: int | None = None,
) -> Hit:
    return Hit(
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=chunk.title,
        lang=chunk.lang,
        kind=chunk.kind,
        group=chunk.group,
        page=chunk.page_start,
        page_label=chunk.label_start,
        page_end=chunk.page_end,
        page_end_label=chunk.label_end,
        section=chunk.section,
        text=chunk.text,
        score=float(score),
        rank=rank,
        row=row,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        dense_rank=dense_rank,
        bm25_rank=bm25_rank,
    )
