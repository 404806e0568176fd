"""Facet counts from per-segment posting bitmaps.

Each facet value's documents in a segment are one bitmap (a Python int, bit ``n`` for
document ``n``), built once per segment: a segment never changes once written (deletions
only hide documents). A search's matches in the segment become one bitmap too, and a
value's count is ``(value & matches).bit_count()``, a few machine words per 64 documents
in C. Intersecting sets instead cost 3.5-4.5 ms per search at 10,000 documents whatever
the number of matches (222 values, each set walked); the bitmaps 0.1-0.5 ms. Whoosh's
own grouping (``groupedby=FieldFacet(..., allow_overlap=True)``) costs a Python call per
matched document and facet (docs/performance.md); ``bench/whoosh_facets.py`` keeps it
for comparison.
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


def bitmap(docnums, size: int) -> int:
    """The documents as an int with bit ``n`` set for document ``n`` (``size``: the
    segment's documents, deleted ones included)."""
    bits = bytearray((size >> 3) + 1)
    for docnum in docnums:
        bits[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(bits, "little")


def facet_bitmaps(schema: Schema, reader, facet: str, tables: dict) -> dict[str, int]:
    """Value -> bitmap of the segment's documents having it (``facet_postings`` as bits)."""
    key = (reader.segment().segment_id(), "bitmaps", facet)
    bitmaps = tables.get(key)
    if bitmaps is None:
        size = reader.doc_count_all()
        bitmaps = {value: bitmap(ids, size)
                   for value, ids in facet_postings(schema, reader, facet, tables).items()}
        tables[key] = bitmaps
    return bitmaps


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
        size = reader.doc_count_all()
        if ordered is None:
            local = docs
        else:
            first = bisect_left(ordered, offset)
            last = bisect_left(ordered, offset + size, first)
            local = [d - offset for d in ordered[first:last]]
        if not local:
            continue
        matched = bitmap(local, size)
        for facet in FACETS:
            facet_counts = counts[facet]
            for value, bits in facet_bitmaps(schema, reader, facet, tables).items():
                n = (bits & matched).bit_count()
                if n:
                    facet_counts[value] = facet_counts.get(value, 0) + n
    return {facet: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
            for facet, c in counts.items()}
