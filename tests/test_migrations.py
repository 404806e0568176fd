"""The migrations build exactly the schema the models describe, and can be undone.

Each backend gets a fresh, empty database: a SQLite file, and a new PostgreSQL database when
TEST_DATABASE_URL is set (created here, dropped when the run ends).
"""

from __future__ import annotations

import logging
import os

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from buyergroup.extensions import db
from tests.conftest import new_postgres_database


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(autouse=True)
def keep_logging_as_it_was():
    """migrations/env.py runs logging.config.fileConfig: it replaces the root handlers and
    disables every existing logger (the app's included). Undo that for the tests after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = [
        logger for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    states = {logger: (logger.disabled, logger.level) for logger in loggers}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for logger, (disabled, logger_level) in states.items():
        logger.disabled = disabled
        logger.setLevel(logger_level)


@pytest.fixture(params=_backends())
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    with new_postgres_database("buyergroup_migrations") as url:
        yield url


@pytest.fixture
def migration_app(app_factory, empty_database_url):
    app = app_factory(empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_the_models_schema(migration_app):
    assert tables() == set()
    flask_migrate.upgrade()
    assert tables() == set(db.metadata.tables)
    assert schema_differences() == []


def test_downgrade_to_base_and_upgrade_again(migration_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert tables() == set()
    flask_migrate.upgrade()
    assert schema_differences() == []


def test_the_check_notices_a_missing_column(migration_app):
    # The comparison above is only worth something if it can see a difference.
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE organisations DROP COLUMN short_name"))
    differences = schema_differences()
    # Each difference is (operation, schema, table, column).
    assert [(d[0], d[2], d[3].name) for d in differences] == [
        ("add_column", "organisations", "short_name")
    ]
