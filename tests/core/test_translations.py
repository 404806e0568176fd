"""Every interface string exists in every language, and pages really render translated."""

from __future__ import annotations

import re
import subprocess
import sys
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


ROOT = TRANSLATIONS.parents[1]


def _key(message) -> tuple[str | None, str]:
    """A message as gettext looks it up: its context and its (singular) msgid."""
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[tuple[str | None, str], list[str]]:
    """Every message in the code, extracted afresh (not the committed messages.pot, which
    may be stale): what ``flask translate extract`` does, into a temporary file.

    Extraction fails loudly here: a template Babel cannot parse is an error, not a file
    silently skipped (``jinja2.ext.do`` missing from babel.cfg once hid a whole page)."""
    pot = tmp_path_factory.mktemp("extract") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    run = subprocess.run(
        [str(pybabel), "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "--sort-output",
         # Babel skips folders starting with "_" by default: templates/_macros has strings.
         "--ignore-dirs", ".*", "-o", str(pot), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    failures = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith(
        ("extracting messages from", "writing PO template"))]
    assert not failures, failures[:10]
    with open(pot, "rb") as handle:
        return {_key(m): [f"{Path(path).relative_to(ROOT) if Path(path).is_absolute() else path}"
                          f":{line}" for path, line in m.locations]
                for m in read_po(handle) if m.id}


def test_extraction_reaches_every_template_folder(extracted):
    places = {where.split(":")[0] for wheres in extracted.values() for where in wheres}
    for folder in ("templates/_macros/", "templates/email/", "templates/library/",
                   "buyergroup/"):
        assert any(folder in place for place in places), folder
    # The library's search page (it uses {% do %}) and the pager are extracted.
    assert any("templates/library/index.html" in p for p in places)
    assert any("templates/_macros/pagination.html" in p for p in places)


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
def test_every_string_in_the_code_is_translated(code, extracted):
    """Fails on any message of the code that the catalogue lacks, or has untranslated or
    fuzzy (neither is shown to the reader), context (msgctxt) included."""
    translated = set()
    for message in _catalogue(code):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and all(strings) and not message.fuzzy:
            translated.add(_key(message))
    missing = sorted(set(extracted) - translated, key=lambda k: (k[0] or "", k[1]))
    report = [f"{msgid!r}" + (f" (context {context!r})" if context else "")
              + f" at {extracted[(context, msgid)][0]}" for context, msgid in missing[:15]]
    assert not missing, (f"{code}: {len(missing)} message(s) of the code missing or "
                         "untranslated:\n" + "\n".join(report))


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


def test_a_template_rendered_in_another_language_inside_a_request(app):
    """Mail and exports render in their reader's language inside someone else's request
    (``force_locale``): the strings, the locale's code, numbers and language names that a
    request keeps must follow it both ways."""
    from flask import render_template_string
    from flask_babel import force_locale, refresh

    template = ("{{ _('Sign in') }} · {{ _('Working groups') }} · {{ current_locale() }} "
                "{{ 12800|number }} {{ 0.5|number }} {{ language_name('nl') }}")
    german = "Anmelden · Arbeitsgruppen · de 12.800 0,5 Niederländisch"
    dutch = "Aanmelden · Werkgroepen · nl 12.800 0,5 Nederlands"
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert render_template_string(template) == german
        with force_locale("nl"):
            assert render_template_string(template) == dutch
            with force_locale("fr"):
                assert render_template_string(template) == (
                    "Se connecter · Groupes de travail · fr 12\u202f800 0,5 Néerlandais")
            assert render_template_string(template) == dutch
        assert render_template_string(template) == german
        with force_locale("en"):
            assert render_template_string(template) == (
                "Sign in · Working groups · en 12,800 0.5 Dutch")
        refresh()
        assert render_template_string(template) == german


@pytest.mark.parametrize("code", [*LANGUAGES, "es", "pl"])
def test_whole_numbers_are_grouped_exactly_as_babel_groups_them(app, code):
    from babel.numbers import format_decimal
    from flask_babel import force_locale

    from buyergroup.i18n import format_number

    numbers = [0, 5, -5, 999, 1000, 1001, -1000, 9999, 10000, 12800, 99999, 100000, 1234567,
               -7654321, 10**9 + 7, 2.5, 1234.5]
    with app.test_request_context("/"), force_locale(code):
        assert [format_number(n) for n in numbers] == [
            format_decimal(n, locale=code) for n in numbers]


def test_template_strings_escape_what_is_put_in_them_only_where_the_template_escapes(app):
    """The templates' own gettext keeps Jinja's meaning: a value put into a translated
    string is escaped in HTML and left alone in a plain-text mail; "%%" is a percent sign."""
    from flask import render_template_string
    from flask_babel import force_locale

    html = ("{{ _('in %(language)s', language='<b>x</b>') }}|{{ _('Sign in') }}|"
            "{{ ngettext('%(num)d item', '%(num)d items', 3) }}|{{ _('100%%') }}|"
            "{{ _('Link') }}|{{ pgettext('web address', 'Link') }}")
    with app.test_request_context("/"), force_locale("nl"):
        assert render_template_string(html) == (
            "in het &lt;b&gt;x&lt;/b&gt;|Aanmelden|3 items|100%|Koppelen|Link")
        text = app.jinja_env.from_string(
            "{% autoescape false %}{{ _('in %(language)s', language='<b>x</b>') }}"
            "{% endautoescape %}")
        assert text.render() == "in het <b>x</b>"
