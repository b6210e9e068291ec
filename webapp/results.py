"""The search view: the question box and examples, the answer box, one card
per section with "copy citation" and its panel (context, other languages,
similar passages)."""

from __future__ import annotations

import streamlit as st

from kb.errors import BackendUnavailableError
from kb.labels import EXAMPLES, label
from search import Highlighting, QueryError, Searcher, StaleHitError
from search.answer import answer
from search.cite import citation_text, cite
from search.context import without_overlap
from search.grouping import best_by_language
from webapp import feedback
from webapp.cards import (
    ANSWER_PLACE,
    answer_html,
    card_html,
    group_heading,
    index_error_message,
    query_error_message,
)
from webapp.outline import outline_link
from webapp.page import draw_filters, remember_in_url, show_exports
from webapp.state import cached_highlighted, cached_hits, get_document


def put_card(where, hit, ui: str, links: dict[str, str], **style) -> None:
    """Write one result card (escaped HTML, with its open-at-page link) into
    ``where``: the page, a column, a panel or a placeholder."""
    doc = get_document(hit.doc_id)
    outline = outline_link(hit.doc_id, hit.section, ui)
    html = card_html(hit, ui, links.get(hit.doc_id), doc=doc, outline=outline, **style)
    where.html(html)


def citation(hit, ui: str) -> str:
    """The hit's citation as text, in the page's language."""
    return citation_text(cite(hit, get_document(hit.doc_id)), ui)


def copy_citation(hit, ui: str) -> None:
    """ "Copy citation": a popover holding the citation in st.code, whose
    own button copies it. st.code shows text as text (no Markdown, no
    HTML), so titles and addresses need no escaping, and it needs no iframe
    or script of ours. Its content is written only once it is opened: a
    closed popover is one element for the browser to draw, not three."""
    box = st.popover(label(ui, "copy"), key=f"copy:{hit.chunk_id}", on_change="rerun")
    if box.open:
        box.code(citation(hit, ui), language=None, wrap_lines=True)
        box.caption(label(ui, "copy_help"))


def show_panels(searcher: Searcher, hit, ui: str, links: dict[str, str]) -> None:
    """The three views of a hit (the passage with its neighbours, the same
    passage in other languages, similar passages) as tabs of one panel,
    computed only once the panel is opened: ten closed panels are what the
    browser draws before the first card is on screen."""
    box = st.expander(label(ui, "panels"), key=f"panels:{hit.chunk_id}", on_change="rerun")
    if not box.open:
        return
    # The citation again, in a text field: the popover's copy button is out
    # of the keyboard's reach (Streamlit draws a popover outside the page's
    # Tab order); a field in the panel can be reached, selected and copied.
    field = label(ui, "citation_field")
    box.text_input(field, value=citation(hit, ui), key=f"cite:{ui}:{hit.chunk_id}")
    names = ["context", "other", "similar"] if hit.group else ["context", "similar"]
    tabs = dict(zip(names, box.tabs([label(ui, name) for name in names]), strict=True))
    parts = [hit if p.chunk_id == hit.chunk_id else p for p in searcher.neighbours(hit)]
    for part in without_overlap(parts, hit.chunk_id):  # overlapping chunks: their text once
        current = part.chunk_id == hit.chunk_id
        put_card(tabs["context"], part, ui, links, rank=False, current=current)
    if "other" in tabs:
        if aligned := searcher.aligned(hit):
            cols = tabs["other"].columns(len(aligned) + 1)
            put_card(cols[0], hit, ui, links, anchored=False)  # the card above has the id
            for col, other in zip(cols[1:], aligned, strict=True):
                put_card(col, other, ui, links, rank=False, score=True)
        else:  # its other versions are not in the index: say so, not the same card again
            tabs["other"].info(label(ui, "no_other"))
    for other in searcher.similar(hit, k=5):
        put_card(tabs["similar"], other, ui, links, rank=False, score=True)


def show_hit(searcher: Searcher, hit, ui: str, links: dict[str, str]):
    """One result, its "copy citation" and its panel; returns the
    placeholder of its card, so that better highlights can replace it once
    they are computed."""
    card = st.empty()
    put_card(card, hit, ui, links)
    copy_citation(hit, ui)
    feedback.card_verdicts(searcher, hit, ui)  # "answered my question" / "did not"
    try:
        show_panels(searcher, hit, ui, links)
    except StaleHitError:  # another session's rebuild was swapped in mid-page
        st.info(label(ui, "stale"))
    return card


def search_view(searcher: Searcher, ui: str, links: dict[str, str]) -> None:
    state = st.session_state
    query = st.text_input(label(ui, "query"), key="q", placeholder=label(ui, "ask"))
    examples = st.container(
        horizontal=True, vertical_alignment="center", gap="small", key="examples"
    )
    examples.caption(f"{label(ui, 'examples')}:", width="content")
    for example in EXAMPLES:  # a click asks it
        examples.button(example, on_click=state.update, kwargs={"q": example}, width="content")
    chosen = draw_filters(searcher, ui)  # in the sidebar: collapsed on a phone
    if not query.strip():
        if "q" in st.query_params:  # a question cleared: a shared link no longer asks it
            del st.query_params["q"]
        return
    filters = chosen.search_kwargs()
    index_dir, generation = str(searcher.index_dir), searcher.generation.name
    # Best sentences come from the vectors the build stored (cheap); an
    # index built before them gets the query's words first and the best
    # sentences, embedded now, once the cards are on screen.
    stored = searcher.generation.sentences is not None
    highlight = Highlighting.FULL if stored else Highlighting.TERMS
    try:
        hits = cached_hits(index_dir, generation, query, highlight, **filters)
    except QueryError as exc:
        st.error(query_error_message(exc, ui))
        return
    except BackendUnavailableError as exc:
        st.error(index_error_message(exc, ui))
        return
    remember_in_url(query, chosen, state.ui)
    if not hits:
        st.write(label(ui, "no_results"))
        return
    # The answer above the cards, in place before the first card so that
    # the cards never move: from the sentences the hits carry (cheap); an
    # older index embeds them after the cards, and the answer's place is
    # held meanwhile. The exports too (their text needs no highlights).
    answer_box = st.empty()
    verdicts = st.container()  # "answered my question" / "did not", under the answer
    if stored or hits.no_relevant_passage:
        answered = show_answer(answer_box, hits, ui, searcher)
        feedback.answer_verdicts(verdicts, query, hits, ui, generation, answered)
    else:
        answer_box.html(ANSWER_PLACE)
    show_exports(st.container(), query, hits, ui, searcher)
    searches = {"": filters}  # grouped: each language searched on its own

    def one_language(lang: str, k: int):
        searches[lang] = dict(filters, languages=[lang], k=k)
        return cached_hits(index_dir, generation, query, highlight, **searches[lang])

    groups = {"": hits}
    if chosen.group:
        languages = chosen.languages or searcher.languages
        groups = best_by_language(one_language, languages, chosen.k, hits)
    cards = show_hits(searcher, groups, ui, links)
    if not stored:
        try:
            for lang, members in groups.items():
                highlighted = cached_highlighted(index_dir, generation, query, **searches[lang])
                for old, new in zip(members, highlighted, strict=True):
                    if new.highlights != old.highlights:
                        put_card(cards[new.chunk_id], new, ui, links)
            # the answer box takes the ungrouped list (cached unless grouped)
            best = cached_highlighted(index_dir, generation, query, **filters)
            hits = hits.with_hits(list(best))
        except BackendUnavailableError:
            pass  # the cards are on screen, with their query words marked
        answered = show_answer(answer_box, hits, ui, searcher, held=True)
        feedback.answer_verdicts(verdicts, query, hits, ui, generation, answered)  # under it


def show_hits(searcher: Searcher, groups: dict, ui: str, links: dict[str, str]) -> dict:
    """The cards, under a heading per language when grouped (keys other
    than ""); their placeholders by chunk id."""
    cards = {}
    for lang, members in groups.items():
        if lang:
            st.subheader(group_heading(ui, lang, len(members)), anchor=False)
        for hit in members:
            cards[hit.chunk_id] = show_hit(searcher, hit, ui, links)
    return cards


def lead_ins(searcher: Searcher):
    """Where the answer box looks for a list item's lead-in
    (Searcher.passages_before), or nowhere when the search database cannot
    be reached after the search: the box then quotes no item rather than
    fail."""

    def before(hit):
        try:
            return searcher.passages_before(hit)
        except BackendUnavailableError:
            return []

    return before


def show_answer(where, hits, ui: str, searcher: Searcher, held: bool = False) -> bool:
    """The answer box above the cards: the best sentences, each with its
    citation and a link to its card; or, when nothing cleared the relevance
    bar, a sentence that says so, with the nearest passages under a note.
    Whether it quoted any sentence."""
    if hits.no_relevant_passage:
        where.warning(f"{label(ui, 'no_relevant')} {label(ui, 'nearest')}")
        return False
    sentences = answer(hits, before=lead_ins(searcher))
    if sentences:
        docs = {s.hit.doc_id: searcher.document(s.hit.doc_id) for s in sentences}
        where.html(answer_html(sentences, ui, docs, held))
    else:
        where.empty()
    return bool(sentences)
