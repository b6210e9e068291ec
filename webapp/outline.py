"""The outline view: a document's headings as contents in the sidebar
(collapsible, with page numbers), and the chosen section's whole text in
the main area beside its other language versions, each with its citation
and "open at page". The URL holds the document and the section
(``?view=outline&document=…&section=…``), so a shared link opens it; each
result card links here (``outline_link``).

The outline, the text and the versions come from search/outline.py, read
from the index alone; every title and text is untrusted and is escaped
(``escape`` for st.html, ``plain`` for labels that render Markdown)."""

from __future__ import annotations

import urllib.parse

import streamlit as st

from kb.errors import KBError
from kb.labels import label
from kb.records import DocumentMeta
from kb.settings import load_settings
from search import Searcher
from search import outline as reading
from search.cite import citation_text, cite, paged, where_text
from webapp.cards import escape, open_at_page, plain
from webapp.state import get_searcher, pdf_links

DOC_PARAM, SECTION_PARAM = "document", "section"
DOC_KEY, SECTION_KEY = "outline_doc", "outline_sec"
# The contents' headings read as a list, from the left (Streamlit centres
# a button's label), each level further in: a button's key gives its
# element the class st-key-<key>, "toc-<level>-..." here.
CONTENTS_CSS = """<style>
.st-key-kb-contents button { justify-content: flex-start; text-align: left; min-height: 0 }
.st-key-kb-contents button p { text-align: left }
.st-key-kb-contents [class*="st-key-toc-1-"] { padding-left: 0.9rem }
.st-key-kb-contents [class*="st-key-toc-2-"] { padding-left: 1.8rem }
.st-key-kb-contents [class*="st-key-toc-3-"] { padding-left: 2.7rem }
</style>"""


def outline_link(doc_id: str, path: tuple[str, ...], ui: str) -> str:
    """The address (relative, the page's own) that opens a section in the
    outline view: a result card's link."""
    query = {"view": "outline", DOC_PARAM: doc_id, SECTION_PARAM: reading.section_ref(path)}
    return "?" + urllib.parse.urlencode({**query, "ui": ui})


@st.cache_data(max_entries=64, show_spinner=False)
def cached_outline(index_dir: str, generation: str, doc_id: str) -> list[reading.Entry]:
    """A document's outline, once per index generation."""
    return reading.outline(get_searcher(index_dir).view, doc_id)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_section(index_dir: str, generation: str, doc_id: str, ref: str):
    """(the section's text, its other language versions), or None when the
    document has no such section; once per index generation."""
    view = get_searcher(index_dir).view
    entry = reading.find(reading.outline(view, doc_id), ref)
    if entry is None:
        return None
    return reading.section(view, doc_id, entry), reading.versions(view, doc_id, entry)


def _seed(searcher: Searcher) -> None:
    """The URL's document and section, once a session; the widget's value
    handed back each run (its label changes with the page's language)."""
    state, params = st.session_state, st.query_params
    if DOC_KEY in state and state[DOC_KEY] in searcher.documents:
        state[DOC_KEY] = state[DOC_KEY]
        return
    if DOC_KEY in state:  # a rebuild took the document away: start over
        state[DOC_KEY], state[SECTION_KEY] = (searcher.documents or [None])[0], None
        return
    wanted = params.get(DOC_PARAM)
    known = wanted in searcher.documents
    state["outline_missing"] = bool(wanted) and not known
    state[DOC_KEY] = wanted if known else (searcher.documents or [None])[0]
    state[SECTION_KEY] = params.get(SECTION_PARAM) if known else None


def _choose(ref: str | None) -> None:
    st.session_state[SECTION_KEY] = ref


def _top_depth(entries: list[reading.Entry]) -> int:
    """The depth the contents open at: the first with two or more
    headings (a document under one title opens at its chapters)."""
    depths = [e.depth for e in entries if e.depth]
    top = min(depths, default=0)
    while sum(1 for d in depths if d == top) == 1 and any(d > top for d in depths):
        top += 1
    return top


def _entry_label(entry: reading.Entry, ui: str, pages: bool, chosen: bool, indent: int) -> str:
    """A heading's button: its title (at indent 0, the heading its panel
    stands for: "read it all") and its page; bold when it is the one shown."""
    title = plain(entry.title) if entry.path else label(ui, "outline_start")
    title = label(ui, "outline_all") if indent == 0 and entry.depth else title
    text = f"{title} · {label(ui, 'page')} {plain(entry.page)}" if pages else title
    return f"**{text}**" if chosen else text


def draw_contents(doc_id: str, entries: list[reading.Entry], ui: str, pages: bool) -> None:
    """The headings in the sidebar: those above the opening depth as
    buttons, each heading at it as a panel holding itself and the headings
    below it; a panel's buttons are drawn only while it is open. The
    chosen section's panel opens with the page."""
    bar = st.sidebar.container(key="kb-contents")
    bar.html(CONTENTS_CSS)
    chosen, top = st.session_state.get(SECTION_KEY), _top_depth(entries)

    def button(where, entry: reading.Entry, indent: int) -> None:
        where.button(
            _entry_label(entry, ui, pages, entry.ref == chosen, indent),
            key=f"toc-{min(max(indent, 0), 3)}-{doc_id}:{entry.ref}",
            type="tertiary",
            on_click=_choose,
            args=(entry.ref,),
        )

    chosen_entry = reading.find(entries, chosen) if chosen else None
    for i, entry in enumerate(entries):
        if entry.depth > top:
            continue
        below = [e for e in entries[i + 1 :] if e.depth > top and e.path[:top] == entry.path]
        if entry.depth < top or not below:
            button(bar, entry, -1)  # above the panels, or nothing below it: its title
            continue
        key = f"tocs:{doc_id}:{entry.ref}"
        if chosen_entry and chosen_entry.path[:top] == entry.path and key not in st.session_state:
            st.session_state[key] = True  # the shared link's section, in sight
        title = plain(entry.title)
        box = bar.expander(
            f"{title} · {label(ui, 'page')} {plain(entry.page)}" if pages else title,
            key=key,
            on_change="rerun",
        )
        if not box.open:
            continue
        button(box, entry, 0)  # the panel's own heading: all of it
        for sub in below:
            button(box, sub, sub.depth - top)


def version_html(text: reading.SectionText, doc: DocumentMeta, ui: str, pdf: str | None) -> str:
    """One language version of a section: its document, language, pages
    and "open at page", its heading path, then its text, a heading line
    before each heading below the section's own. Everything escaped."""
    c = cite(text.hit, doc)
    head = f"<b>{escape(text.hit.title)}</b> <code>{escape(text.lang)}</code>"
    if where := where_text(c, ui):
        head += f" · {escape(where)}"
    if pdf and c.pdf_page:
        head += f" · {open_at_page(pdf, c.pdf_page, text.entry.page, ui)}"
    if text.entry.path:
        head += f'<br><span style="font-weight:600">{escape(" › ".join(text.entry.path))}</span>'
    body, shown = [], text.entry.path
    for block in text.blocks:
        new = [t for i, t in enumerate(block.path) if i >= len(shown) or shown[i] != t]
        for title in new:
            body.append(f'<p style="font-weight:600;margin:0.8em 0 0.2em 0">{escape(title)}</p>')
        shown = block.path
        if block.text:
            body.append(f"<p>{escape(block.text)}</p>")
    lang = escape(text.lang)
    return f'<div lang="{lang}" style="margin-bottom:0.6em">{head}<br>{"".join(body)}</div>'


def show_section(searcher: Searcher, doc_id: str, ref: str, ui: str, links: dict) -> bool:
    """The section's text and its other language versions side by side,
    each with its citation; False when the document has no such section."""
    index_dir, generation = str(searcher.index_dir), searcher.generation.name
    found = cached_section(index_dir, generation, doc_id, ref)
    if found is None:
        return False
    text, others = found
    versions = [text, *others]
    columns = st.columns(len(versions)) if len(versions) > 1 else [st.container()]
    for column, version in zip(columns, versions, strict=True):
        doc = searcher.document(version.doc_id)
        column.html(version_html(version, doc, ui, links.get(version.doc_id)))
        column.code(citation_text(cite(version.hit, doc), ui), language=None, wrap_lines=True)
    if not reading.siblings(searcher.view, doc_id):
        st.caption(label(ui, "no_other"))
    return True


def outline_view(searcher: Searcher, ui: str) -> None:
    """The outline view (see the module's docstring)."""
    state = st.session_state
    _seed(searcher)
    titles = {d: searcher.document(d).title or d for d in searcher.documents}
    st.sidebar.subheader(label(ui, "outline"), anchor=False)
    doc_id = st.sidebar.selectbox(
        label(ui, "outline_doc"),
        searcher.documents,
        key=DOC_KEY,
        format_func=titles.get,
        on_change=_choose,
        args=(None,),
    )
    if state.pop("outline_missing", False):
        st.warning(label(ui, "outline_missing"))
    if doc_id is None:
        return
    settings = load_settings()
    generation = searcher.generation.name
    documents = {d: searcher.document(d) for d in searcher.documents}
    links = pdf_links(generation, documents, str(settings.corpus_dir))
    try:
        entries = cached_outline(str(searcher.index_dir), generation, doc_id)
    except KBError:  # the document left the index with a rebuild
        st.warning(label(ui, "outline_missing"))
        return
    if len(entries) == 1:
        state[SECTION_KEY] = entries[0].ref
    draw_contents(doc_id, entries, ui, paged(documents[doc_id]))
    ref = state.get(SECTION_KEY)
    entry = reading.find(entries, ref) if ref else None
    # the heading shown, or the document when none is (each version's
    # column names its document)
    heading = titles[doc_id] if entry is None else entry.title or label(ui, "outline_start")
    st.subheader(plain(heading), anchor=False)
    if ref and not show_section(searcher, doc_id, ref, ui, links):
        st.warning(label(ui, "outline_missing"))
        ref = None
    if not ref:
        st.info(label(ui, "outline_pick"))
    remember(doc_id, ref, ui)


def remember(doc_id: str, ref: str | None, ui: str) -> None:
    """The document and section in the URL: a shared link opens them."""
    st.query_params.update({"view": "outline", "ui": ui, DOC_PARAM: doc_id})
    if ref:
        st.query_params[SECTION_PARAM] = ref
    elif SECTION_PARAM in st.query_params:
        del st.query_params[SECTION_PARAM]
