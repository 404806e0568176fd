"""Interface languages, locale and time-zone selection, and locale-aware helpers."""

from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, has_request_context, request, session
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


_COMMON_ZONES: list[str] | None = None


def timezone_choices() -> list[tuple[str, str]]:
    """European zones first (the members' own), then every other IANA zone."""
    global _COMMON_ZONES
    if _COMMON_ZONES is None:
        zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
        europe = [z for z in zones if z.startswith("Europe/")]
        _COMMON_ZONES = europe + [z for z in zones if not z.startswith("Europe/")]
    return [(z, z.replace("_", " ")) for z in [*_COMMON_ZONES, "UTC"]]


def is_valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:  # noqa: BLE001 - any failure means "not a zone we can use"
        return False
    return True
