"""Everything derived from one index generation that a search needs: the
columns it filters on, each document's rows, each section's rows, the
language versions of each document. A search uses one view from start to
end, so a reload never mixes two generations."""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable
from dataclasses import asdict

import numpy as np

from kb.index.folder import Generation
from kb.records import Chunk, IndexedDocument
from kb.text import morphology
from kb.text.headings import chapter_key, heading_key
from kb.text.lexical import words
from search.backend import MIN_PREFIX, FileIndex, SearchIndex, Where
from search.terms import query_terms

# Below this many passages in a language, no word counts as common: in a
# handful of passages every word is in "most" of them.
MIN_PASSAGES_FOR_SHARES = 20


class IndexView:
    def __init__(self, generation: SearchIndex | Generation) -> None:
        if isinstance(generation, Generation):
            generation = FileIndex(generation)
        self.generation = generation
        self.chunks: list[Chunk] = generation.chunks
        columns = getattr(generation, "column_records", None)
        records = (
            columns()
            if columns is not None
            else ((c.lang, c.doc_id, c.kind, c.group, c.section) for c in self.chunks)
        )
        cols = _Columns(records)
        self.langs = cols.langs
        self.language_list = cols.language_list
        self.lang_counts = cols.lang_counts
        self.kind_list = cols.kinds
        self.doc_rows: dict[str, np.ndarray] = cols.doc_rows
        # Documents and kinds as small integers, one per row: a filter on
        # many documents is an integer isin (an object array compared every
        # row with every value: 83 ms a search at 100k passages).
        self._docs = cols.docs  # by code
        self._doc_code = {d: i for i, d in enumerate(self._docs)}
        self._kind_code = {k: i for i, k in enumerate(self.kind_list)}
        self.doc_codes = cols.doc_codes
        self.kind_codes = cols.kind_codes
        self.doc_group = cols.doc_group
        self.group_docs: dict[str, list[str]] = {}
        for doc, group in self.doc_group.items():
            if group:
                self.group_docs.setdefault(group, []).append(doc)
        grouped_docs = [d for docs in self.group_docs.values() if len(docs) > 1 for d in docs]
        self.grouped = self._allowed(self.doc_codes, self._doc_code, grouped_docs)  # has a sibling
        self.grouped_docs = frozenset(grouped_docs)
        # One id per (document, section path): the unit a result stands for.
        self.section_ids = cols.section_ids
        # What the manifest knows of each document: title, url, identifier,
        # path in the corpus, sha256, pages.
        self.doc_meta: dict[str, IndexedDocument] = {
            entry.doc.id: IndexedDocument(
                **dict(asdict(entry.doc), path=rel), sha256=entry.sha256, pages=entry.pages
            )
            for rel, entry in generation.manifest.documents()
        }
        self.heading_keys = cols.heading_keys
        self.chapter_keys = cols.chapter_keys
        del cols
        self._shares: dict[tuple[str, str], float] = {}
        self._doc_vectors: dict[str, np.ndarray] = {}
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def prefetch(self, rows) -> None:
        """Fetch these rows' records in one go, where the backend reads them
        on demand (PostgreSQL); nothing for the folder, which holds them."""
        fetch = getattr(self.chunks, "fetch", None)
        if fetch is not None:
            fetch([int(r) for r in rows])

    def term_share(self, term: str, lang: str) -> float:
        """The share of ``lang``'s passages whose indexed text holds the
        index term ``term`` (a stem), from BM25's postings; 0.0 when the
        language has too few passages to tell, or there is no BM25 index."""
        n = self.lang_counts.get(lang, 0)
        if n < MIN_PASSAGES_FOR_SHARES:
            return 0.0
        with self._lock:
            if (term, lang) in self._shares:
                return self._shares[(term, lang)]
        # counted outside the lock: a database query, and a mask over every row
        share = self.generation.holding(term, self.where(languages=[lang])) / n
        with self._lock:
            self._shares[(term, lang)] = share
        return share

    def finnish(self, text: str) -> dict[str, tuple[str, ...]]:
        """The index's Finnish analyses of the words of ``text``
        (kb/text/morphology.py): what its Finnish passages were indexed as."""
        return self.finnish_words([w for w, _, _ in words(text)])

    def finnish_words(self, found: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The same for words: each word's own analysis, else its stem's."""
        if not self.generation.has_analyses:  # off (the default): no stemming per hit word
            return {}
        found = list(found)
        return morphology.resolve(found, self.generation.finnish(morphology.keys(found)))

    def knows(self, word: str) -> bool:
        """Whether any passage holds ``word``: one of its stems is a BM25 term,
        or its first ``MIN_PREFIX`` letters start one (inflected names)."""
        with self._lock:
            if word in self._known:
                return self._known[word]
        prefix = word[:MIN_PREFIX] if len(word) >= MIN_PREFIX else None
        known = self.generation.knows(query_terms(word, analyses=self.finnish(word)), prefix)
        known = True if known is None else known  # no vocabulary to judge by
        with self._lock:
            self._known[word] = known
        return known

    def stored_sentences(self, hit, spans: list[tuple[int, int]]) -> np.ndarray | None:
        """The vectors the build stored for ``hit``'s sentences ``spans``
        (float32), or None: a generation without them, a hit of another
        generation, or sentences split another way."""
        sentences = self.generation.sentences
        if sentences is None or not self.holds(hit):
            return None
        return sentences.matching(hit.row, spans)

    def holds(self, hit) -> bool:
        """Whether ``hit``'s row in this generation is still its passage
        (the same id and text): a hit of a replaced generation may name a
        row that now holds another passage, or none."""
        row = getattr(hit, "row", -1)
        if not 0 <= row < len(self.chunks):
            return False
        chunk = self.chunks[row]
        return chunk.chunk_id == hit.chunk_id and chunk.text == hit.text

    def vector(self, row: int) -> np.ndarray:
        return self.generation.vectors([int(row)])[0]

    def doc_vectors(self, doc: str) -> np.ndarray:
        with self._lock:
            if doc in self._doc_vectors:
                return self._doc_vectors[doc]
        vectors = self.generation.vectors([int(r) for r in self.doc_rows[doc]])
        with self._lock:
            self._doc_vectors[doc] = vectors
        return vectors

    def mask(self, languages=None, docs=None, kinds=None) -> np.ndarray:
        """Rows allowed by the filters (an empty filter allows all)."""
        return self.where(languages, docs, kinds).mask

    def where(self, languages=None, docs=None, kinds=None, exclude=()) -> Where:
        """The filter as a backend takes it: value sets (``None``: any; an
        empty filter allows all) and the same rows as a mask."""
        sets = [frozenset(v) if v else None for v in (languages, docs, kinds)]
        mask = np.ones(len(self.chunks), dtype=bool)
        if sets[0] is not None:
            mask &= np.isin(self.langs, list(sets[0]))
        if sets[1] is not None:
            mask &= self._allowed(self.doc_codes, self._doc_code, sets[1])
        if sets[2] is not None:
            mask &= self._allowed(self.kind_codes, self._kind_code, sets[2])
        if exclude:
            mask[list(exclude)] = False
        return Where(mask, *sets, exclude=frozenset(int(r) for r in exclude))

    @staticmethod
    def _allowed(codes: np.ndarray, code_of: dict[str, int], values) -> np.ndarray:
        wanted = [code_of[v] for v in values if v in code_of]
        return np.isin(codes, np.asarray(wanted, dtype=codes.dtype))

    def narrow(self, where: Where, language: str) -> Where:
        """``where`` with only the passages in ``language`` left."""
        langs = {language} if where.languages is None else where.languages & {language}
        return Where(
            where.mask & (self.langs == language),
            frozenset(langs),
            where.docs,
            where.kinds,
            where.exclude,
        )

    def doc_position(self, row: int) -> tuple[np.ndarray, int]:
        """The rows of ``row``'s document and where ``row`` is among them
        (its document from the codes: no record read)."""
        rows = self.doc_rows[self._docs[int(self.doc_codes[row])]]
        return rows, int(np.searchsorted(rows, row))

    def relative_position(self, row: int) -> float:
        rows, at = self.doc_position(row)
        return float(at) / max(len(rows) - 1, 1)


class _Columns:
    """The per-row columns a view filters and groups on, from (lang, doc,
    kind, group, section) per row in row order: small integer codes in
    compact arrays, each distinct string and section path held once. No
    Python object is kept per row: at a million passages, lists of per-row
    strings and ints peaked about 250 MB above the process and left about
    130 MB behind once freed."""

    def __init__(self, records) -> None:
        codes: tuple[dict, dict, dict, dict] = ({}, {}, {}, {})  # lang, doc, kind, path
        columns = tuple(array("i") for _ in codes)
        self.doc_group: dict[str, str] = {}
        for lang, doc, kind, group, section in records:
            values = (lang, doc, kind, tuple(section))
            for code_of, column, value in zip(codes, columns, values, strict=True):
                code = code_of.get(value)
                if code is None:
                    code = code_of[value] = len(code_of)
                column.append(code)
            self.doc_group[doc] = group  # the last row's, as ever
        langs, docs, kinds, paths = (np.frombuffer(c, dtype=np.intc) for c in columns)
        lang_of, doc_of, kind_of, path_of = (list(c) for c in codes)
        self.langs = np.array(lang_of)[langs] if len(langs) else np.array([])
        self.language_list = sorted(lang_of)
        counts = np.bincount(langs, minlength=len(lang_of))
        self.lang_counts = {lang: int(counts[lang_of.index(lang)]) for lang in self.language_list}
        # documents and kinds numbered in sorted order
        self.docs = sorted(doc_of)
        self.doc_codes = _sorted_codes(doc_of, docs)
        self.kinds = sorted(kind_of)
        self.kind_codes = _sorted_codes(kind_of, kinds)
        order = np.argsort(self.doc_codes, kind="stable").astype(np.int32)
        counts = np.bincount(self.doc_codes, minlength=len(self.docs))
        split = np.split(order, np.cumsum(counts)[:-1]) if self.docs else []
        self.doc_rows = dict(zip(self.docs, split, strict=True))
        # one id per (document, section path), numbered in first-row order
        keys = self.doc_codes.astype(np.int64) * max(len(path_of), 1) + paths
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        rank = np.empty(len(unique), dtype=np.int32)
        rank[np.argsort(first, kind="stable")] = np.arange(len(unique))
        self.section_ids = rank[inverse.reshape(-1)]
        self.heading_keys = _objects([heading_key(p) for p in path_of])[paths]
        self.chapter_keys = _objects([chapter_key(p) for p in path_of])[paths]


def _sorted_codes(values: list[str], codes: np.ndarray) -> np.ndarray:
    """``codes`` (first-seen numbering of ``values``) renumbered in sorted order."""
    renumber = np.zeros(len(values), dtype=np.int32)
    renumber[np.argsort(np.array(values, dtype=object), kind="stable")] = np.arange(len(values))
    return renumber[codes] if len(codes) else np.zeros(0, dtype=np.int32)


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
