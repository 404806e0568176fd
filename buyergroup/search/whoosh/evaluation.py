"""Every match of a query with its BM25F score, read straight from the postings.

Every search here needs all its matches (the total and the facet counts come from them), so
the whole query is scored anyway. Whoosh's matchers do it one document at a time through
several layers of Python calls, and its union matchers (an OR over a language's four fields,
inside an OR over four languages, inside an OR over a glossary term's translations) clear
and rescan a 2,048-slot array per block: at 10,000 items three quarters of a term query's
time (issue 12). Here each term's postings are read a block at a time and its scores added
into one table, docnum -> score:

* a term: ``bm25(idf, weight, field length, average length)``, exactly Whoosh's BM25F
  (the field boosts are in the weights, the lengths come from the per-segment tables the
  backend already keeps);
* OR: the sum of its parts' scores, AND: the sum where all parts match, as Whoosh's union
  and intersection matchers score them;
* anything else (phrases, prefixes): Whoosh's own matcher for that part, scored the same way.

Queries with NOT, and browsing without words, keep Whoosh's collectors (``supported``).
Deleted documents are not left out here: the caller keeps only the allowed documents, a set
that never holds a deleted one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from itertools import accumulate
from pickle import loads

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.formats import Positions
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.scoring import bm25

# How often (in postings read through Whoosh's matchers) the clock is looked at.
CLOCK_EVERY = 128


class ScoreCache:
    """The scores of recent queries, per commit of the index (the key holds it).

    A procurer refines a search: ticks a filter, then another, sorts by newest, turns to the
    next page. Each is a new page of results, but the words are the same, and scoring them
    was half of such a search (issue 12). The scores do not depend on the filters or the
    audience (the caller keeps only the allowed documents), except a phrase's, whose
    positions are read only for the documents allowed when it was scored: those are reused
    only for a subset of them (a filter added, not removed).

    Bounded by the number of scores kept (about 100 bytes each); a query matching more than
    a quarter of that is not kept. Scores cut short by the time limit are never kept.
    ``max_scores`` 0 keeps nothing."""

    def __init__(self, max_scores: int = 200_000):
        self.max_scores = max(int(max_scores), 0)
        self._entries: OrderedDict[Hashable, tuple[dict[int, float], frozenset[int] | None]] \
            = OrderedDict()
        self._kept = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, allowed: frozenset[int]) -> dict[int, float] | None:
        """The kept scores of ``key``, if they hold every match among ``allowed``.
        Callers only read them."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            scores, scored_within = entry
            self._entries.move_to_end(key)
        if scored_within is not None and not allowed <= scored_within:
            return None
        return scores

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._kept = 0

    def put(self, key: Hashable, scores: dict[int, float],
            scored_within: frozenset[int] | None) -> None:
        """``scored_within``: the allowed set a phrase was scored within (None: the scores
        hold every match in the index)."""
        if len(scores) > self.max_scores // 4:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._kept -= len(old[0])
            self._entries[key] = (scores, scored_within)
            self._kept += len(scores)
            while self._kept > self.max_scores:
                _, (dropped, _) = self._entries.popitem(last=False)
                self._kept -= len(dropped)


def supported(query) -> bool:
    """True if ``evaluate`` scores ``query`` as Whoosh would (no NOT, no Every)."""
    for node in _walk(query):
        if isinstance(node, (wq.Not, wq.Every, wq.NullQuery.__class__)):
            return False
        if isinstance(node, wq.CompoundQuery) and not isinstance(node, (wq.And, wq.Or)):
            return False
        if isinstance(node, wq.Or) and (node.scale or node.minmatch):
            return False
        if getattr(node, "boost", 1.0) != 1.0:
            return False
    return True


def _walk(query):
    yield query
    if isinstance(query, wq.CompoundQuery):
        for child in query.subqueries:
            yield from _walk(child)


class Evaluation:
    """Scores a query over one searcher's segments with ``weighting`` (a
    ``LengthCachingBM25F``, whose ``lengths(reader, field)`` gives a segment's field lengths
    as a list, from the backend's cached tables)."""

    def __init__(self, searcher, weighting, deadline: float | None = None,
                 allowed: frozenset[int] | None = None):
        """``allowed``: the documents the caller keeps (global docnums); phrases check the
        positions of those only."""
        self.searcher = searcher
        self.allowed = allowed
        self.weighting = weighting
        self.lengths = weighting.lengths
        self.deadline = deadline
        self.leaves = [(sub, offset) for sub, offset in searcher.leaf_searchers()]
        self.context = searcher.context(weighting=weighting)
        self._seen = 0
        self.partial = False  # the deadline passed: some matches are missing

    def evaluate(self, query) -> dict[int, float]:
        """Global docnum -> score, for every document that matches ``query``.

        Past the deadline, the parts still to read through Whoosh's matchers (phrases) stop
        where they are and ``partial`` is set: what is returned then are true matches, but
        not all of them (NOT, which could turn a missing match into a wrong one, never
        comes here)."""
        if isinstance(query, wq.Term):
            return self._term(query)
        if isinstance(query, wq.Phrase) and query.slop == 1 and query.boost == 1.0:
            return self._phrase(query)
        if isinstance(query, wq.Or):
            scores: dict[int, float] = {}
            for child in query.subqueries:
                part = self.evaluate(child)
                if not scores:
                    scores = part
                    continue
                get = scores.get
                for docnum, score in part.items():
                    scores[docnum] = get(docnum, 0.0) + score
            return scores
        if isinstance(query, wq.And):
            parts = [self.evaluate(child) for child in query.subqueries]
            common = set(min(parts, key=len))
            for part in parts:
                common.intersection_update(part)
                if not common:
                    return {}
            return {docnum: sum(part[docnum] for part in parts) for docnum in common}
        return self._whoosh(query)

    def _term(self, query) -> dict[int, float]:
        searcher, field = self.searcher, query.fieldname
        if field not in searcher.schema:
            return {}
        fieldtype = searcher.schema[field]
        btext = fieldtype.to_bytes(query.text)
        scores: dict[int, float] = {}
        scorable = fieldtype.scorable
        if scorable:
            idf = searcher.idf(field, btext)
            avgfl = searcher.avg_field_length(field) or 1
            B, K1 = self.weighting.B, self.weighting.K1
        for sub, offset in self.leaves:
            reader = sub.reader()
            matcher = _leaf_matcher(reader, field, btext)
            if matcher is None:
                if (field, btext) in reader:  # another codec: Whoosh's matcher
                    self._from_matcher(query, sub, offset, scores)
                continue
            if not scorable:
                self._from_matcher(query, sub, offset, scores)
                continue
            lengths = self.lengths(reader, field)
            # whoosh.scoring.bm25 written out, operation for operation (the same floats):
            # a function call per posting was a fifth of a common word's search.
            k1_plus_1, one_minus_b = K1 + 1, 1 - B
            while matcher.is_active():
                if matcher._ids is None:
                    matcher._read_ids()
                if matcher._weights is None:
                    matcher._read_weights()
                ids, weights = matcher._ids, matcher._weights
                for i in range(matcher._i, matcher._blocklength):
                    docnum = ids[i]
                    tf = weights[i]
                    scores[offset + docnum] = idf * ((tf * k1_plus_1) / (
                        tf + K1 * (one_minus_b + B * lengths[docnum] / avgfl)))
                matcher._i = matcher._blocklength - 1
                matcher.next()
        return scores

    def _phrase(self, query) -> dict[int, float]:
        """The documents holding the words one after the other (stop words, renumbered
        away when indexing, do not count), scored as Whoosh scores a phrase: the sum of its
        words' scores. Their positions are read only for documents with every word that the
        caller keeps."""
        searcher, field = self.searcher, query.fieldname
        fieldtype = searcher.schema[field] if field in searcher.schema else None
        if (fieldtype is None or not isinstance(fieldtype.format, Positions)
                or not fieldtype.scorable or not query.words):
            return self._whoosh(query)
        words = [fieldtype.to_bytes(word) for word in query.words]
        idfs = [searcher.idf(field, word) for word in words]
        avgfl = searcher.avg_field_length(field) or 1
        B, K1 = self.weighting.B, self.weighting.K1
        allowed, deadline = self.allowed, self.deadline
        scores: dict[int, float] = {}
        for sub, offset in self.leaves:
            if self.partial:
                break
            reader = sub.reader()
            postings = []
            for word in words:
                matcher = _leaf_matcher(reader, field, word)
                if matcher is None:
                    break
                postings.append(_read_postings(matcher))
            else:
                candidates = set(min(postings, key=len))
                for posting in postings:
                    candidates.intersection_update(posting)
                if allowed is not None:
                    candidates = {d for d in candidates if offset + d in allowed}
                lengths = self.lengths(reader, field)
                for n, docnum in enumerate(sorted(candidates), 1):
                    if deadline is not None and not n % CLOCK_EVERY and time.monotonic() > deadline:
                        self.partial = True
                        break
                    starts = None
                    for k, posting in enumerate(postings):
                        found = {position - k for position in _positions(posting[docnum][1])}
                        starts = found if starts is None else starts & found
                        if not starts:
                            break
                    if starts:
                        length = lengths[docnum]
                        scores[offset + docnum] = sum(
                            bm25(idf, posting[docnum][0], length, avgfl, B, K1)
                            for idf, posting in zip(idfs, postings, strict=True))
        return scores

    def _whoosh(self, query) -> dict[int, float]:
        scores: dict[int, float] = {}
        for sub, offset in self.leaves:
            self._from_matcher(query, sub, offset, scores)
        return scores

    def _from_matcher(self, query, sub, offset: int, scores: dict[int, float]) -> None:
        if self.partial:
            return
        matcher = query.matcher(sub, self.context)
        deadline = self.deadline
        seen = self._seen
        while matcher.is_active():
            seen += 1
            if deadline is not None and not seen % CLOCK_EVERY and time.monotonic() > deadline:
                self.partial = True
                break
            docnum = offset + matcher.id()
            scores[docnum] = scores.get(docnum, 0.0) + matcher.score()
            matcher.next()
        self._seen = seen


def _leaf_matcher(reader, field: str, btext: bytes) -> W3LeafMatcher | None:
    """The raw postings of a term in a segment (None: not there, or not the codec read
    here). Deleted documents are in them: the caller's allowed set leaves them out."""
    try:
        matcher = reader.postings(field, btext)
    except TermNotFound:
        return None
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    return matcher if isinstance(matcher, W3LeafMatcher) else None


def _read_postings(matcher: W3LeafMatcher) -> dict[int, tuple[float, bytes]]:
    """docnum -> (weight, encoded positions), a block at a time."""
    postings: dict[int, tuple[float, bytes]] = {}
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        if matcher._values is None:
            matcher._read_values()
        ids, weights, values = matcher._ids, matcher._weights, matcher._values
        for i in range(matcher._i, matcher._blocklength):
            postings[ids[i]] = (weights[i], values[i])
        matcher._i = matcher._blocklength - 1
        matcher.next()
    return postings


def _positions(value: bytes) -> accumulate:
    """The positions a Whoosh ``Positions`` value holds (``Positions.decode_positions``:
    a count, then the pickled deltas, whose final "." the writer leaves off)."""
    if not value.endswith(b"."):
        value += b"."
    return accumulate(loads(value[4:]))
