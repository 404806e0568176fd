"""Every interface string exists in every language, and pages really render translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from buyergroup.i18n import LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parents[2] / "buyergroup" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# Short labels are often rightly the same in two languages ("Webinar", "Version", "Label");
# a sentence left identical to the English is a missed translation.
MAX_WORDS_THAT_MAY_MATCH = 2


def _is_sentence(text: str) -> bool:
    return len(PLACEHOLDER.sub("", text).split()) > MAX_WORDS_THAT_MAY_MATCH


CATALOGUES = [code for code in LANGUAGES if code != "en"]


def _catalogue(code: str):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=code)


def _template_ids() -> set[str]:
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}


@pytest.mark.parametrize("code", CATALOGUES)
def test_catalogue_is_complete_without_fuzzy_entries(code):
    catalogue = _catalogue(code)
    untranslated, fuzzy, english = [], [], []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        if strings[0] == msgid and _is_sentence(msgid):
            english.append(msgid)
    assert not untranslated, f"{code}: untranslated {untranslated[:10]}"
    assert not fuzzy, f"{code}: fuzzy {fuzzy[:10]}"
    assert not english, f"{code}: still English {english[:10]}"


@pytest.mark.parametrize("code", CATALOGUES)
def test_catalogue_covers_every_string_in_the_code(code):
    catalogue_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(code) if m.id}
    missing = _template_ids() - catalogue_ids
    assert not missing, f"{code} lacks {sorted(missing)[:10]}: run `flask translate extract`"


@pytest.mark.parametrize("code", CATALOGUES)
def test_placeholders_survive_translation(code):
    for message in _catalogue(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= expected | set(
                PLACEHOLDER.findall(ids[0])
            ), f"{code}: {message.id!r} -> {string!r}"


# What a visitor reads on the home page, per language (a phrase from the catalogue).
EXPECTED = {
    "en": ("Working groups", "Sign in"),
    "nl": ("Werkgroepen", "Aanmelden"),
    "fr": ("Groupes de travail", "Se connecter"),
    "de": ("Arbeitsgruppen", "Anmelden"),
}


@pytest.mark.parametrize("code", list(LANGUAGES))
@pytest.mark.parametrize("path", ["/", "/groups", "/organisations", "/login", "/join", "/nowhere"])
def test_pages_render_in_each_language(client, code, path):
    client.post("/language", data={"language": code, "next": "/"})
    response = client.get(path)
    assert response.status_code in (200, 404)
    html = response.get_data(as_text=True)
    assert f'<html lang="{code}">' in html
    for phrase in EXPECTED[code]:
        assert phrase in html, f"{phrase!r} missing from {path} in {code}"
