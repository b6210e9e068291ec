"""What the Streamlit page shows, as functions tests can reach: labels in
fi/sv/en, page references, and safe HTML for untrusted document text.

Everything that comes from files, their names, document titles, errors or
sources.toml is untrusted, wherever it is shown. Two helpers carry it:

- ``escape`` for the HTML that st.html shows
  (the result cards and the answer box);
- ``plain`` for every other element whose body or label Streamlit renders as
  Markdown with KaTeX, emoji and colour directives: st.warning, st.error,
  st.success, st.info, st.subheader, st.caption, st.markdown, st.write, and
  the labels of expanders, tabs, buttons and widgets.

Both write every ASCII character that is not a letter, digit or space as a
numeric character reference: Markdown shows it as that character but never
reads it as syntax, so no link, image, emphasis, heading, list, ``$`` math
or ``:directive[...]`` forms. Streamlit shows selectbox and multiselect
options (``format_func``), dataframe cells and chart labels as plain text;
those take the raw text (escaped, they would show the references).
"""

from __future__ import annotations

import re
from dataclasses import asdict

from ingest.status import IndexFacts
from kb.labels import COLUMNS, LANGUAGE_NAMES, UI_LANGS, coded, label
from kb.records import DocumentMeta, IndexedDocument
from search.answer import AnswerSentence
from search.cite import cite, short_citation, where_text
from search.highlight import closes_mid_sentence, heading_end, opens_mid_sentence
from search.hits import Highlight, HighlightKind, Hit, QueryTooLongError
from webapp.pdfs import page_link


def language_name(ui: str, lang: str) -> str:
    return LANGUAGE_NAMES.get(ui, LANGUAGE_NAMES["en"]).get(lang, lang)


def column_names(ui: str) -> dict[str, str]:
    """The documents table's column names in the page's language."""
    keys = ("title", "kind", "lang", "pages", "chunks", "status", "indexed", "file")
    return dict(zip(keys, COLUMNS.get(ui, COLUMNS["en"]), strict=True))


def facts_markdown(facts: IndexFacts, ui: str, counts: dict | None = None) -> str:
    """Model, build time and counts of the live index, one line each, for
    st.markdown; ``counts`` as the table's rows give them (row_counts), else
    the manifest's. The values come from our own manifest; they are escaped
    all the same."""
    model, manifest = facts.manifest.model, facts.manifest
    created = manifest.created[:19].replace("T", " ")
    lines = [
        f"- {label(ui, 'model')}: {plain(model.name)} ({plain(model.fingerprint)})",
        f"- {label(ui, 'created')}: {plain(created)} UTC ({plain(facts.generation or '')})",
        f"- {label(ui, 'counts')}: {counts_line(counts or asdict(manifest.counts), ui)}",
    ]
    return "\n".join(lines)


def counts_line(counts: dict, ui: str) -> str:
    """ "3 asiakirjaa, 176 sivua, 658 kohtaa, 0 epäonnistui" from the
    counts (ingest.status.row_counts: they agree with the table's rows),
    then the missing and not yet indexed, when there are any."""
    keys = ("documents", "pages", "chunks", "failed", "missing", "waiting")
    n = {k: int(counts.get(k, 0)) for k in keys}
    line = label(ui, "counts_line").format(**n)
    if n["missing"] or n["waiting"]:
        line += ", " + label(ui, "counts_line_more").format(**n)
    return line


def documents_table_row(row, ui: str) -> dict:
    """One row of the documents table, its codes (kind, status) in the
    page's language; titles, paths and errors as they are (a dataframe
    shows text as text). Why, and what to do, are below the table in full
    (reasons_markdown): a cell cut them off."""
    return {
        "title": row.title or row.path,
        "kind": coded(ui, "kind", row.kind),
        "lang": row.lang,
        "pages": row.pages,
        "chunks": row.chunks,
        "status": coded(ui, "status", row.status),
        "indexed": row.indexed_at[:19].replace("T", " "),
        "file": row.path,
    }


def reason_text(reasons, ui: str) -> str:
    """Why a document needs attention and what to do, in the page's
    language, from its reason codes (ingest/fetching/availability.py);
    the tools' own English words are not part of it (tool_details)."""
    parts = []
    for r in reasons:
        values = dict(r.values)
        if "when" in values:  # 2026-12-06T10:00:00Z -> 2026-12-06 10:00 UTC
            when = values["when"]
            if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z?", when):
                when = when[:16].replace("T", " ") + " UTC"
            values["when"] = when
        parts.append(label(ui, f"reason_{r.why}").format(**values))
    return "; ".join(parts)


def reasons_markdown(rows, ui: str) -> str:
    """Each document that needs attention, one bullet: its title, status,
    and why and what to do in full, for st.markdown (every part escaped)."""
    lines = []
    for row in rows:
        if row.reasons:
            status = coded(ui, "status", row.status)
            text = reason_text(row.reasons, ui)
            lines.append(f"- {plain(row.title or row.path)} ({plain(status)}): {plain(text)}")
    return "\n".join(lines)


def tool_details(rows) -> str:
    """The tools' own messages (English free text: a fetch's or a reader's
    error) by document, for st.markdown, escaped."""
    lines = []
    for row in rows:
        for r in row.reasons:
            if r.detail:
                lines.append(f"- {plain(row.title or row.path)}: {plain(r.detail)}")
    return "\n".join(lines)


def index_error_message(exc: Exception, ui: str) -> str:
    """A typed error of the index for the page: a database out of reach in
    the page's language (its address without password), any other as the
    library wrote it (escaped)."""
    from kb.errors import BackendUnavailableError

    if isinstance(exc, BackendUnavailableError):
        return f"{label(ui, 'backend_down')} ({plain(exc.where)}: {plain(exc.reason)})"
    return f"{label(ui, 'broken')}: {plain(exc)}"


def query_error_message(exc: Exception, ui: str) -> str:
    """A QueryError for the page: the ones a person can cause from the page
    in its language, any other as the library wrote it (escaped)."""
    if isinstance(exc, QueryTooLongError):
        return label(ui, "too_long").format(n=exc.length, limit=exc.limit)
    return plain(exc)


def ui_language(requested: str | None, locale: str | None) -> str:
    """The page's language: ``?ui=`` if it is fi, sv or en; else the
    browser's (navigator.language, e.g. "fi-FI" or "sv-FI"); else English."""
    if requested in UI_LANGS:
        return requested
    prefix = (locale or "").split("-")[0].lower()
    return prefix if prefix in UI_LANGS else "en"


def _references(text: str) -> str:
    """Every ASCII character but letters, digits and white space as a
    numeric character reference (``[`` is ``&#91;``)."""
    return "".join(
        f"&#{ord(ch)};" if (not ch.isalnum() and not ch.isspace() and ord(ch) < 128) else ch
        for ch in text
    )


def escape(text: str) -> str:
    """Escape untrusted text for st.markdown with HTML on: every character
    that HTML or Markdown gives a meaning becomes a numeric entity, so no tag,
    link, image or emphasis can form from document text."""
    return _references(_unwrap(text)).replace("\n", "<br>")


def plain(text: object) -> str:
    """Untrusted text (a file name, title, language code, error message) for
    an element that renders Markdown without HTML: one line, every Markdown
    and KaTeX character (``[]()!*_`$\\#<>|~:``...) a numeric reference, so
    it shows as written and forms nothing."""
    return _references(" ".join(str(text).split()))


def failure_message(path: str, error: str, ui: str) -> str:
    """The warning for a file the build skipped; both parts are untrusted."""
    return f"{plain(path)} ({label(ui, 'skipped')}): {plain(error)}"


def group_heading(ui: str, lang: str, count: int) -> str:
    """The heading of one language's results; ``lang`` comes from sources.toml."""
    return plain(f"{language_name(ui, lang)} ({lang}) · {count}")


def _unwrap(text: str) -> str:
    """PDF line wraps become spaces; blank lines and list items stay breaks."""
    return re.sub(r"(?<!\n)\n(?!\n|\s*(?:[•–-]|\d{1,3}\)))", " ", text)


def mark_html(text: str, highlights: tuple[Highlight, ...], start: int = 0) -> str:
    """``text[start:]`` escaped, with the best sentence in <mark> and query
    terms in <b>."""
    sentence = [False] * len(text)
    term = [False] * len(text)
    for h in highlights:
        flags = sentence if h.kind is HighlightKind.SENTENCE else term
        for i in range(max(0, h.start), min(len(text), h.end)):
            flags[i] = True

    def runs(flags: list[bool], lo: int, hi: int):
        i = lo
        while i < hi:
            j = i
            while j < hi and flags[j] == flags[i]:
                j += 1
            yield i, j, flags[i]
            i = j

    out = []
    for a, b, in_sentence in runs(sentence, start, len(text)):
        inner = "".join(
            f"<b>{escape(text[i:j])}</b>" if bold else escape(text[i:j])
            for i, j, bold in runs(term, a, b)
        )
        out.append(f"<mark>{inner}</mark>" if in_sentence else inner)  # one <mark> a sentence
    return "".join(out)


def body_start(hit: Hit) -> int:
    """Where a card's text starts: after the heading, which the card shows
    on its own line."""
    return heading_end(hit.text, hit.section)


def anchor(hit: Hit) -> str:
    """The id of a hit's card, which the answer box links to."""
    return f"kb-hit-{hit.rank}"


def open_at_page(pdf: str, page: int, page_label: str, ui: str) -> str:
    """The link that opens the served PDF at ``page`` in a new tab, named
    by the page's printed label."""
    href = escape(page_link(pdf, page))
    return (
        f'<a href="{href}" target="_blank" rel="noopener noreferrer">'
        f"{label(ui, 'open')} {escape(page_label)}</a>"
    )


def card_html(
    hit: Hit,
    ui: str,
    pdf: str | None = None,
    rank: bool = True,
    score: bool = False,
    doc: DocumentMeta | None = None,
    anchored: bool = True,
    current: bool = False,
    outline: str | None = None,
) -> str:
    """One result: title, language tag, page (or a web page's address),
    then the section heading on its own line, then the text with its
    highlights; a link that opens the PDF at the page when ``pdf`` (the
    served file's address) is given. Every piece of document text is
    escaped. ``doc`` is the manifest's record of the document; a ranked
    card is the answer box's link target (its id) unless ``anchored`` is
    off (the same card again in a panel: ids are unique). ``current``: the
    hit itself among its neighbours, marked and labelled as the result.
    ``outline``: the address that opens the hit's section in the outline view."""
    c = cite(hit, doc or IndexedDocument.unknown(hit.doc_id))
    number = f"{hit.rank}. " if rank else ""
    head = f"<b>{number}{escape(hit.title)}</b> <code>{escape(hit.lang)}</code>"
    if current:  # in the context panel: which of the passages is the result
        head = f"<mark>{label(ui, 'this_hit')}</mark> {head}"
    where = where_text(c, ui)
    if where:
        head += f" · {escape(where)}"
    if score:
        head += f" · {label(ui, 'score')} {hit.score:.2f}"
    if pdf and c.pdf_page:
        head += f" · {open_at_page(pdf, hit.page_start, hit.label_start, ui)}"
    if outline:
        head += f' · <a href="{escape(outline)}" target="_self">{label(ui, "to_outline")}</a>'
    if hit.section:
        head += f'<br><span style="font-weight:600">{escape(" › ".join(hit.section))}</span>'
    start = body_start(hit)
    body = mark_html(hit.text, hit.highlights, start)
    if opens_mid_sentence(hit.text, start):
        body = "… " + body
    if closes_mid_sentence(hit.text):
        body += " …"
    ident = f' id="{anchor(hit)}"' if rank and anchored else ""
    # scroll-margin: the answer's link does not put the card under the page's header
    style = "margin-bottom:0.9em;scroll-margin-top:4.5rem"
    if current:
        style += ";border-left:4px solid #2e7d5b;padding-left:0.8em"
    if rank and anchored:  # a result: a rule above it parts it from the one before
        style += ";border-top:1px solid rgba(128,128,128,0.4);padding-top:1.2em;margin-top:0.8em"
    return f'<div{ident} style="{style}">{head}<br>{body}</div>'


# The answer box's place when it is filled after the cards (an index
# without stored sentence vectors): held this high, and the box at least as
# high, so that the cards below do not move when it comes (three sentences
# of a line or two).
ANSWER_PLACE_REM = 9
ANSWER_PLACE = f'<div aria-hidden="true" style="min-height:{ANSWER_PLACE_REM}rem"></div>'


def answer_html(
    sentences: list[AnswerSentence],
    ui: str,
    docs: dict[str, IndexedDocument],
    held: bool = False,
) -> str:
    """The answer box: each quoted sentence, then its citation as a link
    to its card. ``docs``: the manifest's record of each document by id.
    ``held``: it fills the place ANSWER_PLACE kept, at least as high."""
    items = []
    for s in sentences:
        c = cite(s.hit, docs.get(s.hit.doc_id) or IndexedDocument.unknown(s.hit.doc_id))
        items.append(
            f"<li>{escape(s.text)} "
            f'<a href="#{anchor(s.hit)}" title="{label(ui, "to_card")}">'
            f"({escape(short_citation(c, ui))})</a></li>"
        )
    return (
        f'<div role="region" aria-label="{label(ui, "answer")}" '
        'style="border-left:4px solid #2e7d5b;padding:0.5em 1em;margin:0.5em 0 1.2em 0;'
        f"background:rgba(46,125,91,0.07){f';min-height:{ANSWER_PLACE_REM}rem' if held else ''}"
        '">'
        f"<b>{label(ui, 'answer')}</b>"
        f'<ol style="margin:0.4em 0 0.4em 0">{"".join(items)}</ol>'
        f"<small>{label(ui, 'answer_note')}</small></div>"
    )
