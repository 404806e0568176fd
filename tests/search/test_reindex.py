"""A rebuild does not interrupt searching, and ends with a complete index."""

from __future__ import annotations

import threading
import time

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

    def slow_loader(item_id: int) -> SearchDocument | None:
        time.sleep(0.001)  # a real loader reads the database: make the rebuild take a while
        return documents.get(item_id)

    service.register_source("bulk", slow_loader, lambda: list(documents))
    assert reindex() == 300
    documents.update(make_documents(350))  # 50 more by the time of the next rebuild

    totals: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def keep_searching() -> None:
        with search_app.app_context():
            while not done.is_set():
                try:
                    totals.append(search(SearchQuery(text="procurement", per_page=5)).total)
                except BaseException as error:  # noqa: BLE001 - collected for the assertion
                    errors.append(error)

    def rebuild(result: list[int]) -> None:
        with search_app.app_context():
            result.append(reindex())

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    rebuilt: list[int] = []
    rebuilder = threading.Thread(target=rebuild, args=(rebuilt,))
    rebuilder.start()
    rebuilder.join()
    time.sleep(0.05)
    done.set()
    searcher.join()

    assert errors == []
    assert rebuilt == [350]
    assert len(totals) > 10
    assert set(totals) <= {300, 350}  # always a complete index: the old one, then the new
    assert totals[-1] == 350
    assert search(SearchQuery(text="procurement")).total == 350
    assert get_backend().refs() == {f"bulk:{n}" for n in range(1, 351)}
