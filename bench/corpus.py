"""A synthetic multilingual procurement corpus for the search benchmarks.

Documents are built from per-language word lists with a Zipf-like word distribution (a few
words very common, most rare, as in real text), titles of 5-10 words, summaries of 25-40,
bodies of 180-320 and, for a quarter of the documents, 300-600 words of attachment text.
Glossary phrases ("child labour", "kinderarbeid", ...) are planted in a few per cent of the
documents so that phrase and cross-language queries have something to find. Everything is
derived from a seed: the same arguments give the same corpus.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from buyergroup.search.types import SearchDocument

LANGUAGES = ("en", "nl", "fr", "de")
LANGUAGE_WEIGHTS = (0.4, 0.3, 0.2, 0.1)

WORDS = {
    "en": """procurement supplier suppliers contract contracts laptop laptops server servers
    smartphone smartphones printer printers monitor monitors tender tenders criterion criteria
    clause clauses award selection exclusion specification performance verification audit
    audits report reports label labels certificate certificates factory factories worker
    workers wages wage hours overtime safety health union unions freedom association
    remediation grievance mechanism transparency traceability cobalt tin tantalum tungsten
    gold mica smelter smelters refinery refineries mine mines recycling refurbished reuse
    repair repairability warranty spare parts battery batteries energy consumption emissions
    carbon footprint lifecycle packaging plastic hazardous substances chemicals disposal waste
    electronic equipment public buyer buyers authority authorities municipality region
    ministry university hospital school framework agreement lot lots budget price cost total
    ownership evidence declaration questionnaire monitoring engagement dialogue improvement
    plan corrective action risk risks assessment human rights environment social sustainable
    sustainability responsible ethical fair trade market engagement pilot lessons learned
    results challenges approach next steps bidder bidders offer offers evaluation score
    points weighting compliance requirement requirements minimum mandatory optional""",
    "nl": """aanbesteding aanbestedingen leverancier leveranciers contract contracten laptop
    laptops server servers smartphone smartphones printer printers beeldscherm beeldschermen
    gunning gunningscriterium selectie uitsluiting specificatie uitvoering verificatie audit
    audits rapport rapporten keurmerk keurmerken certificaat certificaten fabriek fabrieken
    werknemer werknemers loon lonen werkuren overuren veiligheid gezondheid vakbond
    vakbonden vrijheid vereniging herstel klachtenmechanisme transparantie traceerbaarheid
    kobalt tin tantaal wolfraam goud mica smelterij smelterijen raffinaderij mijn mijnen
    recycling hergebruik reparatie repareerbaarheid garantie onderdelen batterij batterijen
    energieverbruik uitstoot koolstofvoetafdruk levenscyclus verpakking plastic gevaarlijke
    stoffen chemicaliën afval elektronische apparatuur publieke inkoper inkopers overheid
    gemeente gemeenten provincie ministerie universiteit ziekenhuis school raamovereenkomst
    perceel percelen budget prijs kosten eigendom bewijs verklaring vragenlijst monitoring
    dialoog verbetering plan corrigerende maatregel risico risico's beoordeling
    mensenrechten milieu sociaal duurzaam duurzaamheid verantwoord ethisch eerlijke handel
    marktconsultatie pilot lessen resultaten uitdagingen aanpak volgende stappen inschrijver
    inschrijvers offerte offertes beoordeling score punten weging naleving eis eisen
    minimum verplicht optioneel arbeidsomstandigheden ketenverantwoordelijkheid""",
    "fr": """marché marchés fournisseur fournisseurs contrat contrats ordinateur ordinateurs
    portable portables serveur serveurs smartphone smartphones imprimante imprimantes écran
    écrans attribution sélection exclusion spécification exécution vérification audit audits
    rapport rapports label labels certificat certificats usine usines travailleur
    travailleurs salaire salaires heures supplémentaires sécurité santé syndicat syndicats
    liberté association réparation mécanisme plainte transparence traçabilité cobalt étain
    tantale tungstène or mica fonderie fonderies raffinerie mine mines recyclage
    reconditionné réemploi réparabilité garantie pièces détachées batterie batteries
    consommation énergie émissions empreinte carbone cycle vie emballage plastique
    substances dangereuses déchets équipements électroniques acheteur acheteurs public
    pouvoir adjudicateur commune région ministère université hôpital école accord-cadre lot
    lots budget prix coût propriété preuve déclaration questionnaire suivi dialogue
    amélioration plan mesure corrective risque risques évaluation droits humains
    environnement social durable durabilité responsable éthique commerce équitable
    consultation marché projet pilote leçons résultats défis approche prochaines étapes
    soumissionnaire soumissionnaires offre offres note points pondération conformité
    exigence exigences minimale obligatoire facultative""",
    "de": """Beschaffung Vergabe Lieferant Lieferanten Vertrag Verträge Laptop Laptops Server
    Smartphone Smartphones Drucker Bildschirm Bildschirme Zuschlag Zuschlagskriterium Auswahl
    Ausschluss Leistungsbeschreibung Ausführung Überprüfung Prüfung Prüfungen Bericht
    Berichte Gütezeichen Zertifikat Zertifikate Fabrik Fabriken Arbeiter Arbeiterinnen Lohn
    Löhne Arbeitszeit Überstunden Sicherheit Gesundheit Gewerkschaft Gewerkschaften
    Vereinigungsfreiheit Abhilfe Beschwerdemechanismus Transparenz Rückverfolgbarkeit Kobalt
    Zinn Tantal Wolfram Gold Glimmer Schmelze Schmelzen Raffinerie Mine Minen Recycling
    Wiederverwendung Reparatur Reparierbarkeit Garantie Ersatzteile Batterie Batterien
    Energieverbrauch Emissionen CO2-Fußabdruck Lebenszyklus Verpackung Kunststoff
    gefährliche Stoffe Chemikalien Abfall Elektronik Geräte öffentliche Auftraggeber
    Behörde Behörden Gemeinde Kommune Region Ministerium Universität Krankenhaus Schule
    Rahmenvertrag Los Lose Budget Preis Kosten Lebenszykluskosten Nachweis Erklärung
    Fragebogen Überwachung Dialog Verbesserung Plan Korrekturmaßnahme Risiko Risiken
    Bewertung Menschenrechte Umwelt sozial nachhaltig Nachhaltigkeit verantwortungsvoll
    ethisch fairer Handel Markterkundung Pilotprojekt Erfahrungen Ergebnisse
    Herausforderungen Ansatz nächste Schritte Bieter Angebot Angebote Wertung Punkte
    Gewichtung Einhaltung Anforderung Anforderungen Mindestanforderung verpflichtend
    optional Arbeitsbedingungen Lieferkette Sorgfaltspflichten""",
}
FILLER = {
    "en": "the of and to in for with on by is are be that this as from at or an".split(),
    "nl": "de het een en van in voor met op door is zijn dat deze als uit bij of aan".split(),
    "fr": "le la les des et de du en pour avec sur par est sont que ce comme dans au ou".split(),
    "de": "der die das und von in für mit auf durch ist sind dass diese als aus bei oder".split(),
}
# Concepts of the glossary, planted in the text: (en, nl, fr, de).
GLOSSARY = [
    ("child labour", "kinderarbeid", "travail des enfants", "Kinderarbeit"),
    ("conflict minerals", "conflictmineralen", "minerais de conflit", "Konfliktmineralien"),
    ("due diligence", "gepaste zorgvuldigheid", "diligence raisonnée", "Sorgfaltspflicht"),
    ("forced labour", "dwangarbeid", "travail forcé", "Zwangsarbeit"),
    ("living wage", "leefbaar loon", "salaire vital", "existenzsichernder Lohn"),
    ("energy efficiency", "energie-efficiëntie", "efficacité énergétique", "Energieeffizienz"),
]
PLANT_RATE = 0.04  # share of documents that mention a given glossary concept

KINDS = ("criterion", "clause", "case_study", "report", "label", "policy")
PHASES = ("selection", "exclusion", "technical_specification", "award_criterion",
          "contract_performance_clause")
PRODUCT_GROUPS = ("laptops", "desktops", "servers", "smartphones", "printers", "monitors",
                  "networking", "data_centres", "software", "cloud")
THEMES = ("human_rights", "labour_conditions", "conflict_minerals", "circularity",
          "energy", "hazardous_substances", "packaging", "transparency")
COUNTRIES = ("be", "nl", "fr", "de", "at", "lu", "es", "it", "dk", "se", "fi", "ie")
ORGANISATIONS = 200
GROUPS = 20


def glossary_terms() -> list[dict[str, str]]:
    return [dict(zip(LANGUAGES, concept, strict=True)) for concept in GLOSSARY]


class _Sampler:
    """Words of one language with Zipf-like weights (rank r has weight 1 / (r + 2))."""

    def __init__(self, language: str, rng: random.Random):
        words = WORDS[language].split()
        rng.shuffle(words)  # which words are common differs per seed
        self.words = words
        self.weights = [1 / (rank + 2) for rank in range(len(words))]
        self.filler = FILLER[language]
        self.rng = rng

    def text(self, count: int) -> str:
        content = self.rng.choices(self.words, weights=self.weights, k=count)
        out = []
        for word in content:
            if self.rng.random() < 0.35:
                out.append(self.rng.choice(self.filler))
            out.append(word)
        return " ".join(out)


def documents(count: int, seed: int = 7) -> Iterator[SearchDocument]:
    """``count`` documents, ``bench:1`` to ``bench:<count>``."""
    rng = random.Random(seed)
    samplers = {language: _Sampler(language, random.Random(seed + i))
                for i, language in enumerate(LANGUAGES)}
    epoch = datetime(2012, 1, 1, tzinfo=UTC)
    for n in range(1, count + 1):
        language = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
        sampler = samplers[language]
        body = sampler.text(rng.randint(180, 320))
        for concept in GLOSSARY:
            if rng.random() < PLANT_RATE:
                words = body.split(" ")
                at = rng.randrange(len(words))
                words.insert(at, concept[LANGUAGES.index(language)])
                body = " ".join(words)
        attachments = sampler.text(rng.randint(300, 600)) if rng.random() < 0.25 else ""
        kind = rng.choice(KINDS)
        published = epoch + timedelta(days=rng.randrange(14 * 365))
        roll = rng.random()
        if roll < 0.7:
            audiences = ["public"]
        elif roll < 0.9:
            audiences = ["members"]
        else:
            audiences = [f"group:{rng.randint(1, GROUPS)}"]
        facets = {
            "kind": [kind],
            "language": [language],
            "product_group": rng.sample(PRODUCT_GROUPS, rng.randint(1, 3)),
            "theme": rng.sample(THEMES, rng.randint(1, 2)),
            "country": [rng.choice(COUNTRIES)],
            "organisation": [str(rng.randint(1, ORGANISATIONS))],
            "year": [str(published.year)],
        }
        if kind in ("criterion", "clause"):
            facets["phase"] = [rng.choice(PHASES)]
        yield SearchDocument(
            ref=f"bench:{n}",
            item_id=n,
            language=language,
            title=sampler.text(rng.randint(5, 10)).capitalize(),
            summary=sampler.text(rng.randint(25, 40)),
            body=body,
            attachments_text=attachments,
            audiences=audiences,
            facets=facets,
            published_at=published,
        )
