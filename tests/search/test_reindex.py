"""A rebuild does not interrupt searching, and ends with a complete index."""

from __future__ import annotations

import threading
import time

import pytest

from buyergroup.search import service
from buyergroup.search.service import get_backend, reindex, search
from buyergroup.search.types import SearchDocument, SearchQuery


def make_documents(count: int) -> dict[int, SearchDocument]:
    return {
        n: SearchDocument(ref=f"bulk:{n}", item_id=n, language=("en", "nl", "fr", "de")[n % 4],
                          title=f"Document {n}", body="Gemeinsam common shared procurement text.")
        for n in range(1, count + 1)
    }


def test_searches_keep_working_during_a_reindex(search_app):
    documents = make_documents(300)
    rebuilding = threading.Event()
    totals: list[int] = []
    errors: list[BaseException] = []
    during: list[int] = []  # what searches answered while the rebuild was under way

    def slow_loader(item_id: int) -> SearchDocument | None:
        time.sleep(0.001)  # a real loader reads the database: make the rebuild take a while
        if rebuilding.is_set():
            if item_id == 1:
                during.append(len(totals))  # where the rebuild began
            elif item_id == 175:
                # Halfway through the rebuild: let searches be answered meanwhile (this
                # test proves nothing if none ran before the new index went live).
                deadline = time.monotonic() + 30
                while len(totals) - during[0] < 5 and not errors and time.monotonic() < deadline:
                    time.sleep(0.01)
                during[:] = totals[during[0]:]
        return documents.get(item_id)

    service.register_source("bulk", slow_loader, lambda: list(documents))
    assert reindex() == 300
    documents.update(make_documents(350))  # 50 more by the time of the next rebuild
    done = threading.Event()

    def keep_searching() -> None:
        with search_app.app_context():
            while not done.is_set():
                try:
                    totals.append(search(SearchQuery(text="procurement", per_page=5)).total)
                except BaseException as error:  # noqa: BLE001 - collected for the assertion
                    errors.append(error)
                    return

    def rebuild(result: list[int]) -> None:
        with search_app.app_context():
            result.append(reindex())

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    rebuilt: list[int] = []
    rebuilding.set()
    rebuilder = threading.Thread(target=rebuild, args=(rebuilt,))
    rebuilder.start()
    rebuilder.join(timeout=120)
    time.sleep(0.05)
    done.set()
    searcher.join(timeout=60)

    assert errors == []
    assert rebuilt == [350]
    # Searches ran, and answered from the complete old index, while the rebuild went on.
    assert len(during) >= 5
    assert set(during) == {300}
    assert set(totals) <= {300, 350}  # always a complete index: the old one, then the new
    assert totals[-1] == 350
    assert search(SearchQuery(text="procurement")).total == 350
    assert get_backend().refs() == {f"bulk:{n}" for n in range(1, 351)}


def test_a_rebuild_that_fails_leaves_the_old_index_as_it_was(search_app):
    documents = make_documents(1200)  # more than one batch of writes on PostgreSQL

    def failing_loader(item_id: int) -> SearchDocument | None:
        if failing and item_id == 1100:
            raise RuntimeError("the database went away")
        return documents.get(item_id)

    failing = False
    service.register_source("bulk", failing_loader, lambda: list(documents))
    assert reindex() == 1200
    documents.update({n: SearchDocument(ref=f"bulk:{n}", item_id=n, language="en",
                                        title=f"Replaced {n}") for n in documents})
    failing = True
    with pytest.raises(RuntimeError, match="went away"):
        reindex()

    assert search(SearchQuery(text="procurement")).total == 1200
    assert search(SearchQuery(text="replaced")).total == 0
    assert len(get_backend().refs()) == 1200
    if search_app.config["SEARCH_BACKEND"] == "postgresql":
        from sqlalchemy import inspect

        from buyergroup.extensions import db
        from buyergroup.search.postgres_backend import SCHEMA

        assert sorted(inspect(db.engine).get_table_names(schema=SCHEMA)) == [
            "index_state", "search_documents", "search_words"]  # no half-built table
