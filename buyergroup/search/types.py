"""The contract between the search engine adapters and the rest of the application.

Nothing outside ``buyergroup.search`` imports Whoosh or PostgreSQL full-text functions:
callers build ``SearchDocument``s and ``SearchQuery``s and read ``SearchResults``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Facets a query can filter on and the results count. Values are codes (kind "criterion",
# language "nl", product_group "laptops", organisation "12", year "2021", ...).
FACETS = (
    "kind",
    "phase",
    "product_group",
    "theme",
    "language",
    "country",
    "organisation",
    "year",
    "ambition",
    "verification",
)

SORTS = ("relevance", "newest", "title")

# Audience codes: who may see a document. A searcher passes the audiences they belong to.
AUDIENCE_PUBLIC = "public"
AUDIENCE_MEMBERS = "members"
# Administrators: documents for a few named people (``user_audience``) are theirs too.
AUDIENCE_ADMINS = "admins"


def group_audience(group_id: int) -> str:
    return f"group:{group_id}"


def is_personal_audience(code: str) -> bool:
    """A ``user_audience``: one member's, not shared by a group or role."""
    return code.startswith("user:")


def user_audience(user_id: int) -> str:
    """One member: for documents only a few named people may see (an event's
    participants-only minutes name each participant and organiser). Every signed-in
    searcher passes their own, so the search asks the database nothing more."""
    return f"user:{user_id}"


@dataclass
class SearchDocument:
    ref: str  # "library_item:42": unique across the index
    item_id: int
    language: str  # "en", "nl", "fr" or "de": selects the analyser (stemmer, stop words)
    title: str
    summary: str = ""
    body: str = ""
    attachments_text: str = ""
    audiences: list[str] = field(default_factory=lambda: [AUDIENCE_PUBLIC])
    facets: dict[str, list[str]] = field(default_factory=dict)
    published_at: datetime | None = None
    # Documents with the same group are versions of one thing (an item's translations):
    # results show one per group, counts and facets count groups. "" means its own group.
    group: str = ""


@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # AND across, OR within
    audiences: list[str] = field(default_factory=lambda: [AUDIENCE_PUBLIC])
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    expand_languages: bool = True  # use the glossary to also match other languages
    # The reader's language ("de"): of a group's matching versions, this one is shown; and
    # "did you mean" offers only words of the query's language (this, or a single language
    # filter). "" means no preference.
    language: str = ""


@dataclass
class SearchHit:
    item_id: int
    ref: str
    language: str
    score: float
    snippet: str = ""  # safe HTML: escaped text with <mark> around matches


@dataclass
class SearchResults:
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None  # "did you mean", only if it finds visible results
    expansions: list[str] = field(default_factory=list)  # glossary terms added to the query
    error: str | None = None  # a query the parser could not read, explained
    partial: bool = False  # the time limit cut the search short: hits and counts are a part
    # Past the backend's exact limit, ``total`` and the facet counts are estimated from a
    # sample of the matches (and said to be about so many); the hits are the sample's best,
    # and ``reachable`` of them can be paged through.
    estimated: bool = False
    reachable: int | None = None

    @property
    def pageable(self) -> int:
        """How many results the pages can show."""
        return self.total if self.reachable is None else min(self.total, self.reachable)


class QuerySyntaxError(ValueError):
    """The user's query could not be parsed; the message says why in plain words."""


class IndexBusy(RuntimeError):
    """Another process or thread holds the index writer lock and did not let go in time."""


class SearchBackend(Protocol):
    name: str

    def upsert(self, documents: list[SearchDocument]) -> None: ...

    def delete(self, refs: list[str]) -> None: ...

    def search(self, query: SearchQuery, expansions: dict[str, list[str]]) -> SearchResults: ...

    def rebuild(self, documents: Iterable[SearchDocument], *, procs: int | None = None) -> int:
        ...

    def refs(self) -> set[str]: ...

    def count(self) -> int: ...

    def writer_lock(self, timeout: float) -> AbstractContextManager[None]:
        """Hold the one-writer-at-a-time lock (re-entrant within a thread); raise IndexBusy
        after ``timeout`` seconds."""
        ...
