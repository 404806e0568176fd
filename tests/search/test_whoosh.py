"""What only the Whoosh backend has to get right: its files, searchers and time limit."""

from __future__ import annotations

import pytest

from bench.whoosh_facets import GroupedFacetsBackend
from buyergroup.search.types import SearchDocument, SearchQuery
from buyergroup.search.whoosh import WhooshBackend


def documents(count: int, text: str = "child labour policy"):
    return [SearchDocument(ref=f"w:{n}", item_id=n, language="en", title=f"{text} {n}")
            for n in range(1, count + 1)]


@pytest.fixture
def backend(tmp_path):
    return WhooshBackend(tmp_path / "index")


def test_segments_are_not_compound_and_searchers_are_reused(backend):
    backend.upsert(documents(3))
    generation = backend.folder / backend.live_generation()
    assert not list(generation.glob("*.seg"))  # compound segments open 150 times slower
    first = backend._searcher()
    assert backend._searcher() is first  # refreshed, not reopened, while nothing changes
    backend.upsert(documents(1, "new"))
    assert backend._searcher() is not first
    assert backend.search(SearchQuery(text="new"), {}).total == 1


def test_a_rebuild_swaps_generations_and_keeps_the_previous_one(backend):
    backend.upsert(documents(2))
    first = backend.live_generation()
    backend.rebuild(documents(3))
    second = backend.live_generation()
    backend.rebuild(documents(4))
    third = backend.live_generation()
    assert len({first, second, third}) == 3
    present = {path.name for path in backend.folder.glob("gen-*")}
    assert present == {second, third}  # a reader may still be opening the previous one
    assert backend.count() == 4


def test_slow_phrase_searches_stop_and_return_what_they_found(tmp_path):
    backend = WhooshBackend(tmp_path / "index", phrase_time_limit=0.000001)
    backend.rebuild(documents(3000))
    results = backend.search(SearchQuery(text='"child labour"', per_page=5), {})
    assert results.partial and results.error is None
    assert results.total < 3000 and len(results.hits) == min(results.total, 5)
    unlimited = WhooshBackend(tmp_path / "index")
    complete = unlimited.search(SearchQuery(text='"child labour"', per_page=5), {})
    assert not complete.partial and complete.total == 3000


@pytest.mark.parametrize("counting", ["groupedby-cached", "groupedby"])
def test_every_way_of_counting_facets_agrees(tmp_path, counting):
    docs = documents(6)
    for n, document in enumerate(docs):
        document.facets = {"kind": [("criterion", "clause")[n % 2]],
                           "product_group": ["laptops", "servers"][: n % 2 + 1]}
    WhooshBackend(tmp_path / "index").upsert(docs)
    query = SearchQuery(text="policy", filters={"product_group": ["servers"]})
    expected = WhooshBackend(tmp_path / "index").search(query, {}).facets
    assert expected["kind"] == [("clause", 3)]
    assert GroupedFacetsBackend(tmp_path / "index", facet_counting=counting).search(
        query, {}).facets == expected
