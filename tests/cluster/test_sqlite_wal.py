"""SQLite: every connection in WAL mode with a busy timeout, so a reader never blocks a writer."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import func, select

from buyergroup.accounts.models import Role, User
from buyergroup.accounts.service import create_user
from buyergroup.extensions import db

BUSY_MS = 3000


@pytest.fixture
def sqlite_app(app_factory, tmp_path):
    app = app_factory(f"sqlite:///{tmp_path / 'wal.sqlite'}", SQLITE_BUSY_TIMEOUT_MS=BUSY_MS)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _count(connection) -> int:
    return connection.execute(select(func.count()).select_from(User)).scalar_one()


def test_every_connection_has_wal_and_the_busy_timeout(sqlite_app):
    for _ in range(2):  # the pool's first connection and a fresh one
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_MS
        db.engine.dispose()


def test_a_reader_in_a_transaction_does_not_block_a_writer(sqlite_app):
    reader = db.engine.connect()
    try:
        reader.exec_driver_sql("BEGIN")  # a read transaction: holds its snapshot (a lock)
        assert _count(reader) == 0

        started = time.monotonic()
        create_user(email="writer@example.org", password="correct horse battery",
                    role=Role.member, name="Wendy Writer")
        db.session.commit()  # would wait for the reader, then fail, without WAL
        elapsed = time.monotonic() - started

        assert elapsed < 1.0, f"the writer waited {elapsed:.2f} s for a reader"
        assert _count(reader) == 0  # the reader keeps reading its own snapshot
        reader.rollback()
        assert _count(reader) == 1  # and sees the write once its transaction ends
    finally:
        reader.close()


def test_without_wal_the_same_reader_blocks_the_writer(tmp_path):
    """What the setting prevents (so the test above can fail): SQLite's default journal."""
    path = tmp_path / "journal.sqlite"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.commit()
    setup.close()
    reader = sqlite3.connect(path, isolation_level=None)
    writer = sqlite3.connect(path, timeout=0.3)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()
        writer.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            writer.commit()
    finally:
        reader.close()
        writer.close()
