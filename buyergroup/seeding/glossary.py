"""``glossary.yaml``: the concepts and their terms in each language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from buyergroup.glossary.service import (
    GLOSSARY_LANGUAGES,
    KEY_RE,
    get_concept_by_key,
    save_concept,
)
from buyergroup.seeding.common import (
    Entry,
    SeedError,
    SeedReport,
    located,
    parse_yaml,
    refuse_duplicates,
)

GLOSSARY_FILE = "glossary.yaml"


@dataclass(frozen=True)
class ConceptSeed:
    where: str
    key: str
    note: str
    terms: dict[str, tuple[str, ...]]


def parse_glossary(seed_dir: Path) -> tuple[ConceptSeed, ...]:
    """``glossary.yaml``: a list of {key, note, terms: {en: [...], nl: [...], ...}}.

    Optional: a seed folder without it has no glossary.
    """
    path = seed_dir / GLOSSARY_FILE
    if not path.exists():
        return ()
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SeedError(f"{GLOSSARY_FILE}: not valid YAML: {error}") from error
    if isinstance(document, Mapping):
        document = document.get("concepts")
    if document is None:
        return ()
    if not isinstance(document, list):
        raise SeedError(f"{GLOSSARY_FILE}: expected a list of concepts")
    result = []
    for number, raw in enumerate(document, start=1):
        label = raw.get("key") if isinstance(raw, Mapping) else None
        where = f"{GLOSSARY_FILE}: concept {number}" + (f" ({label})" if label else "")
        entry = Entry(where, raw, ("key", "note", "terms"))
        key = entry.text("key", required=True, max_length=80)
        if not KEY_RE.match(key):
            raise entry.error("key", "use lower-case letters, digits and hyphens")
        terms_raw = entry.data.get("terms")
        if not isinstance(terms_raw, Mapping) or not terms_raw:
            raise entry.error("terms", "expected a mapping of language to a list of terms")
        terms = {}
        for language, values in terms_raw.items():
            if language not in GLOSSARY_LANGUAGES:
                raise entry.error("terms", f"unknown language {language!r}")
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise entry.error("terms", f"{language}: expected a list of text values")
            terms[language] = tuple(v.strip() for v in values if v.strip())
        result.append(ConceptSeed(where, key, entry.text("note"), terms))
    refuse_duplicates(GLOSSARY_FILE, "concept key", (c.key for c in result))
    return tuple(result)


def load_concept(seed: ConceptSeed, report: SeedReport) -> None:
    existing = get_concept_by_key(seed.key)
    report.concepts.count(created=existing is None)
    if existing is None:
        with located(seed.where):
            save_concept(None, key=seed.key, note=seed.note,
                         terms={lang: list(terms) for lang, terms in seed.terms.items()})
