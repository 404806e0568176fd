"""Whoosh's own facet grouping, kept only to compare with the default (benchmarks, a test).

The application counts facets from per-segment posting sets
(``buyergroup/search/whoosh/facets.py``). Here are the two ways it replaced, as a backend
subclass: ``groupedby`` (Whoosh's ``FieldFacet(..., allow_overlap=True)``) and
``groupedby-cached`` (the same with its per-segment table cached); both are slower (a Python
call per matched document and facet, see docs/performance.md).
"""

from __future__ import annotations

import os

from whoosh import collectors, sorting

from buyergroup.search.types import FACETS
from buyergroup.search.whoosh import WhooshBackend
from buyergroup.search.whoosh.schema import facet_field

FACET_COUNTING = ("groupedby-cached", "groupedby")


class _CachedOverlapCategorizer(sorting.OverlappingCategorizer):
    """Whoosh's categorizer for multi-valued fields, with its per-segment table cached.

    The stock categorizer rebuilds a docnum -> values table from the postings of every
    segment on every search (tens of milliseconds at 10,000 documents, times eight facets).
    A segment never changes once written (deletions only hide documents), so the table is
    built once per segment and kept.
    """

    def __init__(self, global_searcher, fieldname: str, cache: dict):
        super().__init__(global_searcher, fieldname)
        self._use_vectors = False
        self._use_column = False
        self._cache = cache

    def set_searcher(self, segment_searcher, docoffset):
        self._segment_searcher = segment_searcher
        reader = segment_searcher.reader()
        key = (reader.segment().segment_id(), self._fieldname)
        table = self._cache.get(key)
        if table is None:
            lists: list[list[str]] = [[] for _ in range(segment_searcher.doc_count_all())]
            from_bytes = self._fieldobj.from_bytes
            for btext in self._fieldobj.sortable_terms(reader, self._fieldname):
                value = from_bytes(btext)
                for docid in reader.postings(self._fieldname, btext).all_ids():
                    lists[docid].append(value)
            # Most documents have one value per facet: share tuples to keep this small.
            table = [tuple(values) for values in lists]
            self._cache[key] = table
        self._lists = table

    def keys_for(self, matcher, docid):
        return self._lists[docid] or (None,)


class _CachedOverlapFacet(sorting.FieldFacet):
    def __init__(self, fieldname: str, cache: dict):
        super().__init__(fieldname, allow_overlap=True)
        self._cache = cache

    def categorizer(self, global_searcher):
        return _CachedOverlapCategorizer(global_searcher, self.fieldname, self._cache)


class GroupedFacetsBackend(WhooshBackend):
    """``WhooshBackend`` counting facets with Whoosh's grouping while collecting."""

    def __init__(self, folder: str | os.PathLike[str], *, facet_counting: str, **options):
        if facet_counting not in FACET_COUNTING:
            raise ValueError(f"facet_counting must be one of {FACET_COUNTING}")
        super().__init__(folder, **options)
        self.facet_counting = facet_counting

    def _facet_collector(self, collector):
        if self.facet_counting == "groupedby-cached":
            tables = self._facet_tables()
            groupedby = {facet: _CachedOverlapFacet(facet_field(facet), tables)
                         for facet in FACETS}
        else:
            groupedby = {facet: sorting.FieldFacet(facet_field(facet), allow_overlap=True)
                         for facet in FACETS}
        return collectors.FacetCollector(collector, groupedby, maptype=sorting.Count)

    def _facets(self, searcher, results, matched) -> dict[str, list[tuple[str, int]]]:
        return {
            facet: sorted(((str(k), int(v)) for k, v in results.groups(facet).items() if k),
                          key=lambda kv: (-kv[1], kv[0]))
            for facet in FACETS
        }
