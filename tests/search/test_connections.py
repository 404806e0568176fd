"""A search request holds one database connection, and leaves it as it found it.

Issue 8: 50 concurrent signed-in searches exhausted a pool of 15 because each held its
request's connection and asked for a second one (for the glossary check, and for the
PostgreSQL search). A search now reads on the request's own connection.
"""

from __future__ import annotations

from sqlalchemy import event, text

from buyergroup.extensions import db
from buyergroup.search.service import search
from buyergroup.search.types import AUDIENCE_PUBLIC, SearchQuery
from tests.search.helpers import make_item, register_library_source


def test_a_search_uses_the_connection_its_request_already_holds(search_app):
    register_library_source()
    make_item("Procurement of laptops")
    db.session.commit()
    db.session.execute(text("SELECT 1"))
    pool = db.engine.pool
    most: list[int] = []

    def on_checkout(*_):
        most.append(pool.checkedout())

    event.listen(pool, "checkout", on_checkout)
    try:
        for words in ("laptops", "laptps", '"procurement of"'):
            results = search(SearchQuery(text=words, audiences=[AUDIENCE_PUBLIC]))
            assert results.error is None
    finally:
        event.remove(pool, "checkout", on_checkout)
    assert most == []  # not one more connection taken from the pool
    assert search(SearchQuery(text="laptops", audiences=[AUDIENCE_PUBLIC])).total == 1


def test_a_search_leaves_the_request_transaction_as_it_was(search_app):
    register_library_source()
    make_item("Procurement of laptops")
    db.session.commit()
    before = db.session.execute(text("SELECT 1")).scalar_one()
    search(SearchQuery(text="laptops", audiences=[AUDIENCE_PUBLIC]))
    if db.engine.dialect.name == "postgresql":
        # The PostgreSQL search sets a statement timeout and turns sequential scans off
        # for itself only (inside a savepoint it rolls back).
        assert db.session.execute(text("SHOW enable_seqscan")).scalar_one() == "on"
        assert db.session.execute(text("SHOW statement_timeout")).scalar_one() == "0"
    # The request's own work carries on in the same transaction.
    make_item("Procurement of servers")
    db.session.commit()
    assert before == 1
    assert search(SearchQuery(text="servers", audiences=[AUDIENCE_PUBLIC])).total == 1


def test_the_pool_is_sized_from_the_settings(tmp_path):
    from buyergroup import create_app

    def pool_of(**config):
        app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, **config})
        with app.app_context():
            return db.engine.pool

    pool = pool_of(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert (pool.size(), pool._max_overflow, pool._timeout) == (10, 20, 30)
    pool = pool_of(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'b.sqlite'}",
                   DATABASE_POOL_SIZE=4, DATABASE_MAX_OVERFLOW=2, DATABASE_POOL_TIMEOUT=5)
    assert (pool.size(), pool._max_overflow, pool._timeout) == (4, 2, 5)
    # One shared connection for an in-memory database: nothing to size, and no error.
    assert type(pool_of(SQLALCHEMY_DATABASE_URI="sqlite://")).__name__ == "StaticPool"
