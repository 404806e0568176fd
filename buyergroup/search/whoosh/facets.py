"""Facet counts from per-segment posting sets.

The matched documents are intersected with each facet value's posting set (set
intersections run in C), cached per segment: a segment never changes once written
(deletions only hide documents), so its sets are built once. Whoosh's own grouping
(``groupedby=FieldFacet(..., allow_overlap=True)``) costs a Python call per matched
document and facet; ``bench/whoosh_facets.py`` keeps it for comparison.
"""

from __future__ import annotations

from whoosh import sorting
from whoosh.fields import Schema

from buyergroup.search.types import FACETS
from buyergroup.search.whoosh.schema import facet_field

# How facet counts are computed. "postings" (the default): the matched documents are
# intersected with each facet value's posting set, cached per segment (set intersections run
# in C). "groupedby-cached" and "groupedby": Whoosh's grouping with FieldFacet(...,
# allow_overlap=True), with and without the per-segment cache below; slower (a Python call
# per matched document and facet, see docs/performance.md), kept for comparison.
FACET_COUNTING = ("postings", "groupedby-cached", "groupedby")


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


class CachedOverlapFacet(sorting.FieldFacet):
    def __init__(self, fieldname: str, cache: dict):
        super().__init__(fieldname, allow_overlap=True)
        self._cache = cache

    def categorizer(self, global_searcher):
        return _CachedOverlapCategorizer(global_searcher, self.fieldname, self._cache)


def facet_postings(schema: Schema, reader, facet: str, tables: dict) -> dict[str, frozenset[int]]:
    """Value -> documents of one segment having it (deleted ones too: they never match)."""
    key = (reader.segment().segment_id(), "postings", facet)
    postings = tables.get(key)
    if postings is None:
        field = facet_field(facet)
        from_bytes = schema[field].from_bytes
        postings = {
            from_bytes(btext): frozenset(reader.postings(field, btext).all_ids())
            for btext in reader.lexicon(field)
        }
        tables[key] = postings
    return postings


def count_facets(schema: Schema, searcher, docs, tables: dict) -> dict[str, list[tuple[str, int]]]:
    """Per facet, (value, matched documents having it), most frequent first."""
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    leaves = searcher.leaf_searchers()
    for sub, offset in leaves:
        reader = sub.reader()
        if len(leaves) == 1:
            local = docs if isinstance(docs, (set, frozenset)) else set(docs)
        else:
            end = offset + reader.doc_count_all()
            local = {d - offset for d in docs if offset <= d < end}
        if not local:
            continue
        for facet in FACETS:
            facet_counts = counts[facet]
            for value, ids in facet_postings(schema, reader, facet, tables).items():
                n = len(ids.intersection(local))
                if n:
                    facet_counts[value] = facet_counts.get(value, 0) + n
    return {facet: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
            for facet, c in counts.items()}
