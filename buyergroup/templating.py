"""Template globals and filters: translated labels, locale-aware formatting, pagination."""

from __future__ import annotations

import enum
import functools

import bleach
import markdown as markdown_lib
from flask import Flask, request, url_for
from flask_babel import (
    format_date,
    format_datetime,
    get_timezone,
    get_translations,
)
from flask_babel import lazy_gettext as _l
from jinja2 import BytecodeCache, pass_eval_context
from jinja2.bccache import Bucket
from jinja2.nodes import EvalContext
from markupsafe import Markup

from buyergroup.database import LabelledEnum
from buyergroup.i18n import LANGUAGES, babel_context, current_locale_name, format_number
from buyergroup.urls import external_url
from buyergroup.vocabulary import country_name, expertise_label, language_name

# Labels of codes not yet carried by their enum (``LabelledEnum``): each domain moves its
# own out of here and beside its enum.
ENUM_LABELS: dict[str, object] = {
    # group roles (site roles label themselves: accounts.models.Role)
    "member": _l("Member"),
    "organiser": _l("Organiser"),
    # codes shared by several domains' enums (the network's own labels are on its enums)
    "other": _l("Other"),
    "pending": _l("Pending"),
    "active": _l("Active"),
    "approved": _l("Approved"),
    "declined": _l("Declined"),
    # visibility (library items and event materials)
    "public": _l("Everyone, including visitors"),
    "members": _l("Members of Buyergroup"),
    # shared by several domains' states (attachment text, outbox)
    "failed": _l("Text could not be read"),
}


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept for every app this process makes.

    Each app has a Jinja environment of its own, which compiles every template again when
    it is first used (1.4 s for all 147): a process that makes several apps (the test suite
    makes dozens) paid it for each. Every app is configured by the same code, so the
    compiled code is the same; Jinja compares the source's checksum before it uses the
    code, so an edited template is compiled again. Kept in memory, not on disk: a compiled
    template on disk would outlive a change of the environment's settings.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def label(value) -> str:
    """The translated label of an enum member or code."""
    if isinstance(value, LabelledEnum):
        return value.label
    code = getattr(value, "value", value)
    if isinstance(value, enum.Enum):
        qualified = ENUM_LABELS.get(f"{type(value).__name__}.{code}")
        if qualified is not None:
            return str(qualified)
    return str(ENUM_LABELS.get(code, code))


def page_url(page: int) -> str:
    """The current URL with ``page`` replaced, keeping every filter."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    args.pop("page", None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


ALLOWED_TAGS = [
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "blockquote", "code", "pre",
    "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr",
]
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "th": ["scope"]}


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised: members' text never carries script or styles.

    The HTML depends on the text alone, so each text is rendered once per process and kept
    (an item page showed the same body through Markdown, bleach and linkify five times: 35 %
    of its time, issue 12); a new version is a new text, rendered when first shown.
    """
    return Markup(_rendered(text or ""))


@functools.lru_cache(maxsize=2048)
def _rendered(text: str) -> str:
    html = markdown_lib.markdown(text, extensions=["tables", "sane_lists"])
    clean = bleach.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
        protocols=["http", "https", "mailto"], strip=True,
    )
    return bleach.linkify(clean, callbacks=[*bleach.linkifier.DEFAULT_CALLBACKS])


def absolute_url(endpoint: str, **values) -> str:
    return external_url(endpoint, **values)


def request_translations():
    """``flask_babel.get_translations()``, kept on the request's Babel context for the
    templates' strings (about 30 a page). Flask-Babel looks them up again for each string
    (four context lookups and the locale's name as a key: 15 % of a small page's time);
    ``force_locale`` and ``refresh`` reset the kept value, as they do for Flask-Babel's own."""
    context = babel_context()
    if context is None:  # not made yet, or no application context
        return get_translations()
    translations = getattr(context, "babel_translations", None)
    if translations is None:
        translations = context.babel_translations = get_translations()
    return translations


# The templates' _, gettext, ngettext, pgettext and npgettext, with the meaning Jinja gives
# them (newstyle: translated, Markup where the template escapes, then formatted with escaped
# values, "%%" a percent sign) in one call each. Jinja's own "_" resolves gettext and calls
# it through the template context, which calls the catalogue through the context again:
# about 10 microseconds a string where the catalogue takes 1.5, and a results page has some
# sixty strings (issue 12).


def _formatted(eval_context: EvalContext, text: str, variables: dict) -> str:
    if eval_context.autoescape:
        text = Markup(text)
    # Formatting a string with nothing to put in it gives it back as it was.
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _template_gettext(eval_context: EvalContext, string: str, /, **variables) -> str:
    return _formatted(eval_context, request_translations().ugettext(string), variables)


@pass_eval_context
def _template_ngettext(
    eval_context: EvalContext, singular: str, plural: str, num: int, /, **variables
) -> str:
    variables.setdefault("num", num)
    text = request_translations().ungettext(singular, plural, num)
    return _formatted(eval_context, text, variables)


@pass_eval_context
def _template_pgettext(
    eval_context: EvalContext, context: str, string: str, /, **variables
) -> str:
    variables.setdefault("context", context)
    return _formatted(eval_context, request_translations().upgettext(context, string),
                      variables)


@pass_eval_context
def _template_npgettext(
    eval_context: EvalContext, context: str, singular: str, plural: str, num: int, /,
    **variables,
) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = request_translations().unpgettext(context, singular, plural, num)
    return _formatted(eval_context, text, variables)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.newstyle_gettext = True  # what {% trans %} compiles to, as installed
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext,
        pgettext=_template_pgettext, npgettext=_template_npgettext)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        label=label,
        country_name=country_name,
        language_name=language_name,
        expertise_label=expertise_label,
        page_url=page_url,
        absolute_url=absolute_url,
        url_with=url_with,
        current_locale=current_locale_name,
        current_timezone=lambda: str(get_timezone()),
    )
    app.jinja_env.filters.update(
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        # 12,800 / 12.800 / 12 800: grouped as the reader's language writes numbers.
        number=format_number,
        label=label,
        country=country_name,
        markdown=render_markdown,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
