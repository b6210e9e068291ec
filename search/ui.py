"""What the Streamlit page shows, as functions tests can reach: labels in
fi/sv/en, page references, and safe HTML for untrusted document text."""

from __future__ import annotations

from .searcher import Highlight, Hit

UI_LANGS = ("en", "fi", "sv")

LABELS = {
    "en": {
        "title": "Public procurement strategy: search",
        "query": "Ask a question",
        "mode": "Mode",
        "languages": "Languages",
        "k": "Results",
        "page": "p.",
        "other": "Same passage in other languages",
        "no_index": "There is no index yet. Build one with `make run` or `python -m ingest`.",
        "broken": "The index cannot be used",
        "no_results": "No results.",
        "examples": "Examples",
    },
    "fi": {
        "title": "Julkisten hankintojen strategia: haku",
        "query": "Kysy kysymys",
        "mode": "Tila",
        "languages": "Kielet",
        "k": "Tuloksia",
        "page": "s.",
        "other": "Sama kohta muilla kielillä",
        "no_index": "Hakemistoa ei vielä ole. Rakenna se komennolla `make run` tai `python -m ingest`.",
        "broken": "Hakemistoa ei voi käyttää",
        "no_results": "Ei tuloksia.",
        "examples": "Esimerkkejä",
    },
    "sv": {
        "title": "Strategin för offentlig upphandling: sök",
        "query": "Ställ en fråga",
        "mode": "Läge",
        "languages": "Språk",
        "k": "Resultat",
        "page": "s.",
        "other": "Samma avsnitt på andra språk",
        "no_index": "Det finns inget index ännu. Bygg det med `make run` eller `python -m ingest`.",
        "broken": "Indexet kan inte användas",
        "no_results": "Inga resultat.",
        "examples": "Exempel",
    },
}

EXAMPLES = [
    "Miten julkisilla hankinnoilla edistetään innovaatioita?",
    "Hur ökar vi andelen innovativa upphandlingar?",
    "How can I join a theme group?",
]


def label(ui: str, key: str) -> str:
    return LABELS.get(ui, LABELS["en"])[key]


def escape(text: str) -> str:
    """Escape untrusted text for st.markdown with HTML on: every character
    that HTML or Markdown gives a meaning becomes a numeric entity, so no tag,
    link, image or emphasis can form from document text."""
    return "".join(
        f"&#{ord(ch)};" if (not ch.isalnum() and not ch.isspace() and ord(ch) < 128) else ch
        for ch in text
    ).replace("\n", "<br>")


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


def card_html(hit: Hit, ui: str) -> str:
    section = " › ".join(hit.section)
    head = (
        f"<b>{hit.rank}. {escape(hit.title)}</b> <code>{escape(hit.lang)}</code> · "
        f"{page_ref(hit, ui)}" + (f" · {escape(section)}" if section else "")
    )
    return f"<div>{head}<br>{mark_html(hit.text, hit.highlights)}</div>"
