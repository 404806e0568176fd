"""The one description of a library item's content fields, and everything derived from it.

Each ``Field`` says what a field is (its type, which kinds of item have it, its limits) and
where it shows. From ``FIELDS`` come: the guided form's fields and fieldsets
(``library.forms``), the service's cleaning and the fields it clears when the kind changes
(``library.service``), the version snapshot, the item JSON and the OpenAPI schemas
(``library.api``, ``api.openapi``), the search document (``library.search_documents``)
and the item page's sections and facts (``templates/library/_macros.html``).

Adding a field to a kind: a column on ``LibraryItem`` (and its migration), one ``Field``
here, and its msgids in the catalogues. Nothing else names it.

Not described here are the fields with their own rules: ``kind`` (it chooses the other
fields), ``language``, who may see the item (``visibility``, ``group``), ``organisation``
and ``authors`` (links to other rows), files and the translation links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from buyergroup.library.models import (
    FACET_COUNTRY,
    FACET_PRODUCT_GROUP,
    FACET_THEME,
    FACET_VERIFICATION,
    Ambition,
    AmbitionScheme,
    ItemKind,
    LabelScope,
    LibraryItem,
    Phase,
)
from buyergroup.vocabulary import (
    COUNTRIES,
    PRODUCT_GROUPS,
    THEMES,
    VERIFICATION,
    country_name,
)

# Field types
LINE = "line"  # one line of plain text
TEXT = "text"  # several lines of plain text
MARKDOWN = "markdown"  # several lines of Markdown
URL = "url"  # a web address (http or https)
YEAR = "year"  # a year, 1990 to next year
CHOICE = "choice"  # one member of ``enum`` or nothing
CODES = "codes"  # several codes of ``vocabulary``, stored as tags of ``facet``
TEXT_TYPES = (LINE, TEXT, MARKDOWN, URL)

# Where a field shows on the item page (and on an old version's page)
ON_PAGE_TEXT = "text"  # a section of the item's text, under a heading
ON_PAGE_FACTS = "facts"  # the "About this item" sidebar

FIRST_YEAR = 1990

CLAUSE_KINDS = (ItemKind.criterion, ItemKind.clause)


def last_year() -> int:
    return date.today().year + 1


@dataclass(frozen=True)
class Section:
    """A fieldset of the guided form: a kind's own details, or one shared by every kind."""

    name: str
    legend: Any
    hint: Any = None
    kinds: tuple[ItemKind, ...] | None = None  # None: shown for every kind
    leading: tuple[str, ...] = ()  # fields with their own rules, before the described ones
    trailing: tuple[str, ...] = ()  # ... and after them

    @property
    def data_kinds(self) -> str | None:
        """The ``data-kinds`` attribute: library.js shows the fieldset for these kinds."""
        return " ".join(k.value for k in self.kinds) if self.kinds else None

    @property
    def field_names(self) -> list[str]:
        return [*self.leading, *(f.name for f in fields_in(self.name)), *self.trailing]


# The form's fieldsets in order. The sections for visibility, files and the note about a
# change are not about content and stay in the template.
SECTIONS: tuple[Section, ...] = (
    Section("what", _l("1. What you are sharing"),
            leading=("kind", "translation_kind"), trailing=("language",)),
    Section("text", _l("2. The text")),
    Section("clause", _l("3. Criterion or clause details"),
            _l("Only for criteria and contract clauses."), kinds=CLAUSE_KINDS),
    Section("case", _l("3. Your case, step by step"),
            _l("Only for case studies and pilots. Short answers are fine; bullet lists with - "
               "work too."), kinds=(ItemKind.case_study,)),
    Section("label", _l("3. About the label"),
            _l("Only for labels and certificates. Describe what it covers in the text above."),
            kinds=(ItemKind.label,)),
    Section("policy", _l("3. About the policy"), _l("Only for policy references."),
            kinds=(ItemKind.policy,)),
    Section("classification", _l("4. Classification"),
            _l("These let others find your item with the filters of the library."),
            trailing=("organisation_id",)),
    Section("source", _l("5. Authors and source"), leading=("authors",)),
)

# Headings of item page sections that several fields share.
PAGE_GROUP_HEADINGS: dict[str, Any] = {"verification": _l("Verification")}


@dataclass(frozen=True)
class Field:
    """One content field of library items (see the module's docstring)."""

    name: str  # the item's attribute, and the key in the form, snapshot, JSON and API
    type: str
    label: Any  # the form's label; also the page's heading or fact name
    history_name: Any  # how the version history names it ("changed: title, approach")
    section: str  # the form's fieldset (``SECTIONS``)
    kinds: tuple[ItemKind, ...] | None = None  # None: every kind has it
    description: Any = None  # the hint under the form field
    max_length: int | None = None
    rows: int | None = None
    required: bool = False
    enum: type | None = None  # CHOICE
    empty_choice: Any = None  # CHOICE: the label of "nothing chosen"
    vocabulary: Callable[[], Iterable[tuple[str, str]]] | None = None  # CODES: (code, label)
    facet: str | None = None  # CODES: the tag facet it is stored under
    searchable: bool = False  # its text is indexed with the body
    search_facet: str | None = None  # the search facet it fills (see search.types.FACETS)
    on_page: str | None = None  # ON_PAGE_TEXT, ON_PAGE_FACTS, or None (the page shows it)
    page_group: str | None = None  # ON_PAGE_TEXT fields that share one heading
    always_shown: bool = False  # ON_PAGE_FACTS: shown ("—") when empty too
    as_list: bool = False  # CODES on the page: "a, b" rather than tags
    sort_choices: bool = False  # CODES: offered in the order of their labels
    in_summary: bool = False  # also in the API's list of items
    null_when_empty: bool = False  # the JSON says null for ""
    copied_to_translations: bool = False  # a translation starts with the original's value
    form_kw: dict = field(default_factory=dict)  # extra render_kw for the form field
    as_integer: bool = False  # CHOICE whose codes are numbers: the JSON gives the number
    # The page shows this after the fact's value (from the snapshot), e.g. the scheme's name
    detail: Callable[[dict], Any] | None = None
    # A rule across fields: the item -> an error message for this field, or None
    check: Callable[[LibraryItem], Any] | None = None

    def applies_to(self, kind: ItemKind | str | None) -> bool:
        if self.kinds is None:
            return True
        code = getattr(kind, "value", kind)
        return any(k.value == code for k in self.kinds)

    # --- Values ---------------------------------------------------------------------------

    def value(self, item: LibraryItem) -> Any:
        """The item's value as Python holds it (a list of codes for CODES)."""
        if self.type == CODES:
            return item.codes(self.facet)
        return getattr(item, self.name)

    def plain(self, item: LibraryItem) -> Any:
        """The value as plain JSON: enum codes, sorted codes (a set: order is no change)."""
        value = self.value(item)
        if self.type == CODES:
            return sorted(value)
        if self.type == CHOICE:
            return value.value if value is not None else None
        return value

    def json_value(self, item: LibraryItem) -> Any:
        value = self.value(item)
        if self.type == CHOICE:
            if self.as_integer and value is not None:
                return int(value.value)
            return value.value if value is not None else None
        if self.type == CODES:
            return list(value)
        if self.null_when_empty and not value:
            return None
        return value

    def empty(self) -> Any:
        """What the field holds when the item's kind does not have it."""
        if self.type == CODES:
            return []
        if self.type in TEXT_TYPES:
            return ""
        return None

    def choices(self) -> list[tuple[str, str]]:
        if self.type == CHOICE:
            return [(m.value, m.label) for m in self.enum]
        if self.type == CODES:
            pairs = [(code, str(text)) for code, text in self.vocabulary()]
            return sorted(pairs, key=lambda pair: pair[1]) if self.sort_choices else pairs
        return []

    def codes(self) -> set[str]:
        return {code for code, _ in self.vocabulary()}

    def display(self, code: str | None) -> str:
        """The label of a stored code (CHOICE, CODES), for pages that show a snapshot."""
        if code is None:
            return ""
        if self.type == CHOICE:
            try:
                return self.enum(code).label
            except ValueError:
                return code  # a value no longer offered: shown as stored
        if self.type == CODES:
            return str(dict(self.vocabulary()).get(code, code))
        return str(code)

    # --- The API's schemas ------------------------------------------------------------------

    def json_schema(self) -> dict:
        """The field in the item JSON (what ``json_value`` gives)."""
        if self.type == CODES:
            return {"type": "array", "items": {"type": "string"}}
        if self.type == CHOICE and self.as_integer:
            return {"type": ["integer", "null"], "enum": [*(int(m.value) for m in self.enum), None]}
        if self.type == CHOICE:
            return {"type": ["string", "null"], "enum": [*(m.value for m in self.enum), None]}
        if self.type == YEAR:
            return {"type": ["integer", "null"]}
        schema: dict = {"type": ["string", "null"] if self.null_when_empty else "string"}
        if self.type == URL:
            schema["format"] = "uri"
        if self.type == MARKDOWN:
            schema["description"] = "Markdown"
        return schema

    def input_schema(self) -> dict:
        """The field in what a client sends to create an item."""
        if self.type == CODES:
            return {"type": "array", "items": {"type": "string", "enum": sorted(self.codes())}}
        if self.type == CHOICE:
            return {"type": "string", "enum": [m.value for m in self.enum]}
        if self.type == YEAR:
            return {"type": "integer", "minimum": FIRST_YEAR}
        schema: dict = {"type": "string"}
        if self.max_length:
            schema["maxLength"] = self.max_length
        if self.type == URL:
            schema["format"] = "uri"
        if self.type == MARKDOWN:
            schema["description"] = "Markdown"
        if self.kinds is not None:
            kinds = ", ".join(k.value for k in self.kinds)
            schema["description"] = f"{schema.get('description', 'Text')}; {kinds} items only"
        return schema


def _ambition_detail(data: dict) -> str | None:
    """The source scheme's own name for the level ("EU GPP criteria: comprehensive")."""
    try:
        scheme = AmbitionScheme(data.get("ambition_scheme"))
        level = Ambition(data.get("ambition"))
    except ValueError:
        return None
    name = scheme.step_name(level)
    return f"{scheme.label}: {name}" if name else None


def _ambition_check(item: LibraryItem) -> Any:
    if item.ambition_scheme is not None and item.ambition is None:
        return _l("Choose the level that the scheme gives this item.")
    if item.ambition_scheme is not None and item.ambition_scheme is not AmbitionScheme.common:
        if item.ambition_scheme.step_name(item.ambition) is None:
            return _l("%(scheme)s has no level %(level)s.", scheme=item.ambition_scheme.label,
                      level=item.ambition.value)
    return None


def _countries() -> list[tuple[str, Any]]:
    # Names in the reader's language, looked up only when shown.
    return [(code, LazyString(country_name, code)) for code in COUNTRIES]


# Order matters: it is the order of the form's fields within their fieldset, of the item
# page's sections and facts, and of the changes named in the version history.
FIELDS: list[Field] = [
    Field("title", LINE, _l("Title"), _l("title"), "what", max_length=300, required=True,
          in_summary=True,
          description=_l("Short and specific, e.g. “City of Ghent: fair smartphones in 2020”.")),
    Field("summary", TEXT, _l("Summary"), _l("summary"), "what", max_length=2000, rows=3,
          in_summary=True, description=_l("Two or three sentences shown in search results.")),
    Field("body", MARKDOWN, _l("Text"), _l("text"), "text", max_length=100_000, rows=14),
    # Criterion and clause
    Field("phase", CHOICE, _l("Procurement phase"), _l("procurement phase"), "clause",
          kinds=CLAUSE_KINDS, enum=Phase, empty_choice=_l("Choose a phase"),
          search_facet="phase", on_page=ON_PAGE_FACTS, in_summary=True,
          copied_to_translations=True),
    Field("ambition", CHOICE, _l("Ambition level"), _l("ambition level"), "clause",
          kinds=CLAUSE_KINDS, enum=Ambition, empty_choice=_l("Not specified"),
          on_page=ON_PAGE_FACTS, copied_to_translations=True, as_integer=True,
          search_facet="ambition", in_summary=True, detail=_ambition_detail,
          check=_ambition_check,
          description=_l("1 basic: easy to apply and verify; 2 advanced; 3 front-runner: for "
                         "buyers who want to lead the market (EU GPP core = 1, "
                         "comprehensive = 2).")),
    Field("ambition_scheme", CHOICE, _l("Ambition scheme"), _l("ambition scheme"), "clause",
          kinds=CLAUSE_KINDS, enum=AmbitionScheme, empty_choice=_l("Not specified"),
          copied_to_translations=True, in_summary=True,
          description=_l("The criteria set the level comes from; the page shows that "
                         "set's own name for it.")),
    Field("verification", CODES, _l("How compliance is verified"), _l("verification"),
          "clause", kinds=CLAUSE_KINDS, facet=FACET_VERIFICATION, search_facet="verification",
          vocabulary=lambda: VERIFICATION.items(), on_page=ON_PAGE_TEXT,
          page_group="verification", copied_to_translations=True),
    Field("verification_notes", MARKDOWN, _l("Verification notes"), _l("verification notes"),
          "clause", kinds=CLAUSE_KINDS, max_length=10_000, rows=4, searchable=True,
          on_page=ON_PAGE_TEXT, page_group="verification",
          description=_l("What the bidder must provide, and how the buyer checks it.")),
    Field("rationale", MARKDOWN, _l("Rationale"), _l("rationale"), "clause",
          kinds=CLAUSE_KINDS, max_length=10_000, rows=4, searchable=True, on_page=ON_PAGE_TEXT,
          description=_l("Why this criterion or clause matters and what it achieves.")),
    # Case study
    Field("approach", MARKDOWN, _l("Approach"), _l("approach"), "case",
          kinds=(ItemKind.case_study,), max_length=20_000, rows=5, searchable=True,
          on_page=ON_PAGE_TEXT,
          description=_l("What did you do? Market consultation, criteria used, partners "
                         "involved.")),
    Field("results", MARKDOWN, _l("Results"), _l("results"), "case",
          kinds=(ItemKind.case_study,), max_length=20_000, rows=5, searchable=True,
          on_page=ON_PAGE_TEXT,
          description=_l("What came out of it: the contract, numbers, changes at suppliers.")),
    Field("lessons", MARKDOWN, _l("Lessons learned"), _l("lessons learned"), "case",
          kinds=(ItemKind.case_study,), max_length=20_000, rows=5, searchable=True,
          on_page=ON_PAGE_TEXT,
          description=_l("What would you tell a colleague who wants to do the same?")),
    Field("challenges", MARKDOWN, _l("Challenges"), _l("challenges"), "case",
          kinds=(ItemKind.case_study,), max_length=20_000, rows=4, searchable=True,
          on_page=ON_PAGE_TEXT,
          description=_l("What was difficult, and how did you deal with it?")),
    Field("next_steps", MARKDOWN, _l("Next steps"), _l("next steps"), "case",
          kinds=(ItemKind.case_study,), max_length=20_000, rows=3, searchable=True,
          on_page=ON_PAGE_TEXT, description=_l("What you plan to do next.")),
    # Label and policy reference
    Field("label_scope", CHOICE, _l("What the label covers"), _l("what the label covers"),
          "label", kinds=(ItemKind.label,), enum=LabelScope, empty_choice=_l("Not specified"),
          on_page=ON_PAGE_FACTS, copied_to_translations=True),
    Field("reference", LINE, _l("Official reference"), _l("official reference"), "policy",
          kinds=(ItemKind.policy,), max_length=300, searchable=True, on_page=ON_PAGE_FACTS,
          description=_l("For example the title and date of the law or plan, or its number.")),
    # Classification, for every kind
    Field("product_groups", CODES, _l("Product groups"), _l("product groups"),
          "classification", facet=FACET_PRODUCT_GROUP, vocabulary=lambda: PRODUCT_GROUPS.items(),
          search_facet="product_group", on_page=ON_PAGE_FACTS, always_shown=True,
          in_summary=True, copied_to_translations=True),
    Field("themes", CODES, _l("Themes"), _l("themes"), "classification", facet=FACET_THEME,
          vocabulary=lambda: THEMES.items(), search_facet="theme", on_page=ON_PAGE_FACTS,
          always_shown=True, in_summary=True, copied_to_translations=True),
    Field("year", YEAR, _l("Year"), _l("year"), "classification", search_facet="year",
          on_page=ON_PAGE_FACTS, in_summary=True, copied_to_translations=True,
          description=_l("The year of the tender, pilot or publication."),
          form_kw={"inputmode": "numeric"}),
    Field("legal_system", LINE, _l("Legal framework"), _l("legal framework"),
          "classification", max_length=120, on_page=ON_PAGE_FACTS, copied_to_translations=True,
          description=_l("For example: EU directive 2014/24/EU, Belgian law of 17 June 2016.")),
    Field("countries", CODES, _l("Countries"), _l("countries"), "classification",
          facet=FACET_COUNTRY, vocabulary=_countries, search_facet="country",
          on_page=ON_PAGE_FACTS, as_list=True, sort_choices=True, copied_to_translations=True),
    # Source
    Field("source_url", URL, _l("Source"), _l("source"), "source", max_length=500,
          on_page=ON_PAGE_FACTS, null_when_empty=True, copied_to_translations=True,
          description=_l("A link to the original document, if it is online.")),
    Field("licence", LINE, _l("Licence"), _l("licence"), "source", max_length=80,
          on_page=ON_PAGE_FACTS, null_when_empty=True, copied_to_translations=True,
          description=_l("For example CC-BY-4.0, so others know how they may reuse it.")),
]

def by_name() -> dict[str, Field]:
    return {f.name: f for f in FIELDS}


def get(name: str) -> Field:
    return by_name()[name]


def names(*, type_: str | None = None) -> list[str]:
    return [f.name for f in FIELDS if type_ is None or f.type == type_]


def of_type(*types: str) -> list[Field]:
    return [f for f in FIELDS if f.type in types]


def fields_in(section: str) -> list[Field]:
    return [f for f in FIELDS if f.section == section]


def fields_for(kind: ItemKind | str | None) -> list[Field]:
    """The fields an item of ``kind`` has."""
    return [f for f in FIELDS if f.applies_to(kind)]


# --- The item page ----------------------------------------------------------------------------


@dataclass
class PageSection:
    """A section of the item's text: one heading over one or more fields' values."""

    id: str
    heading: Any
    values: list[tuple[Field, Any]]

    @property
    def names(self) -> list[str]:
        return [f.name for f, _ in self.values]


def filled(value: Any) -> bool:
    return value not in (None, "", [])


def text_sections(data: dict) -> list[PageSection]:
    """The text sections of a snapshot (the item now, or an old version), for its kind."""
    sections: dict[str, PageSection] = {}
    for f in fields_for(data.get("kind")):
        if f.on_page != ON_PAGE_TEXT or not filled(data.get(f.name)):
            continue
        group = f.page_group or f.name
        if group not in sections:
            sections[group] = PageSection(
                id=group.replace("_", "-"),
                heading=PAGE_GROUP_HEADINGS.get(group, f.label),
                values=[],
            )
        sections[group].values.append((f, data[f.name]))
    return list(sections.values())


def facts(data: dict) -> list[tuple[Field, Any]]:
    """The sidebar facts of a snapshot, for its kind: (field, value) with a value."""
    return [
        (f, data.get(f.name))
        for f in fields_for(data.get("kind"))
        if f.on_page == ON_PAGE_FACTS and (f.always_shown or filled(data.get(f.name)))
    ]


# --- The API ----------------------------------------------------------------------------------


def json_properties(*, summary: bool) -> dict[str, dict]:
    """Schemas of the described fields in the item JSON (the list's entries, or the rest)."""
    return {f.name: f.json_schema() for f in FIELDS if f.in_summary == summary}


def input_properties() -> dict[str, dict]:
    return {f.name: f.input_schema() for f in FIELDS}
