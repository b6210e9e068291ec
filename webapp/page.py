"""The page's frame: its style sheet (readable captions, a phone-width
layout), the search's settings and filters, drawn in the sidebar, the
search kept in the URL, and the export buttons.

The filters live in the sidebar so that on a phone, where Streamlit keeps
the sidebar collapsed, the question box and the answer come first; on a
wide screen the sidebar stays open beside the results."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from kb.labels import coded, label
from search.export import to_csv, to_markdown
from search.modes import SearchMode
from search.searcher import Searcher
from webapp.cards import language_name

# Our own style sheet, one <style> element (st.html).
# - Streamlit's "Press Enter to apply" is English on every page; the
#   question's label says it in the page's language.
# - Captions: Streamlit's grey (#828180 on white, 3.9:1) is below WCAG AA's
#   4.5:1; the text's own colour, slightly faded, passes in light and dark.
#   The slider's value, in the primary red, is 3.5:1 on the dark theme's
#   sidebar: it takes the text's colour too.
# - Cards and the answer box are st.html (sanitised HTML; the browser draws
#   it far faster than Markdown with HTML in it): their links and language
#   tags take the colours st.markdown gives them, in the light and the dark
#   theme (light-dark() follows the colour scheme Streamlit sets).
# - A collapsed sidebar (on a phone, by default) is moved off screen, but
#   its widgets stayed in the Tab order, focused where no one sees them.
# - "Copy citation": st.code's copy button showed only while the pointer
#   was over the block, though the help beside it says it is there; it is
#   always shown.
# - Under 640 px (a phone): a smaller title and top margin, and the
#   example questions in one row that scrolls sideways, so the question box
#   and the answer fit in the first screen.
PAGE_CSS = """<style>
[data-testid='InputInstructions'] { display: none }
[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p {
  color: inherit; opacity: 0.85 }
[data-testid='stSliderThumbValue'], [data-testid='stSliderThumbValue'] p { color: inherit }
.stHtml a { color: light-dark(rgb(36, 79, 180), rgb(133, 184, 248)) }
.stHtml code { font-family: "Source Code Pro", monospace; font-size: 0.75em;
  padding: 0.2em 0.4em; border-radius: 0.25rem;
  background: light-dark(rgb(247, 247, 246), rgb(36, 35, 33)) }
[data-testid='stCode'] > div:has([data-testid='stElementToolbarButton']) {
  opacity: 1 !important; visibility: visible !important; pointer-events: auto !important }
[data-testid='stSidebar'][data-collapsed='true'] [data-testid='stSidebarContent'] {
  visibility: hidden }
@media (max-width: 640px) {
  [data-testid='stMainBlockContainer'] { padding-top: 3.5rem }
  h1 { font-size: 1.6rem !important; padding-top: 0.25rem !important }
  .st-key-examples { flex-wrap: nowrap !important; overflow-x: auto; padding-bottom: 2px }
  .st-key-examples button { min-height: 0; padding: 0.1rem 0.6rem; white-space: nowrap }
  .st-key-examples button p { font-size: 0.85rem; white-space: nowrap }
}
</style>"""


@dataclass(frozen=True)
class Filters:
    """What the sidebar's search settings hold."""

    mode: str
    languages: list[str]
    docs: list[str]
    kinds: list[str]
    k: int
    group: bool

    def search_kwargs(self) -> dict:
        """Keyword arguments of Searcher.search (an empty filter means all)."""
        return dict(
            k=self.k,
            mode=self.mode,
            languages=self.languages or None,
            docs=self.docs or None,
            kinds=self.kinds or None,
        )


def draw_filters(searcher: Searcher, ui: str) -> Filters:
    """Mode, languages, documents, kinds, number of results and grouping,
    in the sidebar; their keys are the session's (the URL seeds them)."""
    bar = st.sidebar
    bar.subheader(label(ui, "filters"), anchor=False)
    mode = bar.selectbox(
        label(ui, "mode"), list(SearchMode), key="mode", format_func=lambda m: coded(ui, "mode", m)
    )
    languages = bar.multiselect(
        label(ui, "languages"),
        searcher.languages,
        key="langs",
        placeholder=label(ui, "choose"),
        select_all=False,  # its "Select all" is English on every page; empty means all
        format_func=lambda x: f"{language_name(ui, x)} ({x})",
    )
    titles = {d: searcher.document(d).title or d for d in searcher.documents}
    docs = bar.multiselect(
        label(ui, "documents"),
        searcher.documents,
        key="docs",
        format_func=titles.get,
        placeholder=label(ui, "choose"),
        select_all=False,
    )
    kinds = bar.multiselect(
        label(ui, "kinds"),
        searcher.kinds,
        key="kinds",
        placeholder=label(ui, "choose"),
        select_all=False,
        format_func=lambda x: coded(ui, "kind", x),
    )
    k = bar.slider(label(ui, "k"), 1, 30, key="k")
    group = bar.toggle(label(ui, "group"), key="group")
    return Filters(mode, languages, docs, kinds, k, group)


def bar_name(title: str, lang: str, width: int = 44) -> str:
    """A chart bar's name: the title, cut in the middle when long, so that
    its end (a statute's number, "1397/2016") still tells two laws apart,
    then its language."""
    words = title.split()
    if len(title) > width and len(words) > 2:
        head, tail = [words.pop(0)], [words.pop()]
        while words and len(" ".join(tail + words[-1:])) <= width // 3:
            tail.insert(0, words.pop())
        while words and len(" ".join(head + words[:1])) <= width - len(" ".join(tail)) - 3:
            head.append(words.pop(0))
        title = " ".join(head) + (" … " if words else " ") + " ".join(tail)
    return f"{title} ({lang})"


def chunks_chart(indexed, names: dict[str, str]):
    """Passages per document and language as horizontal bars, each named
    by ``bar_name`` (its title's start and end, and its language), the full
    title in the tooltip: the default chart cut titles at their start
    after 180 px, so that two laws looked alike. ``indexed``: the documents
    table (a DataFrame) with the page's column names."""
    import altair as alt

    title, chunks, lang = names["title"], names["chunks"], names["lang"]
    names_ = [bar_name(str(t), str(x)) for t, x in zip(indexed[title], indexed[lang], strict=True)]
    data = indexed.assign(_bar=names_)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{chunks}:Q", title=chunks),
            y=alt.Y(
                "_bar:N", title=None, axis=alt.Axis(labelLimit=300), sort=None
            ),  # the names say it
            color=alt.Color(f"{lang}:N", title=lang, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip(f"{title}:N"),
                alt.Tooltip(f"{lang}:N"),
                alt.Tooltip(f"{chunks}:Q"),
            ],
        )
    )


def remember_in_url(query: str, chosen, ui: str) -> None:
    """The search as URL parameters: a shared link reproduces it."""
    st.query_params.update(
        {
            "q": query,
            "mode": chosen.mode,
            "lang": ",".join(chosen.languages),
            "doc": ",".join(chosen.docs),
            "kind": ",".join(chosen.kinds),
            "k": str(chosen.k),
            "group": "1" if chosen.group else "0",
            "view": "search",
            "ui": ui,
        }
    )


def show_exports(where, query: str, hits, ui: str, searcher: Searcher) -> None:
    """The CSV and Markdown download buttons, side by side."""
    exports = where.columns(2)
    exports[0].download_button(
        label(ui, "export_csv"),
        to_csv(hits, searcher.document, ui),
        file_name="hankinta-kb-results.csv",
        mime="text/csv",
        on_click="ignore",
    )
    exports[1].download_button(
        label(ui, "export_md"),
        to_markdown(query, hits, searcher.document, ui),
        file_name="hankinta-kb-results.md",
        mime="text/markdown",
        on_click="ignore",
    )
