"""Apps for the search tests: each search backend on the database it runs with.

* ``search_app``: the backend contract, on Whoosh (SQLite database) and on PostgreSQL
  full-text search (PostgreSQL database, when TEST_DATABASE_URL is set; with
  REQUIRE_POSTGRES=1 a missing URL fails the run, see tests/conftest.py).
* ``queue_app``: the update queue, also with Whoosh on PostgreSQL (``FOR UPDATE SKIP
  LOCKED`` there).

Every test gets an empty database, a Whoosh index folder of its own and an empty
PostgreSQL search schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask

from buyergroup.extensions import db
from buyergroup.search import postgres_backend
from buyergroup.search.expansion import invalidate_expansions
from buyergroup.search.service import init_app
from tests.conftest import empty_all_tables
from tests.search.helpers import register_library_source, registrations_restored

HAS_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def _needs_postgres(*values: str, id: str):  # noqa: A002 - pytest's own keyword
    marks = [pytest.mark.postgres]
    if not HAS_POSTGRES:
        marks.append(pytest.mark.skip(reason="TEST_DATABASE_URL is not set"))
    return pytest.param(values, id=id, marks=marks)


CONTRACT_PARAMS = [
    pytest.param(("sqlite", "whoosh"), id="whoosh"),
    _needs_postgres("postgresql", "postgresql", id="postgresql"),
]
QUEUE_PARAMS = [
    pytest.param(("sqlite", "whoosh"), id="whoosh-sqlite"),
    _needs_postgres("postgresql", "whoosh", id="whoosh-postgresql"),
    _needs_postgres("postgresql", "postgresql", id="postgresql"),
]


@pytest.fixture(scope="session")
def search_apps(app_factory, tmp_path_factory):
    """Build (once) the app for a database kind and search backend."""
    apps: dict[tuple[str, str], Flask] = {}

    def get(database_url: str, database: str, backend: str) -> Flask:
        key = (database, backend)
        if key not in apps:
            app = app_factory(database_url, SEARCH_BACKEND=backend)
            init_app(app)
            with app.app_context():
                db.create_all()
                if database == "postgresql":
                    with db.engine.begin() as connection:
                        postgres_backend.install(connection)
            apps[key] = app
        return apps[key]

    yield get
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_search_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('search-db') / 'search.sqlite'}"


def _empty_everything() -> None:
    if db.engine.dialect.name == "postgresql":
        empty_all_tables(f"{postgres_backend.SCHEMA}.search_documents",
                         f"{postgres_backend.SCHEMA}.search_words")
    else:
        empty_all_tables()


def _app_for(request, search_apps, sqlite_search_url, database: str, backend: str) -> Flask:
    url = request.getfixturevalue("postgres_url") if database == "postgresql" \
        else sqlite_search_url
    return search_apps(url, database, backend)


@pytest.fixture
def _fresh(tmp_path):
    """Run the test inside ``app`` with empty tables and a new index folder."""

    def enter(app: Flask) -> Iterator[Flask]:
        app.config["INDEX_FOLDER"] = str(tmp_path / "index")
        app.config["SEARCH_APPLY_ON_COMMIT"] = True
        app.extensions.pop("buyergroup.search", None)
        with app.app_context():
            _empty_everything()
            # Emptying tables with bulk SQL bypasses the session hooks: drop the glossary
            # cache as a glossary service would after a change.
            invalidate_expansions()
            with registrations_restored():
                yield app
            db.session.rollback()
            db.session.remove()
            _empty_everything()
        app.extensions.pop("buyergroup.search", None)

    return enter


@pytest.fixture(params=CONTRACT_PARAMS)
def search_app(request, search_apps, sqlite_search_url, _fresh) -> Iterator[Flask]:
    database, backend = request.param
    yield from _fresh(_app_for(request, search_apps, sqlite_search_url, database, backend))


@pytest.fixture(params=QUEUE_PARAMS)
def queue_app(request, search_apps, sqlite_search_url, _fresh) -> Iterator[Flask]:
    """An app whose ``LibraryItem`` changes reach the index (through tests/search/helpers)."""
    database, backend = request.param
    app = _app_for(request, search_apps, sqlite_search_url, database, backend)
    for entered in _fresh(app):
        register_library_source()
        yield entered
