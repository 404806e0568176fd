"""The search migration builds, on PostgreSQL, exactly what the PostgreSQL backend uses, and
leaves SQLite alone."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from buyergroup.extensions import db
from buyergroup.search.postgres_backend import (
    SCHEMA,
    SCHEMA_DDL,
    UPGRADES_BY_REVISION,
    PostgresBackend,
    _ddl,
    documents,
)
from buyergroup.search.types import FACETS, SearchDocument, SearchQuery
from tests.conftest import new_postgres_database

MIGRATION = "fff7216d57e0"
BEFORE = "12e2338377ba"
# Facets added later, each by its own migration (b7d1e4a9c2f0: ambition, verification).
LATER_FACETS = ("ambition", "verification")

# migrations/env.py calls db.get_engine(), which Flask-SQLAlchemy 3.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def keep_logging_as_it_was():
    """migrations/env.py runs logging.config.fileConfig, which disables existing loggers."""
    loggers = [logger for logger in logging.root.manager.loggerDict.values()
               if isinstance(logger, logging.Logger)]
    states = {logger: (logger.disabled, logger.level) for logger in loggers}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for logger, (disabled, logger_level) in states.items():
        logger.disabled = disabled
        logger.setLevel(logger_level)


def test_the_migration_holds_the_backends_ddl():
    """The migration keeps a frozen copy of the DDL; a change to one needs the other (in a
    new migration once this one has shipped)."""
    path = next(Path(__file__).resolve().parents[2].glob(f"migrations/versions/*_{MIGRATION}_*.py"))
    spec = importlib.util.spec_from_file_location("search_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    facets_then = tuple(f for f in FACETS if f not in LATER_FACETS)
    assert [s.strip() for s in migration.STATEMENTS] == [s.strip() for s in _ddl(facets_then)]


@pytest.mark.parametrize("revision", list(UPGRADES_BY_REVISION))
def test_each_later_migration_holds_the_backends_upgrades(revision):
    path = next(Path(__file__).resolve().parents[2].glob(f"migrations/versions/*_{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"search_upgrade_{revision}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert [s.strip() for s in migration.STATEMENTS] == [
        s.strip() for s in UPGRADES_BY_REVISION[revision]]


def _sqlite_schema() -> tuple[str, dict]:
    """The revision stamped in the database, and every table's columns and indexes."""
    inspector = inspect(db.engine)
    tables = {
        table: (
            sorted((c["name"], str(c["type"])) for c in inspector.get_columns(table)),
            sorted(str(sorted(i.items())) for i in inspector.get_indexes(table)),
        )
        for table in inspector.get_table_names()
    }
    with db.engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision, tables


def test_the_migration_is_a_no_op_on_sqlite(app_factory, tmp_path):
    app = app_factory(f"sqlite:///{tmp_path / 'm.sqlite'}")
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        revision, before = _sqlite_schema()
        assert revision == BEFORE
        assert "search_pending_updates" in before  # the schema the migration starts from

        flask_migrate.upgrade(revision=MIGRATION)
        revision, after = _sqlite_schema()
        assert revision == MIGRATION  # it ran...
        assert after == before  # ...and changed nothing in the database

        flask_migrate.downgrade(revision=BEFORE)
        revision, downgraded = _sqlite_schema()
        assert (revision, downgraded) == (BEFORE, before)
        db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set")
def test_the_migration_builds_what_the_backend_uses(app_factory):
    with new_postgres_database("buyergroup_search_migration") as url:
        app = app_factory(url, SEARCH_BACKEND="postgresql")
        with app.app_context():
            flask_migrate.upgrade()
            # The migration's frozen copy of the DDL still matches the backend's.
            with db.engine.begin() as connection:
                for statement in SCHEMA_DDL:
                    connection.exec_driver_sql(statement)  # idempotent: nothing to add
            backend = PostgresBackend(db.engine)
            backend.upsert([SearchDocument(ref="t:1", item_id=1, language="fr",
                                           title="Diligence raisonnée")])
            results = backend.search(SearchQuery(text="diligence raisonnee"), {})
            assert [hit.ref for hit in results.hits] == ["t:1"]
            columns = {c["name"] for c in inspect(db.engine).get_columns(
                "search_documents", schema=SCHEMA)}
            assert columns == {c.name for c in documents.columns}

            flask_migrate.downgrade(revision=BEFORE)
            assert SCHEMA not in inspect(db.engine).get_schema_names()
            db.session.remove()
            db.engine.dispose()
