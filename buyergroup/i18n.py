"""Interface languages, locale and time-zone selection, and locale-aware helpers."""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal, get_group_symbol
from flask import current_app, g, has_request_context, request, session
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# Interface languages, each named in its own language (how a switcher should show them).
LANGUAGES: dict[str, str] = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch"}

SESSION_LANGUAGE_KEY = "language"


def select_locale() -> str:
    """The member's own setting, else the switcher's choice, else the browser's."""
    if not has_request_context():
        return "en"  # CLI commands and jobs choose their locale with force_locale()
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = session.get(SESSION_LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def babel_context():
    """The request's Babel context, where Flask-Babel keeps the chosen locale and catalogue
    (``force_locale`` and ``refresh`` change them there), or None before Flask-Babel made it
    or outside an application context."""
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):
        return None


def current_locale() -> Locale:
    """``flask_babel.get_locale()``, read straight from the request's Babel context once it
    is chosen. A results page asks for it a few hundred times (labels, facet names, language
    names, numbers), and each ``get_locale`` is two context lookups."""
    return getattr(babel_context(), "babel_locale", None) or get_locale() or Locale("en")


def current_locale_name() -> str:
    """The request's language code ("en", "nl", "fr", "de"): ``str(get_locale())``, whose
    identifier Babel builds again on every ``str``, named once per locale object on the
    context (so again when ``force_locale`` puts another one there)."""
    context = babel_context()
    locale = getattr(context, "babel_locale", None) or current_locale()
    if context is None:
        return str(locale)
    named = getattr(context, "buyergroup_locale_name", None)
    if named is None or named[0] is not locale:
        named = context.buyergroup_locale_name = (locale, str(locale))
    return named[1]


def format_number(value) -> str:
    """A number as the reader's language writes it (12,800 / 12.800 / 12 800). Whole numbers
    are grouped by Python with the locale's own separator wherever that gives Babel's answer
    (checked per locale on a few numbers): a library page shows about 70 counts, and Babel's
    ``format_decimal`` was 15 microseconds each."""
    if value is None:
        return ""
    name = current_locale_name()
    group = _integer_group(name)
    if group is not None and type(value) is int:
        return f"{value:,}".replace(",", group)
    return format_decimal(value, locale=name)


@lru_cache(maxsize=16)
def _integer_group(name: str) -> str | None:
    """The separator to put between thousands, or None where grouping every three digits
    from the first would not be what Babel writes (a language that groups from five digits,
    say)."""
    group = get_group_symbol(name)
    samples = (0, 7, -7, 999, 1000, -1234, 12800, 1234567, 10**12)
    if all(f"{n:,}".replace(",", group) == format_decimal(n, locale=name) for n in samples):
        return group
    return None


# The menu's regions, in the order a European member looks for them.
_REGIONS: dict[str, LazyString] = {
    "Europe": _l("Europe"),
    "Africa": _l("Africa"),
    "America": _l("Americas"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Australia": _l("Australia"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
}

_CANONICAL_ZONES: list[tuple[str, str]] | None = None


def _zone_table() -> str:
    """IANA's zone.tab: one line per zone that a country uses today, no old aliases."""
    try:
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return Path("/usr/share/zoneinfo/zone.tab").read_text("utf-8")


def canonical_zones() -> list[tuple[str, str]]:
    """(zone, ISO country code) for every zone in use, e.g. ("Europe/Brussels", "BE")."""
    global _CANONICAL_ZONES
    if _CANONICAL_ZONES is None:
        zones = []
        for line in _zone_table().splitlines():
            if line and not line.startswith("#"):
                country, _coordinates, zone, *_comment = line.split("\t")
                zones.append((zone, country))
        _CANONICAL_ZONES = zones
    return _CANONICAL_ZONES


def timezone_choices(current: str | None = None) -> dict[str, tuple | list]:
    """The time-zone menu: zones in use today, grouped by region, Europe first, each named
    by its city and country in the reader's language ("Brussels (Belgium)").

    About 400 entries instead of the 600 of ``available_timezones()``, whose old aliases
    ("US/Eastern", "Europe/Belfast") made members doubt which one to pick. A ``current``
    value that is valid but not in the list (an alias saved before) stays selectable.
    """
    groups: dict[str, tuple | list] = dict(_zone_groups(str(get_locale())))
    known = _known_zones()
    other = [("UTC", "UTC")]
    if current and current not in known and is_valid_timezone(current):
        other.append((current, current.replace("_", " ")))
    groups[str(_l("Other"))] = other
    return groups


@cache
def _known_zones() -> frozenset[str]:
    return frozenset({"UTC", *(zone for zone, _country in canonical_zones()
                               if zone.split("/", 1)[0] in _REGIONS)})


@lru_cache(maxsize=8)
def _zone_groups(locale_name: str) -> tuple[tuple[str, tuple], ...]:
    """The regions' entries in ``locale_name`` (the current locale), built once per
    language: a menu of about 400 names took 9 ms to build for each page."""
    territories = get_locale().territories
    labels = {key: str(label) for key, label in _REGIONS.items()}
    groups: dict[str, list[tuple[str, str]]] = {label: [] for label in labels.values()}
    for zone, country in canonical_zones():
        region = labels.get(zone.split("/", 1)[0])
        if region is None:
            continue
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        groups[region].append((zone, f"{city} ({territories.get(country, country)})"))
    for entries in groups.values():
        entries.sort(key=lambda entry: entry[1].casefold())
    # Tuples of tuples: the cached entries are never changed by a caller.
    return tuple((label, tuple(entries)) for label, entries in groups.items() if entries)


def is_valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:  # noqa: BLE001 - any failure means "not a zone we can use"
        return False
    return True
