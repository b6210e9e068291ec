"""Everything derived from one index generation that a search needs: the
columns it filters on, each document's rows, each section's rows, the
language versions of each document. A search uses one view from start to
end, so a reload never mixes two generations."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict

import numpy as np

from kb.index.folder import Generation
from kb.records import Chunk, IndexedDocument
from kb.text import morphology
from kb.text.headings import chapter_key, heading_key
from kb.text.lexical import words
from search.backend import MIN_PREFIX, FileIndex, SearchIndex, Where
from search.fusion import dense_weights
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
        self.langs = np.array(cols.langs)
        self.language_list = sorted(set(cols.langs))
        self.kind_list = sorted(set(cols.kinds))
        self.doc_rows: dict[str, np.ndarray] = {
            d: np.asarray(cols.doc_rows[d], dtype=np.int64) for d in sorted(cols.doc_rows)
        }
        # Documents and kinds as small integers, one per row: a filter on
        # many documents is an integer isin (an object array compared every
        # row with every value: 83 ms a search at 100k passages).
        self._docs = list(self.doc_rows)  # by code
        self._doc_code = {d: i for i, d in enumerate(self._docs)}
        self._kind_code = {k: i for i, k in enumerate(self.kind_list)}
        self.doc_codes = _codes(cols.docs, self._doc_code, np.int32)
        self.kind_codes = _codes(cols.kinds, self._kind_code, np.int16)
        self.doc_group = cols.doc_group
        self.group_docs: dict[str, list[str]] = {}
        for doc, group in self.doc_group.items():
            if group:
                self.group_docs.setdefault(group, []).append(doc)
        grouped_docs = [d for docs in self.group_docs.values() if len(docs) > 1 for d in docs]
        self.grouped = self._allowed(self.doc_codes, self._doc_code, grouped_docs)  # has a sibling
        self.grouped_docs = frozenset(grouped_docs)
        # One id per (document, section path): the unit a result stands for.
        self.section_ids = np.asarray(cols.section_ids, dtype=np.int64)
        # What the manifest knows of each document: title, url, identifier,
        # path in the corpus, sha256, pages.
        self.doc_meta: dict[str, IndexedDocument] = {
            entry.doc.id: IndexedDocument(
                **dict(asdict(entry.doc), path=rel), sha256=entry.sha256, pages=entry.pages
            )
            for rel, entry in generation.manifest.documents()
        }
        self.heading_keys = np.array(cols.heading_keys, dtype=object)
        self.chapter_keys = np.array(cols.chapter_keys, dtype=object)
        del cols
        self.lang_counts = {
            lang: int(n) for lang, n in zip(*np.unique(self.langs, return_counts=True), strict=True)
        }
        self._shares: dict[tuple[str, str], float] = {}
        self._doc_vectors: dict[str, np.ndarray] = {}
        self._dense_weights: dict[str, np.ndarray] = {}
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def prefetch(self, rows) -> None:
        """Fetch these rows' records in one go, where the backend reads them
        on demand (PostgreSQL); nothing for the folder, which holds them."""
        fetch = getattr(self.chunks, "fetch", None)
        if fetch is not None:
            fetch([int(r) for r in rows])

    def dense_weights(self, qlang: str) -> np.ndarray:
        """The dense list's weights by row when BM25 ranks only ``qlang``
        (fusion.py), computed once per language."""
        with self._lock:
            if qlang not in self._dense_weights:
                self._dense_weights[qlang] = dense_weights(self.langs, {qlang})
            return self._dense_weights[qlang]

    def term_share(self, term: str, lang: str) -> float:
        """The share of ``lang``'s passages whose indexed text holds the
        index term ``term`` (a stem), from BM25's postings; 0.0 when the
        language has too few passages to tell, or there is no BM25 index."""
        n = self.lang_counts.get(lang, 0)
        if n < MIN_PASSAGES_FOR_SHARES:
            return 0.0
        with self._lock:
            if (term, lang) not in self._shares:
                rows = self.generation.postings(term)
                held = int(np.count_nonzero(self.langs[rows] == lang)) if len(rows) else 0
                self._shares[(term, lang)] = held / n
            return self._shares[(term, lang)]

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


def _codes(values: list[str], code_of: dict[str, int], dtype) -> np.ndarray:
    return np.fromiter((code_of[v] for v in values), dtype=dtype, count=len(values))


class _Columns:
    """The per-row columns a view filters and groups on, from (lang, doc,
    kind, group, section) per row in row order, with each distinct string
    and key held once."""

    def __init__(self, records) -> None:
        self.langs: list[str] = []
        self.docs: list[str] = []
        self.kinds: list[str] = []
        self.section_ids: list[int] = []
        self.heading_keys: list[str | None] = []
        self.chapter_keys: list[str | None] = []
        self.doc_rows: dict[str, list[int]] = {}
        self.doc_group: dict[str, str] = {}
        strings: dict[str, str] = {}
        sections: dict[tuple, int] = {}
        keys: dict[tuple, tuple] = {}
        for row, (lang, doc, kind, group, section) in enumerate(records):
            doc = strings.setdefault(doc, doc)
            section = tuple(section)
            self.langs.append(strings.setdefault(lang, lang))
            self.docs.append(doc)
            self.kinds.append(strings.setdefault(kind, kind))
            self.doc_rows.setdefault(doc, []).append(row)
            self.doc_group[doc] = group
            self.section_ids.append(sections.setdefault((doc, section), len(sections)))
            if section not in keys:
                keys[section] = (heading_key(section), chapter_key(section))
            heading, chapter = keys[section]
            self.heading_keys.append(heading)
            self.chapter_keys.append(chapter)
