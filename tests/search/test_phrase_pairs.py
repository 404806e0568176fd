"""PostgreSQL phrases ask the index for documents holding their words next to each other
(``pairs``): the same matches as checking every document's positions, found from far
fewer documents."""

from __future__ import annotations

import pytest

from buyergroup.extensions import db
from buyergroup.search import postgres_backend
from buyergroup.search.service import get_backend, search
from buyergroup.search.types import AUDIENCE_PUBLIC, SearchDocument, SearchQuery
from tests.search.conftest import _app_for, _needs_postgres
from tests.search.test_estimates import _statements

VISITOR = [AUDIENCE_PUBLIC]

TEXTS = [
    ("en", "Due diligence in the supply chain", "Suppliers carry out due diligence."),
    ("en", "Diligence is due", "The report on diligence is due in May."),
    ("en", "Due-diligence clauses", "A clause on due-diligence of smelters."),
    ("en", "Code of conduct", "The supplier signs the code of conduct."),
    ("en", "Conduct a code review", "Code conduct code."),
    ("en", "Forced labour forced", "No forced forced labour; labour forced."),
    ("en", "Laptops", "Laptops and screens, with due care and diligence."),
    ("fr", "Devoir de vigilance", "Le devoir de vigilance des entreprises."),
    ("fr", "Vigilance", "La vigilance est un devoir."),
    ("nl", "Gepaste zorgvuldigheid", "Gepaste zorgvuldigheid in de keten."),
    ("de", "Sorgfaltspflicht", "Die menschenrechtliche Sorgfaltspflicht der Lieferkette."),
]

PHRASES = ['"due diligence"', '"diligence due"', '"due-diligence"', '"code of conduct"',
           '"code conduct"', '"forced labour"', '"labour forced"', '"forced forced labour"',
           '"devoir de vigilance"', '"gepaste zorgvuldigheid"', '"the supply chain"',
           '"due diligence" OR laptops', '"due diligence" -smelters',
           '"due diligence" "supply chain"', '"screens with due"', '"diligence in the"',
           '"menschenrechtliche Sorgfaltspflicht"', '"chain suppliers"']


@pytest.fixture(params=[_needs_postgres("postgresql", "postgresql", id="postgresql")])
def pg_app(request, search_apps, sqlite_search_url, _fresh):
    database, backend = request.param
    app = _app_for(request, search_apps, sqlite_search_url, database, backend)
    yield from _fresh(app)


def _index():
    get_backend().upsert([
        SearchDocument(ref=f"p:{n}", item_id=n, language=language, title=title, body=body,
                       audiences=[AUDIENCE_PUBLIC])
        for n, (language, title, body) in enumerate(TEXTS, 1)])


def _refs(text: str) -> set[str]:
    results = search(SearchQuery(text=text, audiences=VISITOR, per_page=50))
    return {hit.ref for hit in results.hits}


def test_phrases_find_what_the_positions_alone_find(pg_app, monkeypatch):
    _index()
    with_pairs = {text: _refs(text) for text in PHRASES}
    get_backend().results.clear()
    # The same searches with the pairs condition left out: every candidate's positions.
    monkeypatch.setattr(postgres_backend, "_pairs_query", lambda *args: None)
    without = {text: _refs(text) for text in PHRASES}

    assert with_pairs == without
    assert with_pairs['"due diligence"'] == {"p:1", "p:3"}
    assert with_pairs['"forced forced labour"'] == {"p:6"}
    assert with_pairs['"devoir de vigilance"'] == {"p:8"}


def test_a_phrase_asks_the_pairs_index(pg_app):
    _index()
    get_backend().results.size = 0
    with _statements() as sent:
        search(SearchQuery(text='"due diligence"', audiences=VISITOR))
    ranked = [s for s in sent if "ts_rank_cd" in s]
    assert ranked and "pairs @@" in ranked[0]

    with _statements() as sent:
        search(SearchQuery(text='"due diligence" OR laptops', audiences=VISITOR))
    assert not any("pairs @@" in s for s in sent if "ts_rank_cd" in s)


def test_the_migration_gives_existing_rows_their_pairs(pg_app):
    _index()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE {postgres_backend.SCHEMA}.search_documents SET pairs = ''")
        for statement in postgres_backend.UPGRADES_BY_REVISION["c6f1a8e3d207"]:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(
            f"UPDATE {postgres_backend.SCHEMA}.index_state SET generation = generation + 1")
    assert _refs('"due diligence"') == {"p:1", "p:3"}


def test_a_quote_or_backslash_in_a_phrase_is_only_text(pg_app):
    _index()
    assert _refs('"due\\\' diligence"') <= {"p:1", "p:3"}
    assert postgres_backend._quoted_lexeme("it's a\\b") == "'it''s a\\\\b'"
