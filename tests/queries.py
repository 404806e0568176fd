"""Counting the SQL statements a request sends (SQLAlchemy's ``before_cursor_execute``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from buyergroup.extensions import db

WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, in order."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


#: The test's own statements: each test runs in a transaction rolled back at its end.
TEST_OWN = ("SAVEPOINT", "RELEASE", "ROLLBACK")


def statements_for(client, url: str) -> list[str]:
    """The statements of one GET of ``url`` once warm (templates compiled, the session's
    user cached by the first request), without the test's own; the page must answer 200."""
    client.get(url)
    with statements() as sent:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return [s for s in sent if not s.lstrip().upper().startswith(TEST_OWN)]


def count_for(client, url: str) -> int:
    """Statements for one GET of ``url`` once warm (the first request fills caches)."""
    assert client.get(url).status_code == 200
    with statements() as sent:
        assert client.get(url).status_code == 200
    return len(sent)


def writes_in(sent: list[str]) -> list[str]:
    return [s for s in sent if s.lstrip().upper().startswith(WRITES)]
