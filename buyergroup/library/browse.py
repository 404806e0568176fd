"""Browsing and searching the library: one function for the page and the API.

Hits, counts and facets all come from the search index, which filters by the searcher's
audiences; the items are then loaded from the database in rank order and checked once more
with ``permissions.can_see`` (an index a moment behind the database must never show more).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import defer, joinedload, lazyload
from werkzeug.datastructures import MultiDict

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.extensions import db
from buyergroup.i18n import current_locale_name
from buyergroup.library import permissions, service
from buyergroup.library.models import Ambition, ItemKind, LibraryItem, Phase
from buyergroup.library.search_documents import PREFIX as LIBRARY_PREFIX
from buyergroup.network.models import Organisation
from buyergroup.search.service import present_hits, registered_sources, search, source_of
from buyergroup.search.types import (
    FACETS,
    SORTS,
    QuerySyntaxError,
    SearchHit,
    SearchQuery,
    SearchResults,
    is_personal_audience,
)
from buyergroup.templating import label
from buyergroup.vocabulary import (
    PRODUCT_GROUPS,
    THEMES,
    country_name,
    language_name,
    verification_label,
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
    "ambition": lambda: _("Ambition level"),
    "verification": lambda: _("Verification"),
}
SORT_LABELS = {
    "relevance": lambda: _("Relevance"),
    "newest": lambda: _("Newest first"),
    "title": lambda: _("Title (A–Z)"),
}


@dataclass(frozen=True)
class ExtraSort:
    """A sort that a domain above the library provides (the toolkit's "most used"): the
    index ranks, then ``values(item_ids)`` reorders the first ``EXTRA_SORT_WINDOW`` hits."""

    label: Callable[[], str]
    values: Callable[[list[int]], dict[int, float]]


EXTRA_SORTS: dict[str, ExtraSort] = {}
EXTRA_SORT_WINDOW = 500
# Mild boosts of relevance within a page of hits: item ids -> a factor's addend (0.1 = +10 %).
RANK_BOOSTS: list[Callable[[list[int]], dict[int, float]]] = []


def sort_choices() -> list[tuple[str, str]]:
    return [(code, SORT_LABELS[code]()) for code in SORTS] + [
        (code, extra.label()) for code, extra in EXTRA_SORTS.items()]


def _library_ids(hits: list[SearchHit]) -> dict[str, int]:
    """Hit ref -> library item id, for the hits that are library items (not other sources)."""
    from buyergroup.library.search_documents import PREFIX

    return {h.ref: h.item_id for h in hits if h.ref.startswith(f"{PREFIX}:")}


def _search_sorted_by(extra: ExtraSort, query: SearchQuery) -> SearchResults:
    results = search(replace(query, sort="relevance", page=1, per_page=EXTRA_SORT_WINDOW))
    ids = _library_ids(results.hits)
    values = extra.values(list(ids.values()))
    ranked = sorted(results.hits,  # stable: relevance orders what the values do not
                    key=lambda hit: -values.get(ids.get(hit.ref, -1), 0))
    start = (query.page - 1) * query.per_page
    results.hits, results.page, results.per_page = (
        ranked[start:start + query.per_page], query.page, query.per_page)
    return results


def _boost(results: SearchResults) -> None:
    ids = _library_ids(results.hits)
    boosts = [boost(list(ids.values())) for boost in RANK_BOOSTS]
    if any(boosts):
        factor = {ref: 1 + sum(b.get(i, 0) for b in boosts) for ref, i in ids.items()}
        results.hits.sort(key=lambda hit: -hit.score * factor.get(hit.ref, 1))


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
        text=query_text(args),
        filters=filters,
        audiences=permissions.audiences_for(user),
        sort=sort if sort in SORTS or sort in EXTRA_SORTS else "relevance",
        page=min(page, 1000),
        per_page=per_page,
        language=reader_language(),
    )


def query_text(args: MultiDict) -> str:
    """The words searched for, as the page shows them."""
    return (args.get("q") or "").strip()[:MAX_QUERY_LENGTH]


def reader_language() -> str:
    """The language the page is shown in (English outside a request)."""
    return current_locale_name()[:2]


def run(query: SearchQuery, user: User | None, *, lean: bool = False,
        shown_filters: dict | None = None) -> Browse:
    """``lean``: for the HTML list, which shows neither tags nor authors nor bodies: they
    are not loaded (the API's summaries need them). ``shown_filters``: the filters the page
    and its facets show, when the search ran with narrower ones (``browse``)."""
    error = None
    try:
        extra = EXTRA_SORTS.get(query.sort)
        results = search(query) if extra is None else _search_sorted_by(extra, query)
        if query.sort == "relevance" and query.text and RANK_BOOSTS:
            _boost(results)
    except QuerySyntaxError as exc:
        results = SearchResults(hits=[], total=0, page=query.page, per_page=query.per_page)
        results.error = str(exc)
    if results.error:
        error = results.error
    entries = _entries(results.hits, user, lean=lean)
    if shown_filters is not None:
        query.filters = shown_filters
    facets = _facets(results, query, is_signed_in(user))
    pagination = ResultsPagination(
        page=query.page, per_page=query.per_page, max_per_page=None, error_out=False,
        items=entries, total=results.pageable,
    )
    return Browse(query=query, results=results, entries=entries, facets=facets,
                  pagination=pagination, error=error)


def browse(args: MultiDict, user: User | None, *, per_page: int = PER_PAGE,
           library_only: bool = False, lean: bool = False) -> Browse:
    """``library_only``: library items only, without the other sources' documents
    (discussions, event notes), for the library's API; browsing without words and without
    a kind is library-only too. The filters shown are still the ones asked for."""
    query = parse_query(args, user, per_page=per_page)
    if not (library_only or _lists_library_only(query)):
        return run(query, user, lean=lean)
    asked = dict(query.filters)
    given = asked.get("kind", [])
    kinds = [k for k in given if k in ItemKind.__members__]
    query.filters = {**asked, "kind": kinds or (["none"] if given else list(ItemKind.__members__))}
    return run(query, user, lean=lean, shown_filters=asked)


def _lists_library_only(query: SearchQuery) -> bool:
    """Browsing without words and without a kind lists library items; words (or a kind,
    which may be another source's) search every source."""
    return not query.text and not query.filters.get("kind")


def results_audience(args: MultiDict, user: User | None) -> tuple:
    """What decides the results page of ``args`` for ``user`` besides the address, the
    language and the time zone: readers with the same share its kept region
    (``core/kept_regions.py``). Their search audiences and whether they moderate (which
    items ``permissions.can_see`` admits); their own audience only where the page lists
    other sources' documents, which may name their few readers (no library item does)."""
    query = parse_query(args, user)
    audiences = query.audiences
    if _lists_library_only(query):
        audiences = [code for code in audiences if not is_personal_audience(code)]
    return (permissions.is_moderator(user), *audiences)


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


@functools.cache
def _items_statement(lean: bool):
    """The page's items by id, the organisation in the same statement (a second one with
    selectinload); the lean list leaves the long texts, tags and authors in the database.
    Made once: its dozen loader options were about 1 ms of every results page."""
    options = [joinedload(LibraryItem.organisation)]
    if lean:
        options += [lazyload(LibraryItem.tags), lazyload(LibraryItem.authors),
                    *(defer(getattr(LibraryItem, name)) for name in LIST_DEFERRED)]
    return (select(LibraryItem).options(*options)
            .where(LibraryItem.id.in_(bindparam("ids", expanding=True))))


def _entries(hits: list[SearchHit], user: User | None, *, lean: bool = False) -> list:
    """The page's results in rank order: library items as ``Entry``, hits of the other
    sources (discussions) as their source presents them (``search.service.present_hits``)."""
    library_hits = [hit for hit in hits if source_of(hit.ref) == LIBRARY_PREFIX]
    others = present_hits([hit for hit in hits if source_of(hit.ref) != LIBRARY_PREFIX], user)
    for result in others.values():
        result.snippet = clean_snippet(result.hit.snippet)
    library = {entry.hit.ref: entry
               for entry in _library_entries(library_hits, user, lean=lean)}
    return [
        shown for hit in hits
        if (shown := library.get(hit.ref) or others.get(hit.ref)) is not None
    ]


def _library_entries(hits: list[SearchHit], user: User | None, *,
                     lean: bool = False) -> list[Entry]:
    ids = [hit.item_id for hit in hits]
    if not ids:
        return []
    # One query for the page's items with what each row shows (tags and authors load
    # with them, see the model), and the reader's groups asked once, not once per row.
    items = {
        item.id: item
        for item in db.session.scalars(_items_statement(lean), {"ids": ids})
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


#: Facet labels by language, facet and code: a search page shows some 70, each a catalogue
#: or locale lookup. Codes may come from the address, so the dictionary is bounded.
_FACET_LABELS: dict[tuple[str, str, str], str] = {}
_FACET_LABELS_KEPT = 5_000


def facet_label(facet: str, code: str, organisations: dict[str, str]) -> str:
    if facet == "organisation":
        return organisations.get(code, code)
    key = (current_locale_name(), facet, code)
    found = _FACET_LABELS.get(key)
    if found is None:
        if len(_FACET_LABELS) >= _FACET_LABELS_KEPT:
            _FACET_LABELS.clear()
        found = _FACET_LABELS[key] = _facet_label(facet, code)
    return found


def _facet_label(facet: str, code: str) -> str:
    if facet == "kind":
        if code in ItemKind.__members__:
            return label(ItemKind(code))
        # Another source's documents (discussions) carry its prefix as their kind.
        source = registered_sources().get(code)
        return str(source.label) if source is not None and source.label else code
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
    if facet == "ambition":
        return label(Ambition(code)) if code in {a.value for a in Ambition} else code
    if facet == "verification":
        return verification_label(code)
    return code


#: The organisation facet's names: the columns it shows, by a statement made once.
_ORGANISATION_NAMES = select(Organisation.id, Organisation.name, Organisation.is_public).where(
    Organisation.id.in_(bindparam("ids", expanding=True)))


def _facets(results: SearchResults, query: SearchQuery, signed_in: bool) -> list[Facet]:
    org_codes = {code for code, _ in results.facets.get("organisation", [])}
    org_codes |= set(query.filters.get("organisation", []))
    ids = [int(c) for c in org_codes if c.isdigit() and len(c) < 10]
    organisations = {
        str(o.id): o.name
        for o in (db.session.execute(_ORGANISATION_NAMES, {"ids": ids}) if ids else ())
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
        elif name == "ambition":  # the scale's order, 1 to 3
            options.sort(key=lambda o: o.code)
        else:
            options.sort(key=lambda o: (-o.count, o.label.lower()))
        if options:
            facets.append(Facet(name=name, legend=FACET_LEGENDS[name](), options=options))
    return facets
