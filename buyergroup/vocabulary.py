"""Controlled vocabularies shared by profiles, groups and (later) the library.

Codes are stored; labels are translated at display time. Country and language names come
from the CLDR data in Babel, so they are already in every interface language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from buyergroup.i18n import current_locale

PRODUCT_GROUPS: dict[str, object] = {
    "laptops": _l("Laptops"),
    "desktops": _l("Desktop computers"),
    "servers": _l("Servers and data centres"),
    "screens": _l("Screens"),
    "smartphones": _l("Smartphones and tablets"),
    "peripherals": _l("Peripherals (keyboards, mice)"),
    "printers": _l("Printers and imaging"),
    "network": _l("Network equipment"),
}

THEMES: dict[str, object] = {
    "human-rights": _l("Human rights"),
    "labour-conditions": _l("Labour conditions"),
    "due-diligence": _l("Due diligence"),
    "conflict-minerals": _l("Conflict minerals"),
    "circularity": _l("Circularity"),
    "energy-efficiency": _l("Energy efficiency"),
    "hazardous-substances": _l("Hazardous substances"),
    "social-dialogue": _l("Social dialogue"),
    "transparency": _l("Supply chain transparency"),
}

EXPERTISE: dict[str, object] = {**PRODUCT_GROUPS, **THEMES}

# How compliance with a criterion or clause is checked (library items).
VERIFICATION: dict[str, object] = {
    "label": _l("Label"),
    "audit_report": _l("Audit report"),
    "self_declaration": _l("Self-declaration"),
    "independent_monitoring": _l("Independent monitoring"),
    "third_party_certificate": _l("Third-party certificate"),
    "supply_chain_mapping": _l("Supply chain mapping"),
}

# The countries of the network: the EU, the EEA, Switzerland and the United Kingdom.
COUNTRIES: tuple[str, ...] = (
    "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR",
    "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE",
    "SI", "SK",
)  # fmt: skip

SPOKEN_LANGUAGES: tuple[str, ...] = (
    "en", "nl", "fr", "de", "es", "it", "da", "sv", "fi", "nb", "pt", "pl", "cs", "el",
)  # fmt: skip


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return current_locale().territories.get(code.upper(), code)


def language_name(code: str | None, *, in_sentence: bool = False) -> str:
    """A language's name in the reader's language, capitalised to stand alone (a menu, a
    list, a label) or, ``in_sentence``, as that language writes it inside a sentence
    ("en anglais", "in het Engels", "auf Englisch")."""
    if not code:
        return ""
    name = current_locale().languages.get(code, code)
    return name if in_sentence else name[:1].upper() + name[1:]


def expertise_label(code: str) -> str:
    return str(EXPERTISE.get(code, code))


def country_choices() -> list[tuple[str, str]]:
    return sorted(((c, country_name(c)) for c in COUNTRIES), key=lambda pair: pair[1])


def language_choices() -> list[tuple[str, str]]:
    return [(c, language_name(c)) for c in SPOKEN_LANGUAGES]


def verification_label(code: str) -> str:
    return str(VERIFICATION.get(code, code))


def expertise_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in EXPERTISE.items()]
