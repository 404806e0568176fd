"""Facet counts from per-segment posting sets.

The matched documents are intersected with each facet value's posting set (set
intersections run in C), cached per segment: a segment never changes once written
(deletions only hide documents), so its sets are built once. Whoosh's own grouping
(``groupedby=FieldFacet(..., allow_overlap=True)``) costs a Python call per matched
document and facet (docs/performance.md); ``bench/whoosh_facets.py`` keeps it for
comparison.
"""

from __future__ import annotations

from bisect import bisect_left

from whoosh.fields import Schema

from buyergroup.search.types import FACETS
from buyergroup.search.whoosh.schema import facet_field


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
    # Each segment's share of the documents, from one sorted list (filtering the whole set
    # once per segment cost segments x documents: 57 ms a search at 100,000 items in 20
    # segments).
    ordered = sorted(docs) if len(leaves) > 1 else None
    for sub, offset in leaves:
        reader = sub.reader()
        if ordered is None:
            local = docs if isinstance(docs, (set, frozenset)) else set(docs)
        else:
            first = bisect_left(ordered, offset)
            last = bisect_left(ordered, offset + reader.doc_count_all(), first)
            local = {d - offset for d in ordered[first:last]}
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
