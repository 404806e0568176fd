"""Browsing and searching the library: one function for the page and the API.

Hits, counts and facets all come from the search index, which filters by the searcher's
audiences; the items are then loaded from the database in rank order and checked once more
with ``permissions.can_see`` (an index a moment behind the database must never show more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import defer, lazyload, selectinload
from werkzeug.datastructures import MultiDict

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.extensions import db
from buyergroup.library import permissions, service
from buyergroup.library.models import ItemKind, LibraryItem, Phase
from buyergroup.network.models import Organisation
from buyergroup.search.service import search
from buyergroup.search.types import (
    FACETS,
    SORTS,
    QuerySyntaxError,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from buyergroup.templating import label
from buyergroup.vocabulary import (
    PRODUCT_GROUPS,
    THEMES,
    country_name,
    language_name,
)

PER_PAGE = 20
MAX_QUERY_LENGTH = 200
MAX_FILTER_VALUES = 20

# Facets in the order they are shown, with their legends.
FACET_LEGENDS = {
    "kind": lambda: _("Kind"),
    "phase": lambda: _("Procurement phase"),
    "product_group": lambda: _("Product group"),
    "theme": lambda: _("Theme"),
    "language": lambda: _("Language"),
    "country": lambda: _("Country"),
    "organisation": lambda: _("Organisation"),
    "year": lambda: _("Year"),
}
SORT_LABELS = {
    "relevance": lambda: _("Relevance"),
    "newest": lambda: _("Newest first"),
    "title": lambda: _("Title (A–Z)"),
}


def sort_choices() -> list[tuple[str, str]]:
    return [(code, SORT_LABELS[code]()) for code in SORTS]


class ResultsPagination(Pagination):
    """The pagination macro's interface over a page of search results."""

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


@dataclass
class FacetOption:
    code: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    legend: str
    options: list[FacetOption]

    @property
    def selected(self) -> list[FacetOption]:
        return [o for o in self.options if o.selected]


@dataclass(frozen=True)
class Sibling:
    """Another language version of an entry's item, as "Also in" links to it."""

    id: int
    language: str


@dataclass
class Entry:
    item: LibraryItem
    hit: SearchHit
    snippet: Markup
    other_languages: list[Sibling] = field(default_factory=list)


@dataclass
class Browse:
    query: SearchQuery
    results: SearchResults
    entries: list[Entry]
    facets: list[Facet]
    pagination: ResultsPagination
    error: str | None = None

    @property
    def total(self) -> int:
        return self.results.total

    @property
    def has_filters(self) -> bool:
        return any(self.query.filters.values())


def parse_query(args: MultiDict, user: User | None, *, per_page: int = PER_PAGE) -> SearchQuery:
    """A SearchQuery from request arguments: q, sort, page, and one list per facet."""
    filters: dict[str, list[str]] = {}
    for facet in FACETS:
        values = [v.strip() for v in args.getlist(facet) if v and v.strip()]
        if values:
            filters[facet] = list(dict.fromkeys(values))[:MAX_FILTER_VALUES]
    sort = args.get("sort", "relevance")
    try:
        page = max(int(args.get("page", 1)), 1)
    except (TypeError, ValueError):
        page = 1
    return SearchQuery(
        text=(args.get("q") or "").strip()[:MAX_QUERY_LENGTH],
        filters=filters,
        audiences=permissions.audiences_for(user),
        sort=sort if sort in SORTS else "relevance",
        page=min(page, 1000),
        per_page=per_page,
        language=reader_language(),
    )


def reader_language() -> str:
    """The language the page is shown in ("" outside a request)."""
    try:
        return str(get_locale() or "")[:2]
    except (RuntimeError, KeyError):
        return ""


def run(query: SearchQuery, user: User | None, *, lean: bool = False) -> Browse:
    """``lean``: for the HTML list, which shows neither tags nor authors nor bodies: they
    are not loaded (the API's summaries need them)."""
    error = None
    try:
        results = search(query)
    except QuerySyntaxError as exc:
        results = SearchResults(hits=[], total=0, page=query.page, per_page=query.per_page)
        results.error = str(exc)
    if results.error:
        error = results.error
    entries = _entries(results.hits, user, lean=lean)
    facets = _facets(results, query, is_signed_in(user))
    pagination = ResultsPagination(
        page=query.page, per_page=query.per_page, max_per_page=None, error_out=False,
        items=entries, total=results.total,
    )
    return Browse(query=query, results=results, entries=entries, facets=facets,
                  pagination=pagination, error=error)


def browse(args: MultiDict, user: User | None, *, per_page: int = PER_PAGE,
           lean: bool = False) -> Browse:
    return run(parse_query(args, user, per_page=per_page), user, lean=lean)


# Markdown markup that means nothing in a one-line snippet: "## " headings, "> " quotes (the
# snippet is escaped HTML, so "&gt; "), "**", "__" and "`".
# (List markers are left alone: "-" and "1." are too often real text.)
MARKDOWN_NOISE = re.compile(r"(^|\s)(#{1,6}|&gt;)\s+|\*\*|__|`")


def clean_snippet(snippet: str) -> Markup:
    """The index's snippet, less the Markdown signs that would show as stray characters.

    The backends already escape it (``SearchHit.snippet``: escaped text with ``<mark>``;
    tests/search checks both), so it is not sanitised again: ``bleach.clean`` on 20
    snippets cost 5-14 ms per page (issue 12)."""
    return Markup(MARKDOWN_NOISE.sub(lambda m: m.group(1) or "", snippet or ""))


# What a list row does not show: left in the database for the HTML list.
LIST_DEFERRED = ("body", "rationale", "verification_notes", "approach", "results", "lessons",
                 "challenges", "next_steps", "review_note")


def _entries(hits: list[SearchHit], user: User | None, *, lean: bool = False) -> list[Entry]:
    ids = [hit.item_id for hit in hits]
    if not ids:
        return []
    options = [selectinload(LibraryItem.organisation)]
    if lean:
        options += [lazyload(LibraryItem.tags), lazyload(LibraryItem.authors),
                    *(defer(getattr(LibraryItem, name)) for name in LIST_DEFERRED)]
    # One query for the page's items with what each row shows (tags and authors load
    # with them, see the model), and the reader's groups asked once, not once per row.
    items = {
        item.id: item
        for item in db.session.scalars(
            select(LibraryItem)
            .options(*options)
            .where(LibraryItem.id.in_(ids))
        )
    }
    group_ids = permissions.active_group_ids(user)
    visible = [
        (hit, items[hit.item_id])
        for hit in hits
        if hit.item_id in items
        and items[hit.item_id].is_published
        and permissions.can_see(user, items[hit.item_id], group_ids=group_ids)
    ]
    keys = {item.translation_key for _, item in visible}
    # Only what "Also in" shows (id and language), not whole items with their tags and
    # authors: 268 objects per list page before (issue 12).
    siblings: dict[str, list[Sibling]] = {}
    for other in db.session.execute(
        service.visible_items_query(user)
        .with_only_columns(LibraryItem.id, LibraryItem.language, LibraryItem.translation_key)
        .where(LibraryItem.translation_key.in_(keys))
        .order_by(LibraryItem.language)
    ):
        siblings.setdefault(other.translation_key, []).append(
            Sibling(other.id, other.language))
    return [
        Entry(
            item=item,
            hit=hit,
            snippet=clean_snippet(hit.snippet),
            other_languages=[o for o in siblings.get(item.translation_key, []) if o.id != item.id],
        )
        for hit, item in visible
    ]


def facet_label(facet: str, code: str, organisations: dict[str, str]) -> str:
    if facet == "kind":
        return label(ItemKind(code)) if code in ItemKind.__members__ else code
    if facet == "phase":
        return label(Phase(code)) if code in Phase.__members__ else code
    if facet == "product_group":
        return str(PRODUCT_GROUPS.get(code, code))
    if facet == "theme":
        return str(THEMES.get(code, code))
    if facet == "language":
        return language_name(code)
    if facet == "country":
        return country_name(code.upper())
    if facet == "organisation":
        return organisations.get(code, code)
    return code


def _facets(results: SearchResults, query: SearchQuery, signed_in: bool) -> list[Facet]:
    org_codes = {code for code, _ in results.facets.get("organisation", [])}
    org_codes |= set(query.filters.get("organisation", []))
    organisations = {
        str(o.id): o.name
        for o in db.session.scalars(
            select(Organisation).where(
                Organisation.id.in_([int(c) for c in org_codes if c.isdigit()])
            )
        )
        # Hidden organisations are not named to visitors (as on the organisations page).
        if o.is_public or signed_in
    }
    facets = []
    for name in FACETS:
        counts = dict(results.facets.get(name, []))
        selected = [c.lower() if name != "organisation" else c for c in query.filters.get(name, [])]
        # A chosen value stays on screen (to be unticked) even when nothing matches it now.
        for code in selected:
            counts.setdefault(code, 0)
        options = [
            FacetOption(code, facet_label(name, code, organisations), count, code in selected)
            for code, count in counts.items()
            if name != "organisation" or code in organisations
        ]
        if name == "year":
            options.sort(key=lambda o: o.code, reverse=True)
        else:
            options.sort(key=lambda o: (-o.count, o.label.lower()))
        if options:
            facets.append(Facet(name=name, legend=FACET_LEGENDS[name](), options=options))
    return facets
