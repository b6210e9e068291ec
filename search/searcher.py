"""Load an index once and answer queries with cited hits.

The stages live in their own modules: retrieval (dense and BM25), fusion
(rank fusion fair across languages), versions (language versions and
alignment), sections (one hit per section, section-number queries),
relevance (the "no relevant passage" verdict) and highlight. This module
holds the searcher that runs them on one index generation.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from kb.choices import ChoiceError
from kb.index.folder import Generation
from kb.model.bars import CosineBars, bars_for
from kb.model.embedder import Embedder, resolve_model
from kb.model.indexed import indexed_model
from kb.records import Chunk, IndexedDocument
from kb.settings import Settings, load_settings
from kb.text.headings import heading_key, section_query, section_reference
from search import answer as answers
from search import bridge, relevance, retrieval, sections, versions
from search import highlight as highlighting
from search.backend import Backend, FileBackend, SearchIndex, open_backend
from search.encoders import load_query_embedder
from search.fusion import dense_weights, fuse
from search.highlight import sentence_spans
from search.hits import (
    Highlight,
    Hit,
    QueryError,
    QueryTooLongError,
    Results,
    StaleHitError,
    hit_from_chunk,
)
from search.modes import Highlighting, SearchMode
from search.retrieval import query_language
from search.view import IndexView

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
MIN_CANDIDATES = 100  # per retriever, before fusion

__all__ = ["Highlighting", "Highlight", "Hit", "QueryError", "Results", "SearchMode", "Searcher"]
__all__ += ["heading_key", "query_language", "sentence_spans"]


class Searcher:
    def __init__(
        self,
        generation: Generation | SearchIndex,
        embedder: Embedder,
        index_dir: Path | None = None,
        backend: Backend | None = None,
        bars: CosineBars | None = None,
    ) -> None:
        retrieval.one_faiss_thread()
        self.embedder = embedder
        self.bars = bars  # the model's "no relevant passage" bars; None: the base model's
        self.index_dir = index_dir
        self.backend = backend or (FileBackend(index_dir) if index_dir is not None else None)
        self._view = IndexView(generation)
        self._reload_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        index_dir: Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> Searcher:
        """Load the live index and the model that built it; raises a typed
        IndexError_ when the index is missing, corrupt or from another model
        (and a BackendError when its PostgreSQL cannot serve)."""
        settings = settings or load_settings()
        index_dir = index_dir or settings.index_dir
        backend = open_backend(settings, index_dir)
        if embedder is None:
            settings = indexed_model(settings, index_dir, settings.search_backend)
            _, _, fingerprint = resolve_model(settings)
            generation = backend.load(fingerprint)
            embedder = load_query_embedder(settings)
        else:
            generation = backend.load(embedder.fingerprint)
        bars = bars_for(settings, embedder.fingerprint)
        return cls(generation, embedder, index_dir, backend, bars)

    # ------------------------------------------------------------ state

    @property
    def generation(self) -> SearchIndex:
        return self._view.generation

    @property
    def chunks(self) -> list[Chunk]:
        return self._view.chunks

    @property
    def view(self) -> IndexView:
        """The live generation's view: read once per page, as a search does
        (the outline and a section's text, search/outline.py)."""
        return self._view

    def reload_if_changed(self) -> bool:
        """Switch to a newer generation if a rebuild swapped one in. Searches
        already running finish on the generation they started with."""
        if self.backend is None:
            return False
        with self._reload_lock:
            live = self.backend.live_name()
            if live is None or live == self._view.generation.name:
                return False
            old, self._view = self._view, IndexView(self.backend.load(self.embedder.fingerprint))
            logger.info("reloaded index generation %s", live)
        # PostgreSQL: let go of the old generation's lease (a search still
        # running on it reconnects for its remaining queries, or ends).
        getattr(old.generation, "close", lambda: None)()
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

    def _check(self, query: str, mode: SearchMode, k: int, languages, docs, kinds) -> None:
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
            raise QueryTooLongError(len(query), MAX_QUERY_CHARS)
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
        mode: SearchMode | str = SearchMode.HYBRID,
        languages=None,
        docs=None,
        kinds=None,
        highlight: Highlighting = Highlighting.FULL,
    ) -> Results:
        """The ``k`` best passages for ``query``, one per section, optionally
        only in some languages, documents or kinds, marked as ``highlight``
        says. The result list says whether anything cleared the relevance bar."""
        try:
            mode = SearchMode.from_str(mode)
        except ChoiceError as exc:
            raise QueryError(str(exc)) from None
        self._check(query, mode, k, languages, docs, kinds)
        view = self._view
        query = query.strip()
        where = view.where(languages, docs, kinds)
        mask = where.mask
        if not mask.any():  # filters that no passage meets: no results, not an error
            return Results()
        key = section_query(query)  # nothing but a section number: straight to it
        named = sections.named_section_rows(view, key, mask) if key else []
        if named:
            hits = [hit_from_chunk(view.chunks[r], 1.0, i + 1, r) for i, r in enumerate(named[:k])]
            if highlight is not Highlighting.NONE:
                hits = self._highlight(query, hits, None, semantic=False)
            return Results(hits, section=key)
        # "999 §": no passage is that section (a chapter or a numbered heading
        # may be written otherwise: "luku 5" over a strategy's "5 Otsikko")
        missing_section = key is not None and key.endswith("§")

        depth = min(int(mask.sum()), max(MIN_CANDIDATES, 4 * k))
        qlang = query_language(query)
        ranked, qvec, top_cosine = self._retrieve(view, query, mode, where, depth, qlang)
        key = section_reference(query)  # "section 25 of the act": that section leads
        named = sections.named_section_rows(view, key, mask) if key else []
        if named:
            ranked["section"] = (named, sections.SECTION_LEADS)
        fused, order = fuse(list(ranked.values()))
        dense_rank = (
            {r: i + 1 for i, r in enumerate(ranked["dense"][0])} if "dense" in ranked else {}
        )
        bm25_rank = {r: i + 1 for i, r in enumerate(ranked["bm25"][0])} if "bm25" in ranked else {}
        rows = sections.collapse(view, order, k)
        hits = [
            hit_from_chunk(view.chunks[r], fused[r], i + 1, r, dense_rank.get(r), bm25_rank.get(r))
            for i, r in enumerate(rows)
        ]
        unknown = relevance.unknown_names(query, view.knows, qlang)
        if named:  # "section 80 of the Estonian act": the section, unless a name is unknown
            verdict = relevance.not_a_question_here(query, unknown)
        else:
            verdict = missing_section or relevance.no_relevant_passage(
                query,
                top_cosine,
                bool(bm25_rank),
                home=qlang is None or qlang in view.language_list,
                unknown=unknown,
                bars=self.bars,
            )
        if highlight is not Highlighting.NONE:
            # Nothing relevant: the query's words are marked, no "best sentence".
            semantic = highlight is Highlighting.FULL and not verdict
            hits = self._highlight(query, hits, qvec, semantic=semantic)
        return Results(hits, no_relevant_passage=verdict, section=key if named else None)

    def _retrieve(self, view: IndexView, query: str, mode: SearchMode, where, depth: int, qlang):
        """({name: (rows, weight)}, query vector, best cosine) of the retrievers
        that ``mode`` runs; ``qlang``: the query's language (or None). With a
        backend that answers over the network (PostgreSQL) the retrievers'
        queries run at once, each on its own connection."""
        jobs: dict[str, Callable[[], tuple[list[int], object]]] = {}
        found: dict[str, object] = {"qvec": None, "top_cosine": None}
        hybrid = mode is SearchMode.HYBRID
        source, qlang = qlang, qlang if hybrid else None

        def dense() -> tuple[list[int], object]:
            found["qvec"] = qvec = self.embedder.embed_queries([query])
            rows, cosines = retrieval.dense(view, qvec, where, depth)
            found["top_cosine"] = float(cosines[0]) if len(cosines) else None
            if hybrid and qlang is not None:
                return rows, dense_weights(view.langs[rows], {qlang})  # fair across languages
            return rows, 1.0

        if mode.dense:
            jobs["dense"] = dense
        if mode is SearchMode.BM25:
            jobs["bm25"] = lambda: (retrieval.bm25(view, query, where, depth), 1.0)
            jobs.update(self._bridged(view, query, source, where, depth, bridge.BM25_MODE_WEIGHT))
        home = where
        if hybrid:
            # Lexical matches across languages are mostly shared numbers and
            # names: BM25 takes part only where the query's language is.
            home = where if qlang is None else view.narrow(where, qlang)
            jobs["bm25"] = lambda: (retrieval.bm25(view, query, home, depth), 1.0)
            jobs.update(self._bridged(view, query, qlang, where, depth))
        ranked = retrieval.run_all(jobs, view.generation.remote)
        qvec = found["qvec"]
        if hybrid and qlang is not None and not home.count:
            # The search excludes the query's own language (cross-language
            # filter): reach the passages through their versions written in
            # it, in that order; direct dense hits follow.
            pivot = versions.pivot(view, query, qvec, qlang, where, depth)
            ranked["pivot"] = (pivot, versions.PIVOT_LEADS)
        return ranked, qvec, found["top_cosine"]

    @staticmethod
    def _bridged(view: IndexView, query: str, source, where, depth: int, weight=None) -> dict:
        """The lexical bridge's lists, to run: the query's words translated
        into each other language of the index, BM25 there (search/bridge.py)."""
        weight = bridge.BRIDGE_WEIGHT if weight is None else weight
        return {
            f"bridge-{target}": functools.partial(
                lambda t: (retrieval.bridged(view, query, source, t, where, depth), weight), target
            )
            for target in bridge.targets(source, view.language_list)
        }

    # ------------------------------------------------------------ highlights

    def highlight(self, query: str, results: Results, semantic: bool = True) -> Results:
        """``results`` with their highlights (re)computed: what ``search`` does
        with ``Highlighting.FULL``, or with ``Highlighting.TERMS`` when
        ``semantic`` is False or the search found nothing relevant. The page
        shows hits with their cheap highlights first and adds the costly ones
        after."""
        semantic = semantic and not results.no_relevant_passage
        return results.with_hits(self._highlight(query.strip(), list(results), None, semantic))

    def _highlight(self, query, hits, qvec, semantic=True) -> list[Hit]:
        view = self._view
        return highlighting.highlight(
            self.embedder,
            query,
            hits,
            qvec,
            semantic,
            share=view.term_share,
            stored=view.stored_sentences,
            finnish=view.finnish,
        )

    # ------------------------------------------------------------ passages

    def _resolve(self, view: IndexView, hit: Hit | str) -> int:
        """The row of a passage: by its id, or, for a hit, where its id
        still names the same text. A hit of a generation a rebuild has
        replaced is a StaleHitError when its passage changed or left (a
        search that was running during the swap, then a panel)."""
        if isinstance(hit, str):
            for row, c in enumerate(view.chunks):
                if c.chunk_id == hit:
                    return row
            raise QueryError(f"unknown passage {hit}")
        if view.holds(hit):
            return hit.row
        for row, c in enumerate(view.chunks):
            if c.chunk_id == hit.chunk_id and c.text == hit.text:
                return row
        raise StaleHitError(
            f"passage {hit.chunk_id} is no longer in the index as it was (the index was "
            "rebuilt since the search): search again"
        )

    def aligned(self, hit: Hit | str) -> list[Hit]:
        """The same passage in each other language version of its document
        (documents sharing its ``group``), with its cosine as the score."""
        view = self._view
        row = self._resolve(view, hit)
        out = [
            hit_from_chunk(view.chunks[r], sim, i + 1, r)
            for i, (r, sim) in enumerate(versions.align_row(view, row))
        ]
        return sorted(out, key=lambda h: h.lang)

    def document(self, doc_id: str) -> IndexedDocument:
        """The index's record of a document: title, lang, kind, url,
        identifier, path (in the corpus folder), sha256, pages; an empty
        record (IndexedDocument.unknown) if the index does not describe it."""
        return self._view.doc_meta.get(doc_id) or IndexedDocument.unknown(doc_id)

    def neighbours(self, hit: Hit | str) -> list[Hit]:
        """The passage with the chunks just before and after it in its
        document, in reading order (the hit itself included)."""
        view = self._view
        rows, at = view.doc_position(self._resolve(view, hit))
        around = rows[max(0, at - 1) : at + 2]
        return [hit_from_chunk(view.chunks[r], 0.0, i + 1, int(r)) for i, r in enumerate(around)]

    def passages_before(self, hit: Hit, n: int = answers.LEAD_IN_REACH) -> list[Chunk]:
        """Up to ``n`` passages just before this one in its document,
        nearest first: where a list item's lead-in is when the hit's
        passage starts inside a long list (search/answer.py). Empty for a hit
        of a generation a rebuild has replaced: the answer box then quotes
        no item rather than look the passage up."""
        view = self._view
        if not view.holds(hit):
            return []
        rows, at = view.doc_position(hit.row)
        before = rows[max(0, at - n) : at][::-1]
        view.prefetch(before)  # one query with PostgreSQL
        return [view.chunks[int(r)] for r in before]

    def similar(self, hit: Hit | str, k: int = 5, languages=None) -> list[Hit]:
        """Passages most like this one, across all documents ("more like this")."""
        view = self._view
        row = self._resolve(view, hit)
        where = view.where(languages, exclude={row})
        depth = min(where.count, 4 * k + 8)
        if depth == 0:
            return []
        qvec = view.vector(row)[None, :]
        own = view.chunks[row]
        candidates, _ = retrieval.dense(view, qvec, where, depth)
        order = [r for r in candidates if not sections.adjacent(own, view.chunks[r])]
        rows = sections.collapse(view, order, k)
        sims = [float(view.vector(r) @ qvec[0]) for r in rows]
        return [
            hit_from_chunk(view.chunks[r], s, i + 1, r)
            for i, (r, s) in enumerate(zip(rows, sims, strict=True))
        ]
