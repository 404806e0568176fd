"""Versions of one thing (an item's translations) folded into one result.

Each document stores its ``group`` (``SearchDocument.group``, its own ref by default). Most
groups have one document: they need no work at search time. ``versioned_documents`` maps
the documents of the groups with several versions (global docnum -> group) for a searcher;
``fold`` walks the matches in result order and keeps one document per group: the version in
the reader's language if it matched, else the first in order (the best scored, the newest).

Per segment (segments never change once written) the table holds the group terms and the
documents of the groups that have several versions in that segment; the cross-segment part
is recomputed only when the set of segments changes. Deleted documents may make a group
look versioned when it is not: that only costs a look, they never match.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

GROUP_FIELD = "group"


def _segment_groups(reader, tables: dict) -> tuple[frozenset[bytes], dict[bytes, tuple[int, ...]]]:
    segment_id = reader.segment().segment_id()
    key = (segment_id, "groups")
    cached = tables.get(key)
    if cached is None:
        terms: list[bytes] = []
        several: dict[bytes, tuple[int, ...]] = {}
        if GROUP_FIELD in reader.schema:
            for btext, info in reader.iter_field(GROUP_FIELD):
                terms.append(btext)
                if info.doc_frequency() > 1:
                    several[btext] = tuple(reader.postings(GROUP_FIELD, btext).all_ids())
        cached = tables[key] = (frozenset(terms), several)
    return cached


def versioned_documents(searcher, tables: dict) -> dict[int, bytes]:
    """Global docnum -> group, for the documents of groups with several versions."""
    leaves = searcher.leaf_searchers()
    readers = [(sub.reader(), offset) for sub, offset in leaves]
    segment_ids = tuple(reader.segment().segment_id() for reader, _ in readers
                        if reader.segment() is not None)
    if not segment_ids:
        return {}
    key = (segment_ids[0], "versioned")
    cached = tables.get(key)
    if cached is not None and cached[0] == segment_ids:
        return cached[1]
    parts = [(reader, offset, *_segment_groups(reader, tables)) for reader, offset in readers]
    found: dict[int, bytes] = {}
    seen: set[bytes] = set()
    across: set[bytes] = set()
    for _reader, _offset, terms, _several in parts:
        across |= seen & terms  # in two segments or more
        seen |= terms
    for reader, offset, terms, several in parts:
        for btext, local in several.items():
            for docnum in local:
                found[offset + docnum] = btext
        for btext in across & terms:
            if btext not in several:
                for docnum in reader.postings(GROUP_FIELD, btext).all_ids():
                    found[offset + docnum] = btext
    tables[key] = (segment_ids, found)
    return found


def version_languages(searcher, tables: dict, schema) -> dict[int, str]:
    """Global docnum -> language, for the documents of ``versioned_documents``: read from
    the language facet's cached posting sets, not from each document's stored fields (a
    zlib decompression per document: 1,000 of them per browse page at 10,000 items)."""
    from buyergroup.search.whoosh.facets import facet_postings

    versioned = versioned_documents(searcher, tables)
    if not versioned:
        return {}
    leaves = searcher.leaf_searchers()
    segment_ids = tuple(sub.reader().segment().segment_id() for sub, _ in leaves)
    key = (segment_ids[0], "version-languages")
    cached = tables.get(key)
    if cached is not None and cached[0] == segment_ids:
        return cached[1]
    languages: dict[int, str] = {}
    for sub, offset in leaves:
        reader = sub.reader()
        for language, local in facet_postings(schema, reader, "language", tables).items():
            for docnum in local:
                if offset + docnum in versioned:
                    languages[offset + docnum] = language
    tables[key] = (segment_ids, languages)
    return languages


def representatives(ordered: Iterable[tuple[object, int]], versioned: dict[int, bytes],
                    language_of, preferred: str) -> dict[bytes, int]:
    """Group -> the docnum shown for it, for the versioned groups matched: the version in
    the ``preferred`` language if it matched, else the first in result order.
    ``language_of(docnum)``: a document's language."""
    chosen: dict[bytes, int] = {}
    for _, docnum in ordered:
        group = versioned.get(docnum)
        if group is None:
            continue
        current = chosen.get(group)
        if current is None or (preferred and language_of(docnum) == preferred
                               and language_of(current) != preferred):
            chosen[group] = docnum
    return chosen


def hidden_versions(versioned: dict[int, bytes], chosen: dict[bytes, int],
                    matched: Iterable[int]) -> set[int]:
    """The matched documents that another version of their group stands for."""
    matched = matched if isinstance(matched, (set, frozenset)) else set(matched)
    return {docnum for docnum in versioned.keys() & matched
            if chosen.get(versioned[docnum]) != docnum}


def fold(ordered: Iterable[tuple[object, int]], versioned: dict[int, bytes],
         chosen: dict[bytes, int]) -> Iterator[tuple[object, int]]:
    """(key, docnum) in result order, one per group: a group takes its best version's
    place, shown as its chosen version."""
    shown: set[bytes] = set()
    for key, docnum in ordered:
        group = versioned.get(docnum)
        if group is None:
            yield key, docnum
        elif group not in shown:
            shown.add(group)
            yield key, chosen.get(group, docnum)


def newest_order(searcher, tables: dict) -> tuple[list[int], dict[int, int]]:
    """Every document, newest first (then by docnum), and docnum -> position; per set of
    segments. Browsing "newest" reads the first page from it instead of keying and
    sorting every visible document on each request (6,955 sort keys at 10,000 items)."""
    leaves = searcher.leaf_searchers()
    segment_ids = tuple(sub.reader().segment().segment_id() for sub, _ in leaves
                        if sub.reader().segment() is not None)
    if not segment_ids:
        return [], {}
    key = (segment_ids[0], "newest")
    cached = tables.get(key)
    if cached is not None and cached[0] == segment_ids:
        return cached[1], cached[2]
    keyed: list[tuple[int, int]] = []
    for sub, offset in leaves:
        reader = sub.reader()
        # The raw sortable values (no conversion to datetimes): larger is newer.
        column = reader.column_reader("published", translate=False)
        for docnum in range(reader.doc_count_all()):
            keyed.append((-_as_number(column[docnum]), offset + docnum))
    keyed.sort()
    order = [docnum for _, docnum in keyed]
    positions = {docnum: n for n, docnum in enumerate(order)}
    tables[key] = (segment_ids, order, positions)
    return order, positions


def _as_number(value) -> int:
    if value is None:
        return -(2 ** 62)  # undated: last
    if isinstance(value, bytes):
        return int.from_bytes(value, "big")
    return int(value)
