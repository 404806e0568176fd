"""Searches with very many matches: past SEARCH_EXACT_COUNT_LIMIT matching documents the
backend folds and counts a sample (whole groups; PostgreSQL ranks only the sample too) and
scales the counts; the results say so (``estimated``) and page only through the sample.

The limits here are small (the defaults are 5,000 and 3,000) so that a few hundred
documents exercise the same statements as 100,000 do; docs/performance.md has the
accuracy measured at 100,000 items (``bench/pages.py --estimates``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from buyergroup.extensions import db
from buyergroup.search import common, postgres_backend
from buyergroup.search.service import get_backend, search
from buyergroup.search.types import (
    AUDIENCE_MEMBERS,
    AUDIENCE_PUBLIC,
    SearchDocument,
    SearchQuery,
)
from tests.search.conftest import CONTRACT_PARAMS, _app_for, _needs_postgres

VISITOR = [AUDIENCE_PUBLIC]
MEMBER = [AUDIENCE_PUBLIC, AUDIENCE_MEMBERS]
KINDS = ("criterion", "clause", "case_study")
ITEMS = 600


def _sampled(request, search_apps, sqlite_search_url, _fresh):
    database, backend = request.param
    app = _app_for(request, search_apps, sqlite_search_url, database, backend)
    before = {key: app.config.get(key) for key in ("SEARCH_EXACT_COUNT_LIMIT",
                                                     "SEARCH_SAMPLE_SIZE")}
    app.config.update(SEARCH_EXACT_COUNT_LIMIT=100, SEARCH_SAMPLE_SIZE=300)
    try:
        yield from _fresh(app)
    finally:
        app.config.update(before)


@pytest.fixture(params=CONTRACT_PARAMS)
def sampled_app(request, search_apps, sqlite_search_url, _fresh):
    """Both backends, with a limit of 100 matches and samples of about 300."""
    yield from _sampled(request, search_apps, sqlite_search_url, _fresh)


@pytest.fixture(params=[_needs_postgres("postgresql", "postgresql", id="postgresql")])
def pg_sampled_app(request, search_apps, sqlite_search_url, _fresh):
    yield from _sampled(request, search_apps, sqlite_search_url, _fresh)


def _library(count: int = ITEMS) -> list[SearchDocument]:
    """``count`` items about procurement (every third about laptops too, every tenth for
    members only), every fifth with a Dutch translation in its group."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    documents = []
    for n in range(1, count + 1):
        words = "procurement laptops" if n % 3 == 0 else "procurement servers"
        if n == 7:
            words += " wolframite"
        audiences = [AUDIENCE_MEMBERS] if n % 10 == 0 else [AUDIENCE_PUBLIC]
        group = f"item:{n}" if n % 5 == 0 else ""
        common = dict(item_id=n, audiences=audiences, group=group,
                      published_at=start + timedelta(days=n))
        documents.append(SearchDocument(
            ref=f"t:{n}", language="en", title=f"Item {n} on {words}",
            body=f"A text about {words} and ethical ICT.",
            facets={"kind": [KINDS[n % 3]], "language": ["en"]}, **common))
        if group:
            documents.append(SearchDocument(
                ref=f"t:{n}:nl", language="nl", title=f"Stuk {n} over aankopen",
                body="Een tekst over procurement en ethische ICT.",
                facets={"kind": [KINDS[n % 3]], "language": ["nl"]}, **common))
    return documents


def _exact(query: SearchQuery):
    """The same search with every match counted (and not the remembered estimate)."""
    backend = get_backend()
    limit, backend.exact_limit = backend.exact_limit, 0
    backend.results.clear()
    try:
        return search(query)
    finally:
        backend.exact_limit = limit
        backend.results.clear()


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The statements sent meanwhile."""
    sent: list[str] = []

    def record(*args) -> None:
        sent.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_past_the_limit_the_counts_are_estimated_from_a_sample(sampled_app):
    get_backend().upsert(_library())
    query = SearchQuery(text="procurement", audiences=MEMBER, language="en")
    estimated, exact = search(query), _exact(query)

    assert estimated.estimated and not exact.estimated
    assert exact.total == ITEMS  # the Dutch versions fold into their items
    assert abs(estimated.total - exact.total) <= 0.1 * exact.total
    # Each facet value near its exact count; every value seen.
    kinds, exact_kinds = dict(estimated.facets["kind"]), dict(exact.facets["kind"])
    assert kinds.keys() == exact_kinds.keys()
    for kind, count in exact_kinds.items():
        assert abs(kinds[kind] - count) <= 0.25 * count, (kind, kinds[kind], count)
    # The page is the sample's best, one per item, in the reader's language.
    assert len(estimated.hits) == 20
    assert len({hit.item_id for hit in estimated.hits}) == 20
    assert all(hit.language == "en" for hit in estimated.hits)
    scores = [hit.score for hit in estimated.hits]
    assert scores == sorted(scores, reverse=True)
    # Only the sample can be paged through: fewer than the estimate, more than a page.
    assert 20 < estimated.pageable < estimated.total


def test_no_limit_counts_everything(sampled_app):
    get_backend().upsert(_library())
    for limit in (0, -1):  # SEARCH_EXACT_COUNT_LIMIT=0 (or below): always exact
        get_backend().exact_limit = limit
        get_backend().results.clear()
        results = search(SearchQuery(text="procurement", audiences=MEMBER))
        assert not results.estimated and results.total == ITEMS


def test_within_the_limit_the_counts_are_exact(sampled_app):
    get_backend().upsert(_library())
    rare = search(SearchQuery(text="wolframite", audiences=MEMBER))
    assert rare.total == 1 and not rare.estimated and rare.pageable == 1
    # 200 items about laptops: past the limit of 100, but a sample of 300 would be all of
    # them, so all of them are counted.
    laptops = search(SearchQuery(text="laptops", audiences=MEMBER))
    assert laptops.total == 200 and not laptops.estimated


@pytest.mark.parametrize("sort", ["newest", "title"])
def test_a_search_sorted_otherwise_than_by_relevance_orders_all_its_matches(sampled_app, sort):
    """The newest first means the newest of all the matches, not of a sample."""
    get_backend().upsert(_library())
    results = search(SearchQuery(text="procurement", audiences=MEMBER, sort=sort,
                                 language="en"))
    assert not results.estimated and results.total == ITEMS
    if sort == "newest":
        assert [hit.item_id for hit in results.hits[:3]] == [600, 599, 598]


def test_a_sample_holds_only_what_the_searcher_may_see(sampled_app):
    get_backend().upsert(_library())
    visitor = search(SearchQuery(text="procurement", audiences=VISITOR, per_page=100))
    member = _exact(SearchQuery(text="procurement", audiences=MEMBER))

    assert visitor.estimated
    assert all(hit.item_id % 10 for hit in visitor.hits)  # no members-only item
    page = 2
    while visitor.hits:
        visitor = search(SearchQuery(text="procurement", audiences=VISITOR, per_page=100,
                                     page=page))
        assert all(hit.item_id % 10 for hit in visitor.hits)
        page += 1
    # The visitor's estimate is of the 540 public items, not of the members' 600.
    estimate = search(SearchQuery(text="procurement", audiences=VISITOR)).total
    assert abs(estimate - 540) <= 54 and estimate < member.total


def test_the_pages_of_a_sample_do_not_repeat_and_end_with_it(sampled_app):
    get_backend().upsert(_library())
    seen: list[int] = []
    page = 1
    first = search(SearchQuery(text="procurement", audiences=MEMBER, page=1))
    while True:
        results = search(SearchQuery(text="procurement", audiences=MEMBER, page=page))
        if not results.hits:
            break
        seen += [hit.item_id for hit in results.hits]
        page += 1
    assert len(seen) == len(set(seen)) == first.pageable


def test_one_statement_within_the_limit_two_past_it(pg_sampled_app):
    get_backend().upsert(_library())
    backend = get_backend()
    backend.results.size = 0
    with _statements() as sent:
        search(SearchQuery(text="wolframite", audiences=MEMBER))
    within = [s for s in sent if "ts_rank_cd" in s]
    with _statements() as sent:
        search(SearchQuery(text="procurement", audiences=MEMBER))
    past = [s for s in sent if "ts_rank_cd" in s]

    assert len(within) == 1 and "counted" in within[0]
    assert len(past) == 2 and "zqxsample" in past[1]


def test_rows_without_sample_marks_are_counted_exactly(pg_sampled_app):
    """An index written before the marks (until a reindex) is searched as before."""
    get_backend().upsert(_library())
    marks = ", ".join(f"'{postgres_backend.SAMPLE_MARK}{n}'"
                      for n in range(postgres_backend.SAMPLE_BUCKETS))
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE {postgres_backend.SCHEMA}.search_documents "
            f"SET tsv = ts_delete(tsv, ARRAY[{marks}])")
        connection.exec_driver_sql(
            f"UPDATE {postgres_backend.SCHEMA}.index_state SET generation = generation + 1")
    results = search(SearchQuery(text="procurement", audiences=MEMBER))
    assert not results.estimated and results.total == ITEMS

    # The migration's statement gives them back.
    with db.engine.begin() as connection:
        for statement in postgres_backend.UPGRADES_BY_REVISION["b5e8d2c4a913"]:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(
            f"UPDATE {postgres_backend.SCHEMA}.index_state SET generation = generation + 1")
    assert search(SearchQuery(text="procurement", audiences=MEMBER)).estimated


def test_both_backends_put_a_group_in_the_same_bucket(pg_sampled_app):
    """common.sample_bucket (Whoosh's sample field) and PostgreSQL's marks agree."""
    keys = ["library_item:1", "test:7", "discussion:42", "item:élan"]
    with db.engine.connect() as connection:
        buckets = [connection.exec_driver_sql(
            f"SELECT {postgres_backend._BUCKET_SQL.replace('group_key', '%(key)s')}",
            {"key": key}).scalar_one() for key in keys]
    assert buckets == [common.sample_bucket(key) for key in keys]
