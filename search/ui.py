"""What the Streamlit page shows, as functions tests can reach: labels in
fi/sv/en, page references, and safe HTML for untrusted document text.

Everything that comes from files, their names, document titles, errors or
sources.toml is untrusted, wherever it is shown. Two helpers carry it:

- ``escape`` for HTML that st.markdown renders with ``unsafe_allow_html``
  (the result cards);
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

from .pdfs import page_link
from .searcher import Highlight, Hit

UI_LANGS = ("en", "fi", "sv")

LABELS = {
    "en": {
        "title": "Public procurement strategy: search",
        "query": "Ask a question",
        "mode": "Mode",
        "languages": "Languages",
        "documents": "Documents",
        "kinds": "Kinds",
        "k": "Results",
        "group": "Group by language",
        "page": "p.",
        "open": "Open at page",
        "other": "Same passage in other languages",
        "similar": "Similar passages",
        "context": "Whole passage with its neighbours",
        "no_index": "There is no index yet. Build one here, or run `make run` or `python -m ingest`.",
        "broken": "The index cannot be used",
        "no_results": "No results.",
        "examples": "Examples",
        "view": "View",
        "view_search": "Search",
        "view_docs": "Documents",
        "ui": "Language of the page",
        "export_csv": "Download CSV",
        "export_md": "Download Markdown",
        "rebuild": "Rebuild index",
        "build": "Build index",
        "building": "Building the index; the current one keeps serving until the new one is ready",
        "reading": "Reading the documents",
        "embedding": "Embedding passages",
        "built": "Index ready",
        "skipped": "skipped",
        "locked": "Another build is running; try again when it has finished.",
        "facts": "Index",
        "chunks_chart": "Passages per document and language",
        "model": "Model",
        "created": "Built",
        "counts": "Counts",
        "score": "similarity",
        "choose": "All",
    },
    "fi": {
        "title": "Julkisten hankintojen strategia: haku",
        "query": "Kysy kysymys",
        "mode": "Tila",
        "languages": "Kielet",
        "documents": "Asiakirjat",
        "kinds": "Tyypit",
        "k": "Tuloksia",
        "group": "Ryhmittele kielen mukaan",
        "page": "s.",
        "open": "Avaa sivulta",
        "other": "Sama kohta muilla kielillä",
        "similar": "Samankaltaiset kohdat",
        "context": "Koko kohta ja sen naapurit",
        "no_index": "Hakemistoa ei vielä ole. Rakenna se tästä tai komennolla `make run` "
        "tai `python -m ingest`.",
        "broken": "Hakemistoa ei voi käyttää",
        "no_results": "Ei tuloksia.",
        "examples": "Esimerkkejä",
        "view": "Näkymä",
        "view_search": "Haku",
        "view_docs": "Asiakirjat",
        "ui": "Sivun kieli",
        "export_csv": "Lataa CSV",
        "export_md": "Lataa Markdown",
        "rebuild": "Rakenna hakemisto uudelleen",
        "build": "Rakenna hakemisto",
        "building": "Hakemistoa rakennetaan; nykyinen palvelee, kunnes uusi on valmis",
        "reading": "Luetaan asiakirjoja",
        "embedding": "Upotetaan kohtia",
        "built": "Hakemisto valmis",
        "skipped": "ohitettu",
        "locked": "Toinen rakennus on käynnissä; yritä uudelleen, kun se on valmis.",
        "facts": "Hakemisto",
        "chunks_chart": "Kohtia asiakirjoittain ja kielittäin",
        "model": "Malli",
        "created": "Rakennettu",
        "counts": "Määrät",
        "score": "samankaltaisuus",
        "choose": "Kaikki",
    },
    "sv": {
        "title": "Strategin för offentlig upphandling: sök",
        "query": "Ställ en fråga",
        "mode": "Läge",
        "languages": "Språk",
        "documents": "Dokument",
        "kinds": "Typer",
        "k": "Resultat",
        "group": "Gruppera efter språk",
        "page": "s.",
        "open": "Öppna på sidan",
        "other": "Samma avsnitt på andra språk",
        "similar": "Liknande avsnitt",
        "context": "Hela avsnittet med grannarna",
        "no_index": "Det finns inget index ännu. Bygg det här, eller med `make run` eller "
        "`python -m ingest`.",
        "broken": "Indexet kan inte användas",
        "no_results": "Inga resultat.",
        "examples": "Exempel",
        "view": "Vy",
        "view_search": "Sök",
        "view_docs": "Dokument",
        "ui": "Sidans språk",
        "export_csv": "Ladda ner CSV",
        "export_md": "Ladda ner Markdown",
        "rebuild": "Bygg om indexet",
        "build": "Bygg indexet",
        "building": "Indexet byggs; det nuvarande används tills det nya är klart",
        "reading": "Dokumenten läses",
        "embedding": "Avsnitten bäddas in",
        "built": "Indexet är klart",
        "skipped": "hoppades över",
        "locked": "En annan byggning pågår; försök igen när den är klar.",
        "facts": "Index",
        "chunks_chart": "Avsnitt per dokument och språk",
        "model": "Modell",
        "created": "Byggt",
        "counts": "Antal",
        "score": "likhet",
        "choose": "Alla",
    },
}

# Adding and removing documents in the documents view (ingest/library.py).
LABELS["en"].update(
    {
        "add_docs": "Add documents",
        "upload": "Upload PDF, Markdown, HTML or text files",
        "address": "Or paste an address: a PDF or a web page",
        "fetch": "Fetch",
        "fetching": "Fetching the address",
        "checking": "Checking the files",
        "form_title": "Title",
        "form_lang": "Language",
        "form_kind": "Kind",
        "version_of": "A version of",
        "none": "(none)",
        "add": "Add and rebuild the index",
        "added": "Added",
        "refused": "Not added",
        "remove_docs": "Remove a document",
        "remove_doc": "Document",
        "remove": "Remove…",
        "confirm_remove": "Remove this document, its file and its entry in sources.toml?",
        "yes_remove": "Yes, remove it",
        "cancel": "Cancel",
        "removed": "Removed",
    }
)
LABELS["fi"].update(
    {
        "add_docs": "Lisää asiakirjoja",
        "upload": "Lataa PDF-, Markdown-, HTML- tai tekstitiedostoja",
        "address": "Tai liitä osoite: PDF tai verkkosivu",
        "fetch": "Hae",
        "fetching": "Haetaan osoitetta",
        "checking": "Tarkistetaan tiedostoja",
        "form_title": "Nimi",
        "form_lang": "Kieli",
        "form_kind": "Tyyppi",
        "version_of": "Kieliversio asiakirjasta",
        "none": "(ei mikään)",
        "add": "Lisää ja rakenna hakemisto",
        "added": "Lisätty",
        "refused": "Ei lisätty",
        "remove_docs": "Poista asiakirja",
        "remove_doc": "Asiakirja",
        "remove": "Poista…",
        "confirm_remove": "Poistetaanko asiakirja, sen tiedosto ja sen merkintä sources.toml-tiedostosta?",
        "yes_remove": "Kyllä, poista",
        "cancel": "Peruuta",
        "removed": "Poistettu",
    }
)
LABELS["sv"].update(
    {
        "add_docs": "Lägg till dokument",
        "upload": "Ladda upp PDF-, Markdown-, HTML- eller textfiler",
        "address": "Eller klistra in en adress: en PDF eller en webbsida",
        "fetch": "Hämta",
        "fetching": "Adressen hämtas",
        "checking": "Filerna kontrolleras",
        "form_title": "Titel",
        "form_lang": "Språk",
        "form_kind": "Typ",
        "version_of": "En språkversion av",
        "none": "(ingen)",
        "add": "Lägg till och bygg om indexet",
        "added": "Tillagt",
        "refused": "Inte tillagt",
        "remove_docs": "Ta bort ett dokument",
        "remove_doc": "Dokument",
        "remove": "Ta bort…",
        "confirm_remove": "Ta bort dokumentet, dess fil och dess post i sources.toml?",
        "yes_remove": "Ja, ta bort det",
        "cancel": "Avbryt",
        "removed": "Borttaget",
    }
)

COLUMNS = {
    "en": ("Title", "Kind", "Language", "Pages", "Passages", "Status", "Indexed", "File"),
    "fi": ("Nimi", "Tyyppi", "Kieli", "Sivuja", "Kohtia", "Tila", "Indeksoitu", "Tiedosto"),
    "sv": ("Titel", "Typ", "Språk", "Sidor", "Avsnitt", "Status", "Indexerat", "Fil"),
}

LANGUAGE_NAMES = {
    "en": {"fi": "Finnish", "sv": "Swedish", "en": "English"},
    "fi": {"fi": "suomi", "sv": "ruotsi", "en": "englanti"},
    "sv": {"fi": "finska", "sv": "svenska", "en": "engelska"},
}

EXAMPLES = [
    "Miten julkisilla hankinnoilla edistetään innovaatioita?",
    "Hur ökar vi andelen innovativa upphandlingar?",
    "How can I join a theme group?",
]


def label(ui: str, key: str) -> str:
    return LABELS.get(ui, LABELS["en"])[key]


def language_name(ui: str, lang: str) -> str:
    return LANGUAGE_NAMES.get(ui, LANGUAGE_NAMES["en"]).get(lang, lang)


def column_names(ui: str) -> dict[str, str]:
    """The documents table's column names in the page's language."""
    keys = ("title", "kind", "lang", "pages", "chunks", "status", "indexed", "file")
    return dict(zip(keys, COLUMNS.get(ui, COLUMNS["en"]), strict=True))


def facts_markdown(facts: dict, ui: str) -> str:
    """Model, build time and counts of the live index, one line each, for
    st.markdown. The values come from our own manifest; they are escaped all
    the same."""
    counts = facts.get("counts", {})
    model = facts.get("model", {})
    created = str(facts.get("created", ""))[:19].replace("T", " ")
    lines = [
        f"- {label(ui, 'model')}: {plain(model.get('name', ''))} "
        f"({plain(model.get('fingerprint', ''))})",
        f"- {label(ui, 'created')}: {plain(created)} UTC ({plain(facts.get('generation') or '')})",
        f"- {label(ui, 'counts')}: "
        + ", ".join(f"{plain(v)} {plain(k)}" for k, v in counts.items()),
    ]
    return "\n".join(lines)


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


def mark_html(text: str, highlights: tuple[Highlight, ...]) -> str:
    """``text`` escaped, with the best sentence in <mark> and query terms in <b>."""
    sentence = [False] * len(text)
    term = [False] * len(text)
    for h in highlights:
        flags = sentence if h.kind == "sentence" else term
        for i in range(max(0, h.start), min(len(text), h.end)):
            flags[i] = True
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and (sentence[j], term[j]) == (sentence[i], term[i]):
            j += 1
        piece = escape(text[i:j])
        if term[i]:
            piece = f"<b>{piece}</b>"
        if sentence[i]:
            piece = f"<mark>{piece}</mark>"
        out.append(piece)
        i = j
    return "".join(out)


def page_ref(hit: Hit, ui: str) -> str:
    """ "s. 12" or "p. 12"; the printed label comes from the PDF, so it is escaped."""
    return f"{label(ui, 'page')} {escape(hit.pages)}"


def card_html(
    hit: Hit, ui: str, pdf: str | None = None, rank: bool = True, score: bool = False
) -> str:
    """One result: title, language tag, page, section path, the text with
    its highlights; a link that opens the PDF at the page when ``pdf`` (the
    served file's address) is given. Every piece of document text is escaped."""
    section = " › ".join(hit.section)
    number = f"{hit.rank}. " if rank else ""
    head = (
        f"<b>{number}{escape(hit.title)}</b> <code>{escape(hit.lang)}</code> · "
        f"{page_ref(hit, ui)}" + (f" · {escape(section)}" if section else "")
    )
    if score:
        head += f" · {label(ui, 'score')} {hit.score:.2f}"
    if pdf:
        href = escape(page_link(pdf, hit.page))
        head += (
            f' · <a href="{href}" target="_blank" rel="noopener noreferrer">'
            f"{label(ui, 'open')} {escape(hit.page_label)}</a>"
        )
    body = mark_html(hit.text, hit.highlights)
    return f'<div style="margin-bottom:0.9em">{head}<br>{body}</div>'
