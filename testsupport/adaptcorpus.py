"""A small law in Finnish and Swedish for the adaptation tests: two
chapters of three numbered sections, each section three sentences, and a
note without headings. No sources.toml: the build finds the two versions
itself (ingest/versions.py), as for documents dropped in."""

from __future__ import annotations

from pathlib import Path

FI = {
    "1 luku Yleiset säännökset": {
        "1 § Soveltamisala": [
            "Tätä lakia sovelletaan valtion ja kuntien viranomaisten tekemiin julkisiin hankintoihin.",
            "Lakia ei sovelleta hankintoihin, joiden arvo jää alle kansallisen kynnysarvon.",
            "Puolustus- ja turvallisuushankinnoista säädetään erikseen omassa laissaan.",
        ],
        "2 § Lain tavoitteet": [
            "Lain tavoitteena on tehostaa julkisten varojen käyttöä ja edistää laadukkaita hankintoja.",
            "Hankintayksiköiden on pyrittävä järjestämään hankintansa mahdollisimman taloudellisesti.",
            "Pienten ja keskisuurten yritysten mahdollisuuksia osallistua tarjouskilpailuihin parannetaan.",
        ],
        "3 § Avoimuus ja syrjimättömyys": [
            "Hankintayksikön on kohdeltava hankintamenettelyn osallistujia tasapuolisesti ja syrjimättä.",
            "Hankinnoista on ilmoitettava julkisesti ennen tarjousten pyytämistä ilmoituskanavassa.",
            "Tarjoajille on annettava samat tiedot samaan aikaan koko menettelyn ajan.",
        ],
    },
    "2 luku Kynnysarvot ja menettelyt": {
        "4 § Kansalliset kynnysarvot": [
            "Tavara- ja palveluhankintojen kansallinen kynnysarvo on kuusikymmentätuhatta euroa.",
            "Rakennusurakoiden kansallinen kynnysarvo on puolitoista miljoonaa euroa ilman veroa.",
            "Sosiaali- ja terveyspalveluissa kynnysarvo on neljäsataatuhatta euroa sopimuskaudelta.",
        ],
        "5 § Avoin menettely": [
            "Avoimessa menettelyssä kaikki kiinnostuneet toimittajat voivat jättää tarjouksen määräajassa.",
            "Hankintayksikkö julkaisee hankintailmoituksen ja tarjouspyynnön samanaikaisesti verkossa.",
            "Tarjousten vähimmäisaika on kolmekymmentäviisi päivää ilmoituksen lähettämisestä.",
        ],
        "6 § Suorahankinta": [
            "Suorahankinta on sallittu vain poikkeuksellisissa tilanteissa, jotka laissa luetellaan tarkasti.",
            "Jos avoimessa menettelyssä ei saada yhtään soveltuvaa tarjousta, voidaan neuvotella suoraan.",
            "Suorahankinnan perusteet on kirjattava hankintapäätökseen ja niistä on ilmoitettava.",
        ],
    },
}

SV = {
    "1 kap. Allmänna bestämmelser": {
        "1 § Tillämpningsområde": [
            "Denna lag tillämpas på offentlig upphandling som görs av statliga och kommunala myndigheter.",
            "Lagen tillämpas inte på upphandlingar vars värde understiger det nationella tröskelvärdet.",
            "Om försvars- och säkerhetsupphandling föreskrivs särskilt i en egen lag.",
        ],
        "2 § Lagens mål": [
            "Syftet med lagen är att effektivisera användningen av offentliga medel och främja kvalitet.",
            "Upphandlande enheter ska sträva efter att ordna sina upphandlingar så ekonomiskt som möjligt.",
            "Små och medelstora företags möjligheter att delta i anbudstävlingar förbättras.",
        ],
        "3 § Öppenhet och icke-diskriminering": [
            "Den upphandlande enheten ska behandla deltagarna i upphandlingen jämlikt och icke-diskriminerande.",
            "Upphandlingar ska annonseras offentligt innan anbud begärs i annonseringskanalen.",
            "Anbudsgivarna ska få samma information vid samma tidpunkt under hela förfarandet.",
        ],
    },
    "2 kap. Tröskelvärden och förfaranden": {
        "4 § Nationella tröskelvärden": [
            "Det nationella tröskelvärdet för varu- och tjänsteupphandlingar är sextiotusen euro.",
            "Det nationella tröskelvärdet för byggentreprenader är en och en halv miljon euro utan skatt.",
            "Inom social- och hälsovårdstjänster är tröskelvärdet fyrahundratusen euro per avtalsperiod.",
        ],
        "5 § Öppet förfarande": [
            "Vid ett öppet förfarande får alla intresserade leverantörer lämna anbud inom utsatt tid.",
            "Den upphandlande enheten publicerar upphandlingsannonsen och anbudsbegäran samtidigt på nätet.",
            "Den kortaste tidsfristen för anbud är trettiofem dagar från det att annonsen skickades.",
        ],
        "6 § Direktupphandling": [
            "Direktupphandling är tillåten endast i exceptionella situationer som räknas upp noggrant i lagen.",
            "Om inga lämpliga anbud kommer in vid ett öppet förfarande kan man förhandla direkt.",
            "Grunderna för direktupphandling ska antecknas i upphandlingsbeslutet och meddelas.",
        ],
    },
}

NOTE = (
    "Notes on procurement\n\nThe carbon footprint of public procurement is measured every "
    "year by the ministry and reported to parliament in its annual review of spending.\n"
)

SECTIONS_PER_VERSION = 6


def markdown(title: str, chapters: dict[str, dict[str, list[str]]]) -> str:
    lines = [f"# {title}", ""]
    for chapter, sections in chapters.items():
        lines += [f"## {chapter}", ""]
        for heading, sentences in sections.items():
            lines += [f"### {heading}", "", " ".join(sentences), ""]
    return "\n".join(lines)


def write_law(corpus: Path) -> Path:
    """The two versions and the note, dropped into ``corpus``."""
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "laki.md").write_text(markdown("Hankintalaki", FI), encoding="utf-8")
    (corpus / "lag.md").write_text(markdown("Upphandlingslag", SV), encoding="utf-8")
    (corpus / "notes.txt").write_text(NOTE, encoding="utf-8")
    return corpus


def sentences(chapters: dict[str, dict[str, list[str]]]) -> list[str]:
    return [s for sections in chapters.values() for ss in sections.values() for s in ss]


def law_chunks(root: Path) -> list:
    """The law written under ``root``, indexed with the fake embedder: its passages."""
    from ingest.pipeline import build_index
    from kb.index.folder import load_generation
    from kb.settings import Settings
    from testsupport.fakes import FakeEmbedder

    settings = Settings(corpus_dir=write_law(root / "corpus"), index_dir=root / "index", workers=1)
    assert not build_index(settings, embedder=FakeEmbedder()).failed
    return load_generation(settings.index_dir).chunks
