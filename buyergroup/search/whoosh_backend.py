"""The search index in Whoosh 2.7.4: the only module that imports Whoosh.

Layout of ``INDEX_FOLDER``::

    CURRENT            names the live generation ("gen-<ns>-<hex>"); replaced atomically
    writer.lock        the cross-process writer lock (flock)
    gen-.../           one complete Whoosh index per generation

A rebuild writes a new generation next to the live one and then replaces ``CURRENT``, so
searches keep being answered from the old generation until the new one is complete.

Each language has its own text fields (``title_nl``, ``body_nl``, ...) analysed with that
language's stop words and stemmer, accents folded *before* stemming (see FIELD-NOTES:
folding after stemming makes "universite" miss "université"). A document's text goes into
the fields of its language; a query is compiled once per language with that language's
analyser, so "ordinateurs portables" is stemmed the French way for French documents and the
English way for English ones.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from whoosh import collectors, highlight, scoring, sorting
from whoosh import query as wq
from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.idsets import BitSet
from whoosh.index import LockError, create_in, open_dir
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

from buyergroup.search import common, syntax
from buyergroup.search.locking import file_writer_lock
from buyergroup.search.types import (
    FACETS,
    IndexBusy,
    QuerySyntaxError,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
)

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK_FILE = "writer.lock"
GENERATION_PREFIX = "gen-"
# Field boosts: a word in the title counts for more than the same word in an attachment.
TEXT_PARTS = (("title", 4.0), ("summary", 2.0), ("body", 1.0), ("attachments", 0.5))
_TEXT_PART_NAMES = {part for part, _ in TEXT_PARTS}


def _facet_field(facet: str) -> str:
    # "facet_language" rather than "language": that name holds the document's language.
    return f"facet_{facet}"


def _language_analyzer(language: str):
    # Whoosh's stop lists are accented ("été", "für"); fold them like the text they filter.
    stops = frozenset(word.translate(accent_map) for word in stopwords_for_language(language))
    return (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(stoplist=stops) | StemFilter(lang=language))


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        "ref": ID(unique=True, stored=True),
        "item_id": STORED(),
        "language": ID(stored=True),
        "analysis": ID(),  # which language's fields hold the text
        "snippet": STORED(),
        # Unstemmed, accent-folded words of every text field, for "did you mean".
        "spell": TEXT(analyzer=RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map),
                      phrase=False),
        "audience": KEYWORD(commas=True, lowercase=True),
        "published": DATETIME(sortable=True),
        "sort_title": ID(sortable=True),
    }
    for language in common.LANGUAGES:
        analyzer = _language_analyzer(language)
        for part, boost in TEXT_PARTS:
            fields[f"{part}_{language}"] = TEXT(analyzer=analyzer, field_boost=boost)
    for facet in FACETS:
        fields[_facet_field(facet)] = KEYWORD(commas=True, lowercase=True)
    return Schema(**fields)


# --- Facet counts -----------------------------------------------------------------------------

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


class _CachedOverlapFacet(sorting.FieldFacet):
    def __init__(self, fieldname: str, cache: dict):
        super().__init__(fieldname, allow_overlap=True)
        self._cache = cache

    def categorizer(self, global_searcher):
        return _CachedOverlapCategorizer(global_searcher, self.fieldname, self._cache)


# --- Collecting --------------------------------------------------------------------------------


class _VisibleOnly(collectors.FilterCollector):
    """Whoosh's filter collector, with an optional time limit.

    Not ``TimeLimitCollector(FilterCollector(...))``: that one's loop feeds matches straight
    to the inner collector's ``collect()``, past the filter, whose check lives in its own
    loop; every hidden document would be counted and shown. (Nor the other way round: then
    the time limit is never checked.) Nor SIGALRM, which is process-wide and would fire in
    whatever runs next: the clock is read every 64 matches instead, so a query can overrun
    the limit by the time between two matches.
    """

    def __init__(self, child, allow, time_limit: float | None):
        super().__init__(child, allow=allow)
        self.time_limit = time_limit
        self._deadline = float("inf")

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        if self.time_limit is not None:
            self._deadline = time.monotonic() + self.time_limit

    def collect_matches(self):
        child, allow, offset, deadline = self.child, self._allow, self.offset, self._deadline
        timed = deadline != float("inf")
        seen = 0
        for sub_docnum in child.matches():
            seen += 1
            if timed and not seen % 64 and time.monotonic() > deadline:
                raise collectors.TimeLimit
            if allow is not None and offset + sub_docnum not in allow:
                self.filtered_count += 1
                continue
            child.collect(sub_docnum)


# --- Scoring ---------------------------------------------------------------------------------


class _LengthCachingBM25F(scoring.BM25F):
    """BM25F reading field lengths from a per-segment list instead of the lengths column.

    Every query here collects all its matches, and BM25F asks each match for its field
    length through three layers of calls: 27 % of a term query's time at 10,000
    documents. Segments never change once written, so the lengths are read once.
    """

    def __init__(self, tables: Callable[[], dict]):
        super().__init__()
        self._tables = tables

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, scoring.BM25FScorer):
            reader = searcher.reader()
            if reader.is_atomic():
                tables = self._tables()
                key = (reader.segment().segment_id(), "lengths", fieldname)
                lengths = tables.get(key)
                if lengths is None:
                    lengths = tables[key] = [reader.doc_field_length(d, fieldname, 1)
                                             for d in range(reader.doc_count_all())]
                scorer.dfl = lengths.__getitem__
        return scorer


# --- Per-thread searchers ---------------------------------------------------------------------


class _ThreadState(threading.local):
    pid: int = 0
    generation: str | None = None
    searcher: Any = None
    filters: dict | None = None


class WhooshBackend:
    """The ``SearchBackend`` contract on a Whoosh index in ``folder``."""

    name = "whoosh"

    def __init__(self, folder: str | os.PathLike[str], *, writer_timeout: float = 30.0,
                 phrase_time_limit: float = 0.5, reindex_procs: int = 1,
                 facet_counting: str = "postings"):
        if facet_counting not in FACET_COUNTING:
            raise ValueError(f"facet_counting must be one of {FACET_COUNTING}")
        self.folder = Path(folder)
        self.facet_counting = facet_counting
        self.writer_timeout = writer_timeout
        self.phrase_time_limit = phrase_time_limit
        self.reindex_procs = max(int(reindex_procs), 1)
        self.schema = build_schema()
        self._analyzers = {lang: self.schema[f"body_{lang}"].analyzer
                           for lang in common.LANGUAGES}
        self._spell_analyzer = self.schema["spell"].analyzer
        self._local = _ThreadState()
        self._pointer_cache: tuple[tuple[int, int, int], str] | None = None
        # Facet tables per segment, shared by this process's threads; dropped when the
        # generation changes (a rebuild makes every old segment unreachable).
        self._facet_cache: dict = {}
        self._facet_cache_generation: str | None = None
        self._facet_cache_lock = threading.Lock()
        self._weighting = _LengthCachingBM25F(self._facet_tables)
        # word -> indexed form (folded, stemmed; None for a stop word), per language.
        self._forms: dict[str, dict[str, str | None]] = {lang: {} for lang in common.LANGUAGES}

    # --- Generations --------------------------------------------------------------------

    @property
    def _pointer(self) -> Path:
        return self.folder / POINTER

    def live_generation(self) -> str | None:
        """The directory name ``CURRENT`` points at, or None before the first write."""
        try:
            stat = os.stat(self._pointer)
        except FileNotFoundError:
            return None
        # os.replace gives the pointer a new inode: a stat is enough to notice a swap.
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._pointer_cache
        if cached is not None and cached[0] == signature:
            return cached[1]
        name = self._pointer.read_text(encoding="utf-8").strip()
        self._pointer_cache = (signature, name)
        return name

    def _set_pointer(self, generation: str) -> None:
        temporary = self.folder / f".{POINTER}.{secrets.token_hex(4)}"
        temporary.write_text(generation + "\n", encoding="utf-8")
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self._pointer)  # atomic: readers see old or new, never half

    def _new_generation(self) -> tuple[str, Path]:
        name = f"{GENERATION_PREFIX}{time.time_ns()}-{secrets.token_hex(3)}"
        path = self.folder / name
        path.mkdir(parents=True)
        create_in(str(path), self.schema)
        return name, path

    def _writable_index(self):
        """The live index for writing, created on first use (caller holds the lock)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        generation = self.live_generation()
        if generation is None or not (self.folder / generation).is_dir():
            generation, _ = self._new_generation()
            self._set_pointer(generation)
        return open_dir(str(self.folder / generation))

    def _remove_old_generations(self, keep: set[str]) -> None:
        # Keep the previous generation too: another process may have read the old pointer a
        # moment ago and be opening it now. Open files survive removal on POSIX.
        for path in self.folder.glob(f"{GENERATION_PREFIX}*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    # --- Locks and writes ---------------------------------------------------------------

    def writer_lock(self, timeout: float):
        return file_writer_lock(self.folder / LOCK_FILE).hold(timeout)

    @contextmanager
    def _writer(self, ix) -> Iterator[Any]:
        try:
            # compound=False: opening a searcher on compound segments copies them into
            # memory (50 ms at 72 MB); separate files open in 0.3 ms.
            writer = ix.writer(timeout=self.writer_timeout, delay=0.05, compound=False)
        except LockError as error:
            raise IndexBusy(f"the Whoosh index is locked ({error})") from error
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def _fields(self, document: SearchDocument) -> dict[str, Any]:
        language = common.analysis_language(document.language)
        texts = {
            "title": document.title or "",
            "summary": document.summary or "",
            "body": document.body or "",
            "attachments": (document.attachments_text or "")[: common.MAX_ATTACHMENT_CHARS],
        }
        fields: dict[str, Any] = {
            "ref": document.ref,
            "item_id": int(document.item_id),
            "language": document.language,
            "analysis": language,
            "snippet": common.snippet_source(document),
            "spell": "\n".join(t for t in texts.values() if t),
            "audience": ",".join(common.clean_codes(document.audiences)),
            "sort_title": common.sort_title(document.title) or "~",
        }
        for part, text in texts.items():
            if text:
                fields[f"{part}_{language}"] = common.strip_marks(text)
        for facet in FACETS:
            codes = common.clean_codes((document.facets or {}).get(facet))
            if codes:
                fields[_facet_field(facet)] = ",".join(codes)
        if document.published_at is not None:
            published = document.published_at
            if published.tzinfo is not None:  # Whoosh stores naive datetimes: keep UTC
                published = published.astimezone(UTC).replace(tzinfo=None)
            fields["published"] = published
        return fields

    def upsert(self, documents: list[SearchDocument]) -> None:
        """Add or replace ``documents`` (matched on ``ref``) in one commit."""
        if not documents:
            return
        with self.writer_lock(self.writer_timeout):
            ix = self._writable_index()
            with self._writer(ix) as writer:
                for document in documents:
                    writer.update_document(**self._fields(document))

    def delete(self, refs: list[str]) -> None:
        if not refs:
            return
        with self.writer_lock(self.writer_timeout):
            ix = self._writable_index()
            with self._writer(ix) as writer:
                for ref in refs:
                    writer.delete_by_term("ref", ref)

    def rebuild(self, documents: Iterable[SearchDocument], *, procs: int | None = None) -> int:
        """Index ``documents`` into a new generation, then make it the live one.

        ``procs`` > 1 indexes in that many processes (forked: call it from a command, not
        from a threaded server); 2 processes are 2.2 times faster on two cores.
        """
        procs = self.reindex_procs if procs is None else max(int(procs), 1)
        with self.writer_lock(self.writer_timeout):
            self.folder.mkdir(parents=True, exist_ok=True)
            previous = self.live_generation()
            generation, path = self._new_generation()
            try:
                ix = open_dir(str(path))
                options: dict[str, Any] = {"compound": False, "limitmb": 128}
                if procs > 1:
                    options.update(procs=procs, multisegment=True)
                writer = ix.writer(**options)
                count = 0
                try:
                    for document in documents:
                        writer.add_document(**self._fields(document))
                        count += 1
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            self._set_pointer(generation)
            self._remove_old_generations({generation, previous} - {None})
            return count

    # --- Reading ------------------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher on the live generation, refreshed; None if no index yet."""
        generation = self.live_generation()
        if generation is None:
            return None
        state = self._local
        if state.pid == os.getpid() and state.generation == generation and state.searcher:
            try:
                # refresh() hands back the same searcher when nothing changed, else a new
                # one sharing the unchanged segments (the old one must not be used again).
                fresh = state.searcher.refresh()
            except OSError:  # files went away under us: open the live generation afresh
                self._close_searcher()
            else:
                if fresh is not state.searcher:
                    state.searcher, state.filters = fresh, {}
                    self._prune_tables(fresh)
                return fresh
        elif state.pid == os.getpid():
            self._close_searcher()
        searcher = open_dir(str(self.folder / generation)).searcher(weighting=self._weighting)
        state.pid, state.generation, state.searcher, state.filters = (
            os.getpid(), generation, searcher, {})
        return searcher

    def _close_searcher(self) -> None:
        state = self._local
        if state.searcher is not None and state.pid == os.getpid():
            try:
                state.searcher.close()
            except Exception:  # noqa: BLE001 - already closed, or its files are gone
                log.debug("closing a stale searcher failed", exc_info=True)
        state.searcher, state.filters = None, {}

    def _facet_tables(self) -> dict:
        generation = self._local.generation
        with self._facet_cache_lock:
            if self._facet_cache_generation != generation:
                self._facet_cache = {}
                self._facet_cache_generation = generation
            return self._facet_cache

    def _prune_tables(self, searcher) -> None:
        """Forget the tables of segments that merges have replaced."""
        live = {reader.segment().segment_id() for reader, _ in searcher.reader().leaf_readers()}
        tables = self._facet_tables()
        for key in [key for key in list(tables) if key[0] not in live]:
            tables.pop(key, None)

    def _facet_postings(self, reader, facet: str, tables: dict) -> dict[str, frozenset[int]]:
        """Value -> documents of one segment having it (deleted ones too: they never match)."""
        key = (reader.segment().segment_id(), "postings", facet)
        postings = tables.get(key)
        if postings is None:
            field = _facet_field(facet)
            from_bytes = self.schema[field].from_bytes
            postings = {
                from_bytes(btext): frozenset(reader.postings(field, btext).all_ids())
                for btext in reader.lexicon(field)
            }
            tables[key] = postings
        return postings

    def _count_facets(self, searcher, docs) -> dict[str, list[tuple[str, int]]]:
        tables = self._facet_tables()
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
                for value, ids in self._facet_postings(reader, facet, tables).items():
                    n = len(ids.intersection(local))
                    if n:
                        facet_counts[value] = facet_counts.get(value, 0) + n
        return {facet: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
                for facet, c in counts.items()}

    def refs(self) -> set[str]:
        searcher = self._searcher()
        if searcher is None:
            return set()
        return {fields["ref"] for fields in searcher.all_stored_fields()}

    def count(self) -> int:
        searcher = self._searcher()
        return 0 if searcher is None else searcher.doc_count()

    # --- Queries ------------------------------------------------------------------------

    def _tokens(self, text: str, language: str, *, prefix: bool = False,
                analyzer=None) -> list[str]:
        analyzer = analyzer or self._analyzers[language]
        if prefix:
            tokens = analyzer(text, mode="query", tokenize=False, removestops=False)
        else:
            tokens = analyzer(text, mode="query")
        return [token.text for token in tokens]  # tokens are reused objects: copy the text

    def _compile(self, node: syntax.Node, language: str):
        """The Whoosh query for ``node`` on ``language``'s fields; None if nothing is left
        (a stop word, for instance)."""
        fields = [f"{part}_{language}" for part, _ in TEXT_PARTS]
        if isinstance(node, syntax.Term):
            tokens = self._tokens(node.text, language, prefix=node.prefix)
            if not tokens:
                return None
            if node.prefix:
                return wq.Or([wq.Prefix(f, tokens[0]) for f in fields])
            if len(tokens) == 1:
                return wq.Or([wq.Term(f, tokens[0]) for f in fields])
            return wq.Or([wq.Phrase(f, tokens) for f in fields])
        if isinstance(node, syntax.Phrase):
            tokens = self._tokens(" ".join(node.words), language)
            if not tokens:
                return None
            if len(tokens) == 1:
                return wq.Or([wq.Term(f, tokens[0]) for f in fields])
            return wq.Or([wq.Phrase(f, tokens) for f in fields])
        if isinstance(node, syntax.Not):
            child = self._compile(node.child, language)
            return None if child is None else wq.Not(child)
        parts = [p for p in (self._compile(c, language) for c in node.children) if p]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return wq.And(parts) if isinstance(node, syntax.And) else wq.Or(parts)

    def _query(self, tree: syntax.Node):
        per_language = []
        negated = syntax.contains(tree, syntax.Not)
        for language in common.LANGUAGES:
            compiled = self._compile(tree, language)
            if compiled is None:
                continue
            if negated:
                # "NOT x" alone matches every document without x in *these* fields,
                # documents in other languages included: keep each branch to its language.
                compiled = wq.And([wq.Term("analysis", language), compiled])
            per_language.append(compiled)
        if not per_language:
            raise QuerySyntaxError(
                "The search only holds very common words; add a more specific word."
            )
        compiled = (per_language[0] if len(per_language) == 1 else wq.Or(per_language))
        return _preloading_unions(compiled.normalize())

    def _filter(self, searcher, query: SearchQuery):
        """Allowed documents as a bit set, cached on this thread's searcher."""
        audiences = tuple(sorted(common.clean_codes(query.audiences)))
        filters = common.checked_filters(query)
        key = (audiences, tuple(sorted((f, tuple(sorted(v))) for f, v in filters.items())))
        cache = self._local.filters
        if cache is None:
            cache = self._local.filters = {}
        cached = cache.get(key)
        if cached is not None:
            return cached
        parts = [wq.Or([wq.Term("audience", a) for a in audiences])]
        for facet, values in filters.items():
            parts.append(wq.Or([wq.Term(_facet_field(facet), v) for v in values]))
        allowed = BitSet(searcher.docs_for_query(wq.And(parts)), size=searcher.doc_count_all())
        if len(cache) > 256:
            cache.clear()
        cache[key] = allowed
        return allowed

    def search(self, query: SearchQuery, expansions: dict[str, list[str]]) -> SearchResults:
        tree = syntax.parse(query.text)
        tree, applied = syntax.expand(tree, expansions)
        try:
            results = self._search(query, tree)
        except OSError:
            # A writer in another process merged segments away while this searcher was
            # about to open one of their files: start again on a fresh searcher.
            log.info("search index changed during a search; retrying", exc_info=True)
            self._close_searcher()
            results = self._search(query, tree)
        results.expansions = applied
        return results

    def _search(self, query: SearchQuery, tree: syntax.Node | None,
                suggest: bool = True) -> SearchResults:
        page, per_page = common.page_bounds(query)
        empty = SearchResults(hits=[], total=0, page=page, per_page=per_page,
                              facets={facet: [] for facet in FACETS})
        compiled = self._query(tree) if tree is not None else wq.Every()
        searcher = self._searcher()
        if searcher is None or not common.clean_codes(query.audiences):
            return empty
        allowed = self._filter(searcher, query)
        if not allowed:
            # Whoosh treats an empty filter as no filter at all (``if allow:``): with no
            # document visible, answer here, or everything would be shown.
            return empty
        groupedby = None
        if self.facet_counting == "groupedby-cached":
            tables = self._facet_tables()
            groupedby = {facet: _CachedOverlapFacet(_facet_field(facet), tables)
                         for facet in FACETS}
        elif self.facet_counting == "groupedby":
            groupedby = {facet: sorting.FieldFacet(_facet_field(facet), allow_overlap=True)
                         for facet in FACETS}
        sortedby = {
            "relevance": None,
            "newest": sorting.FieldFacet("published", reverse=True),
            "title": sorting.FieldFacet("sort_title"),
        }[common.effective_sort(query, tree is not None)]
        # Collect every match, not only the top N: the filtered set (for the total and the
        # facet counts) then comes out of the same pass. A top-N collector skips blocks
        # while scoring but has to run the query again, unscored, to count.
        collector = (collectors.UnlimitedCollector() if sortedby is None
                     else collectors.SortingCollector(sortedby, limit=page * per_page))
        if groupedby:
            collector = collectors.FacetCollector(collector, groupedby, maptype=sorting.Count)
        # Phrases are the slow path (FIELD-NOTES: p95 1.6 s at 20,000 documents): bounded.
        time_limit = self.phrase_time_limit if _has_phrase(compiled) else None
        collector = _VisibleOnly(collector, allowed, time_limit)  # outermost: restricts all
        partial = False
        try:
            searcher.search_with_collector(compiled, collector)
        except collectors.TimeLimit:
            partial = True
            collector.finish()
        results = collector.results()

        if partial:
            # Counting everything would run the slow query to its end after all.
            matched = {docnum for _, docnum in results.top_n}
            total = len(matched)
        else:
            matched = results.docs()  # the filtered set, as collected
            total = len(matched)
        if groupedby:
            facets = {
                facet: sorted(((str(k), int(v)) for k, v in results.groups(facet).items() if k),
                              key=lambda kv: (-kv[1], kv[0]))
                for facet in FACETS
            }
        else:
            facets = self._count_facets(searcher, matched)

        terms = _highlight_terms(compiled) if tree is not None else {}
        hits = []
        for hit in results[(page - 1) * per_page : page * per_page]:
            stored = hit.fields()
            hits.append(SearchHit(
                item_id=int(stored["item_id"]),
                ref=stored["ref"],
                language=stored.get("language", ""),
                score=float(hit.score or 0.0) if sortedby is None else 0.0,
                snippet=self._snippet(stored, terms),
            ))
        suggestion = None
        if suggest and tree is not None:
            # Also when something was found: stemming can find "electronique" for the typo
            # "electronis", yet the reader meant "electronics".
            suggestion = self._suggest(searcher, query, tree, allowed)
        return SearchResults(hits=hits, total=total, page=page, per_page=per_page,
                             facets=facets, suggestion=suggestion, partial=partial)

    # --- Snippets -----------------------------------------------------------------------

    def _form(self, language: str, word: str) -> str | None:
        """``word`` as the index holds it in ``language`` (cached: snippets ask often)."""
        forms = self._forms[language]
        form = forms.get(word, _MISSING)
        if form is _MISSING:
            tokens = self._tokens(word, language)
            form = tokens[0] if tokens else None
            if len(forms) > 200_000:
                forms.clear()
            forms[word] = form
        return form

    def _snippet(self, stored: dict, terms: dict[str, _Wanted]) -> str:
        """Up to two fragments of the document's text around its first matches.

        Whoosh's own highlighter runs the whole text through the analyser chain for every
        hit: two thirds of a search's time at 2,000 documents. Here a regular expression
        over an accent-folded copy finds the words that may match (those starting like a
        searched form), a cache confirms their indexed forms, and Whoosh's ``HtmlFormatter``
        escapes the text and wraps the matches in ``<mark>``.
        """
        source = stored.get("snippet", "") or ""
        language = common.analysis_language(stored.get("language", ""))
        wanted = terms.get(language)
        if not source or wanted is None:
            return common.fallback_snippet(source)
        matches: list[_Match] = []
        for found in wanted.candidates.finditer(source.translate(_FOLD)):
            form = self._form(language, source[found.start() : found.end()])
            if form is not None and wanted.matches(form):
                matches.append(_Match(found.start(), found.end()))
                if len(matches) >= _MAX_MARKS:
                    break
        if not matches:
            return common.fallback_snippet(source)
        fragments = []
        i = 0
        while i < len(matches) and len(fragments) < 2:
            first = matches[i]
            start = _word_boundary(source, max(0, first.startchar - _SURROUND), forward=True)
            start = min(start, first.startchar)
            end = _word_boundary(source, min(len(source), start + _FRAGMENT_CHARS),
                                 forward=False)
            end = max(end, first.endchar)
            inside = [m for m in matches[i:] if m.endchar <= end]
            fragments.append(highlight.Fragment(source, inside, start, end))
            i += len(inside)
        formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
        marked = formatter.format(fragments)  # escapes the text around the marks
        if fragments[0].startchar > 0:
            marked = "… " + marked
        if fragments[-1].endchar < len(source):
            marked += " …"
        return marked

    # --- Did you mean -------------------------------------------------------------------

    def _suggest(self, searcher, query: SearchQuery, tree: syntax.Node, allowed) -> str | None:
        corrector = searcher.corrector("spell")

        def spelled(word: str) -> str | None:
            tokens = self._tokens(word, "en", analyzer=self._spell_analyzer)
            return tokens[0] if len(tokens) == 1 else None

        def known(word: str) -> bool:
            token = spelled(word)
            if token is None:
                return True  # not a single word: nothing to correct
            found = searcher.search(wq.Term("spell", token), filter=allowed, limit=1)
            return found.scored_length() > 0

        def candidates(word: str) -> list[str]:
            token = spelled(word)
            return list(corrector.suggest(token, limit=8, maxdist=2, prefix=1)) if token else []

        def frequency(word: str) -> int:
            token = spelled(word)
            if token is None:
                return 0
            return sum(1 for d in searcher.docs_for_query(wq.Term("spell", token))
                       if d in allowed)

        def finds_any(text: str) -> bool:
            corrected = SearchQuery(text=text, filters=query.filters, audiences=query.audiences,
                                    page=1, per_page=1)
            try:
                return self._search(corrected, syntax.parse(text), suggest=False).total > 0
            except QuerySyntaxError:
                return False

        return common.suggest_correction(tree, query.text, known=known, candidates=candidates,
                                         frequency=frequency, finds_any=finds_any)



_MISSING = object()
_MAX_MARKS = 12
_SURROUND = 60
_FRAGMENT_CHARS = 240


@dataclass(frozen=True)
class _Match:
    startchar: int
    endchar: int


def _word_boundary(text: str, index: int, *, forward: bool) -> int:
    """``index`` moved to the nearest space (forward or back) so no word is cut."""
    if index <= 0 or index >= len(text):
        return max(0, min(index, len(text)))
    if forward:
        space = text.find(" ", index)
        return index if space < 0 or space - index > 20 else space + 1
    space = text.rfind(" ", 0, index)
    return index if space < 0 or index - space > 20 else space


def _fold_table() -> dict[int, str]:
    """Lower-case and strip accents one character for one, so offsets stay valid."""
    table = {}
    for code in range(0x41, 0x250):
        lower = chr(code).lower()
        if len(lower) != 1:
            continue
        base = unicodedata.normalize("NFKD", lower)[0]
        folded = lower if not base.isalpha() else base
        folded = "s" if folded == "ß" else folded  # as Whoosh's accent_map
        if folded != chr(code):
            table[code] = folded
    return table


_FOLD = _fold_table()


@dataclass(frozen=True)
class _Wanted:
    """The indexed forms a query looks for in one language, for snippets."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    candidates: re.Pattern[str]  # words that may have one of those forms

    def matches(self, form: str) -> bool:
        return form in self.exact or (bool(self.prefixes) and form.startswith(self.prefixes))


def _highlight_terms(compiled) -> dict[str, _Wanted]:
    """Per language, what the compiled query looks for."""
    exact: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for leaf in compiled.leaves():
        part, _, language = (getattr(leaf, "fieldname", None) or "").rpartition("_")
        if part not in _TEXT_PART_NAMES:
            continue
        if isinstance(leaf, wq.Prefix):
            prefixes.setdefault(language, set()).add(leaf.text)
        elif isinstance(leaf, wq.Phrase):
            exact.setdefault(language, set()).update(leaf.words)
        elif isinstance(leaf, wq.Term):
            exact.setdefault(language, set()).add(leaf.text)
    wanted = {}
    for language in set(exact) | set(prefixes):
        forms, starts = exact.get(language, set()), prefixes.get(language, set())
        # A stem is (nearly always) the start of the word it came from, give or take its
        # last letters ("happi" from "happy"): look for words starting with the stem less
        # two letters, then check each one's real form.
        pieces = {form[: max(3, len(form) - 2)] for form in forms} | starts
        pattern = "|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True))
        wanted[language] = _Wanted(
            exact=frozenset(forms),
            prefixes=tuple(sorted(starts)),
            candidates=re.compile(rf"(?<!\w)(?:{pattern})\w*(?:\.\w+)*"),
        )
    return wanted


def _preloading_unions(query):
    """Make every OR preload its matches in blocks (Whoosh's array union matcher).

    Above 5,000 documents Whoosh picks a binary tree of union matchers, which costs a few
    Python calls per document per field; every query here is an OR over a language's four
    fields, and collects all its matches (for the total and the facet counts), so the block
    matcher is faster: at 10,000 documents, term queries p95 55 -> 34 ms.
    """
    if isinstance(query, wq.Or):
        query.matcher_type = wq.Or.ARRAY_MATCHER
    for child in query.children():
        _preloading_unions(child)
    return query


def _has_phrase(compiled) -> bool:
    # Quoted phrases, glossary translations of several words and hyphenated words
    # ("e-procurement") all compile to phrase queries.
    return any(isinstance(q, wq.Phrase) for q in compiled.leaves())
