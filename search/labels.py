"""Every text the page shows, in Finnish, Swedish and English. A key missing
from one language is a test failure (tests/test_app.py), never English on a
Finnish page."""

from __future__ import annotations

UI_LANGS = ("en", "fi", "sv")

LABELS = {
    "en": {
        "title": "Public procurement strategy: search",
        "query": "Ask a question and press Enter",
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
        "backend_down": "The search database cannot be reached; the index in it is unchanged. "
        "Try again in a moment.",
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
        "query": "Kysy kysymys ja paina Enter",
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
        "backend_down": "Hakutietokantaan ei saada yhteyttä; sen hakemisto on ennallaan. "
        "Yritä hetken kuluttua uudelleen.",
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
        "query": "Ställ en fråga och tryck på Enter",
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
        "backend_down": "Sökdatabasen kan inte nås; indexet i den är oförändrat. "
        "Försök igen om en stund.",
        "facts": "Index",
        "chunks_chart": "Avsnitt per dokument och språk",
        "model": "Modell",
        "created": "Byggt",
        "counts": "Antal",
        "score": "likhet",
        "choose": "Alla",
    },
}

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

# Each answered by the offline corpus (the Act fi + sv, the Swedish theme page):
# tests/test_examples.py checks the first card of each.
EXAMPLES = [
    "Mikä on innovaatiokumppanuus?",
    "Hur ökar vi andelen innovativa upphandlingar?",
    "How can I join a theme group?",
]


# Added with the answer box, citations and the translated documents view.
LABELS["en"].update(
    {
        "answer": "Answer from the documents",
        "answer_note": "Sentences quoted word for word from the best sections; "
        "check them in the source.",
        "no_relevant": "The documents have no passage that answers this question.",
        "nearest": "The nearest passages, which may not answer it:",
        "copy": "Copy citation",
        "panels": "Context, other languages, similar passages",
        "citation_field": "Citation, to select and copy (Ctrl+A, Ctrl+C)",
        "not_in_index": "Documents not in the index: {n} (missing, unreadable or added "
        "since the last build). No answer can come from them; the Documents view says "
        "which, and how to add them.",
        "copy_help": "The button at the block's right copies it.",
        "retrieved": "retrieved",
        "too_long": "The question is {n} characters long; the limit is {limit}.",
        "built_counts": "{chunks} passages, {pages} pages, {seconds:.1f} s",
        "counts_line": "{documents} documents, {pages} pages, {chunks} passages, {failed} failed",
        "mode_dense": "Meaning",
        "mode_bm25": "Exact words",
        "mode_hybrid": "Meaning and words",
        "kind_strategy": "strategy",
        "kind_annex": "annex",
        "kind_report": "report",
        "kind_law": "law",
        "kind_web page": "web page",
        "kind_other": "other",
        "status_indexed": "indexed",
        "status_failed": "failed",
        "status_missing": "missing",
        "to_card": "to the result",
        "missing_note": "listed in sources.toml, not in the corpus folder; see README",
    }
)
LABELS["fi"].update(
    {
        "answer": "Vastaus asiakirjoista",
        "answer_note": "Lauseet on lainattu sanasta sanaan parhaista kohdista; "
        "tarkista ne lähteestä.",
        "no_relevant": "Asiakirjoissa ei ole kohtaa, joka vastaisi tähän kysymykseen.",
        "nearest": "Lähimmät kohdat, jotka eivät välttämättä vastaa siihen:",
        "copy": "Kopioi lähdeviite",
        "panels": "Asiayhteys, muut kielet, samankaltaiset kohdat",
        "citation_field": "Lähdeviite valittavaksi ja kopioitavaksi (Ctrl+A, Ctrl+C)",
        "not_in_index": "Hakemistosta puuttuvia asiakirjoja: {n} (tiedosto puuttuu, sitä ei "
        "voitu lukea tai se on lisätty viime koonnin jälkeen). Vastaukset eivät voi tulla "
        "niistä; näkymä Asiakirjat kertoo, mitkä ne ovat ja miten ne lisätään.",
        "copy_help": "Lohkon oikean reunan painike kopioi sen.",
        "retrieved": "viitattu",
        "too_long": "Kysymyksessä on {n} merkkiä; enimmäismäärä on {limit}.",
        "built_counts": "{chunks} kohtaa, {pages} sivua, {seconds:.1f} s",
        "counts_line": "{documents} asiakirjaa, {pages} sivua, {chunks} kohtaa, "
        "{failed} epäonnistui",
        "mode_dense": "Merkitys",
        "mode_bm25": "Tarkat sanat",
        "mode_hybrid": "Merkitys ja sanat",
        "kind_strategy": "strategia",
        "kind_annex": "liite",
        "kind_report": "raportti",
        "kind_law": "laki",
        "kind_web page": "verkkosivu",
        "kind_other": "muu",
        "status_indexed": "indeksoitu",
        "status_failed": "epäonnistui",
        "status_missing": "puuttuu",
        "to_card": "tulokseen",
        "missing_note": "sources.toml mainitsee, mutta aineistokansiossa ei ole; ks. README",
    }
)
LABELS["sv"].update(
    {
        "answer": "Svar ur dokumenten",
        "answer_note": "Meningarna är citerade ordagrant ur de bästa avsnitten; "
        "kontrollera dem i källan.",
        "no_relevant": "Dokumenten har inget avsnitt som besvarar frågan.",
        "nearest": "De närmaste avsnitten, som kanske inte besvarar den:",
        "copy": "Kopiera källhänvisning",
        "panels": "Sammanhang, andra språk, liknande avsnitt",
        "citation_field": "Källhänvisning att markera och kopiera (Ctrl+A, Ctrl+C)",
        "not_in_index": "Dokument som saknas i indexet: {n} (filen saknas, kunde inte "
        "läsas eller har lagts till efter senaste bygget). Inga svar kan komma från dem; "
        "vyn Dokument visar vilka de är och hur de läggs till.",
        "copy_help": "Knappen i blockets högra kant kopierar den.",
        "retrieved": "hämtad",
        "too_long": "Frågan har {n} tecken; högst {limit} tecken är tillåtna.",
        "built_counts": "{chunks} avsnitt, {pages} sidor, {seconds:.1f} s",
        "counts_line": "{documents} dokument, {pages} sidor, {chunks} avsnitt, "
        "{failed} misslyckades",
        "mode_dense": "Betydelse",
        "mode_bm25": "Exakta ord",
        "mode_hybrid": "Betydelse och ord",
        "kind_strategy": "strategi",
        "kind_annex": "bilaga",
        "kind_report": "rapport",
        "kind_law": "lag",
        "kind_web page": "webbsida",
        "kind_other": "annat",
        "status_indexed": "indexerad",
        "status_failed": "misslyckades",
        "status_missing": "saknas",
        "to_card": "till resultatet",
        "missing_note": "finns i sources.toml men inte i korpusmappen; se README",
    }
)


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


# Added with the phone-width layout (the sidebar's search settings) and the
# "other languages" panel of a document with one version.
for _ui, _texts in {
    "en": {
        "filters": "Search settings",
        "no_other": "This document has no other language version in the index.",
        "stale": "The index was updated after this search: search again to open this result.",
    },
    "fi": {
        "filters": "Haun asetukset",
        "no_other": "Tästä asiakirjasta ei ole hakemistossa muuta kieliversiota.",
        "stale": "Hakemisto päivittyi tämän haun jälkeen: hae uudelleen avataksesi tämän tuloksen.",
    },
    "sv": {
        "filters": "Sökinställningar",
        "no_other": "Dokumentet har ingen annan språkversion i indexet.",
        "stale": "Indexet uppdaterades efter sökningen: sök igen för att öppna träffen.",
    },
}.items():
    LABELS[_ui].update(_texts)


def label(ui: str, key: str) -> str:
    return LABELS.get(ui, LABELS["en"])[key]


def coded(ui: str, prefix: str, value: str) -> str:
    """A code from the index (a mode, kind or status) in the page's
    language; a value with no translation (a kind from an older index) as
    it is."""
    return LABELS.get(ui, LABELS["en"]).get(f"{prefix}_{value}", value)
