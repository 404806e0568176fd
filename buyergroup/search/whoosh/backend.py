"""``WhooshBackend``: the ``SearchBackend`` contract on a Whoosh 2.7.4 index.

Layout of ``INDEX_FOLDER``::

    CURRENT            names the live generation ("gen-<ns>-<hex>"); replaced atomically
    writer.lock        the cross-process writer lock (flock)
    gen-.../           one complete Whoosh index per generation

A rebuild writes a new generation next to the live one and then replaces ``CURRENT``, so
searches keep being answered from the old generation until the new one is complete.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from whoosh import collectors, sorting
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError, create_in, open_dir

from buyergroup.search import common, syntax
from buyergroup.search.locking import file_writer_lock
from buyergroup.search.types import (
    FACETS,
    IndexBusy,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
    is_personal_audience,
)
from buyergroup.search.whoosh import facets as facet_counts
from buyergroup.search.whoosh import groups as version_groups
from buyergroup.search.whoosh import suggestions
from buyergroup.search.whoosh.evaluation import Evaluation, ScoreCache, supported
from buyergroup.search.whoosh.query import (
    LengthCachingBM25F,
    QueryCompiler,
    VisibleOnly,
    has_phrase,
)
from buyergroup.search.whoosh.schema import build_schema, document_fields, facet_field
from buyergroup.search.whoosh.snippets import Snippets, highlight_terms

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK_FILE = "writer.lock"
GENERATION_PREFIX = "gen-"
# How long files that a commit made obsolete are kept for the searches still reading them.
DELETE_GRACE_SECONDS = 60.0
# Sets of documents kept for filtering (per audiences, per filter value, per both); each is
# up to one int per document in the index (about 8 MB at 100,000 documents: the audiences'
# sets are that large, a filter value's mostly far smaller).
ALLOWED_SETS = 64
# Scores kept by ``evaluation.ScoreCache`` (about 20 MB): some thirty common words' at
# 10,000 items.
SCORES_KEPT = 200_000


class _DeferredDeletes(FileStorage):
    """A Whoosh storage whose obsolete files outlive the searches still reading them.

    Whoosh opens a segment's column files (stored fields, field lengths) only when a search
    first reads them, while a writer's commit deletes the files of the segments it merged
    away at once: a search that opened its searcher before that commit then finds the
    stored-fields column gone and fails (issue 8: ``TypeError: 'NoneType' object is not
    subscriptable`` in ``stored_fields``, 4 searches in 240 with 12 readers and 4 writers).
    Here a commit deletes a file only once commits in this process have found it obsolete
    for ``DELETE_GRACE_SECONDS``, far longer than a search; a thread's next search opens a
    new searcher on the current segments. (Every process's clock starts no earlier than
    the file really became obsolete, so no process deletes one too soon.)
    """

    _obsolete_since: dict[str, float] = {}
    _guard = threading.Lock()

    def delete_file(self, name):
        path = self._fpath(name)
        now = time.monotonic()
        with self._guard:
            since = self._obsolete_since.setdefault(path, now)
            if now - since < DELETE_GRACE_SECONDS:
                return
            del self._obsolete_since[path]
            if len(self._obsolete_since) > 10_000:  # files another process deleted
                for known in [p for p in self._obsolete_since if not os.path.exists(p)]:
                    del self._obsolete_since[known]
        super().delete_file(name)


class _ThreadState(threading.local):
    """One thread's searcher. Never shared: Whoosh reads its files by seeking and reading on
    one file object per segment file, so two threads reading one searcher would read each
    other's bytes."""

    pid: int = 0
    generation: str | None = None
    searcher: Any = None
    leases: int = 0  # searches of this thread using ``searcher`` right now


@dataclass(frozen=True)
class _Spelling:
    """What "did you mean" looks at: the query as typed and the words never corrected."""

    typed: syntax.Node | None
    protected: frozenset[str]


class WhooshBackend:
    """The ``SearchBackend`` contract on a Whoosh index in ``folder``."""

    name = "whoosh"

    def __init__(self, folder: str | os.PathLike[str], *, writer_timeout: float = 30.0,
                 phrase_time_limit: float = 0.5, reindex_procs: int = 1,
                 result_cache_size: int = 256, exact_limit: int = 5_000,
                 sample_size: int = 3_000):
        """``exact_limit``: a search matching more documents than this (0: no limit) folds
        and counts the sample of about ``sample_size`` of them, whole groups, and scales
        the counts by how many matched in all (``SearchResults.estimated``). It still reads
        and scores every match (that is most of a search's time), but the rest, folding
        translations, ordering and facet counts, was a quarter of a common word's search
        at 100,000 items."""
        self.folder = Path(folder)
        self.exact_limit = max(int(exact_limit), 0)  # (a negative setting: no limit)
        self.sample_size = max(int(sample_size), 1)
        # Recent results per commit of the index, shared by this process's threads.
        self.results = common.ResultCache(result_cache_size)
        # Recent queries' scores, for the same words with other filters, order or page
        # (off with the result cache: a benchmark then times every query whole).
        self._scores = ScoreCache(SCORES_KEPT if result_cache_size else 0)
        self.writer_timeout = writer_timeout
        self.phrase_time_limit = phrase_time_limit
        self.reindex_procs = max(int(reindex_procs), 1)
        self.schema = build_schema()
        analyzers = {lang: self.schema[f"body_{lang}"].analyzer for lang in common.LANGUAGES}
        self._compiler = QueryCompiler(analyzers)
        self._snippets = Snippets(analyzers)
        self._spell_analyzer = self.schema["spell"].analyzer
        self._local = _ThreadState()
        self._pointer_cache: tuple[tuple[int, int, int], str] | None = None
        # Facet tables per segment, shared by this process's threads; dropped when the
        # generation changes (a rebuild makes every old segment unreachable).
        self._facet_cache: dict = {}
        self._facet_cache_generation: str | None = None
        self._facet_cache_lock = threading.Lock()
        self._weighting = LengthCachingBM25F(self._facet_tables)
        # Allowed documents per audience and filters (``_filter``), shared by the threads.
        self._allowed: OrderedDict[tuple, frozenset[int]] = OrderedDict()
        self._allowed_lock = threading.Lock()

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
        return _DeferredDeletes(str(self.folder / generation)).open_index()

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

    def upsert(self, documents: list[SearchDocument]) -> None:
        """Add or replace ``documents`` (matched on ``ref``) in one commit."""
        if not documents:
            return
        with self.writer_lock(self.writer_timeout):
            ix = self._writable_index()
            # An index written before a field existed (``group``) takes the others until
            # ``flask search reindex`` rebuilds it with the current schema.
            known = set(ix.schema.names())
            latest = list({document.ref: document for document in documents}.values())
            with self._writer(ix) as writer:
                # One delete for the whole batch, then plain adds: ``update_document`` opens
                # a searcher per document to delete its old version (10 ms each).
                writer.delete_by_query(wq.Or([wq.Term("ref", d.ref) for d in latest]))
                for document in latest:
                    fields = document_fields(document)
                    writer.add_document(**{k: v for k, v in fields.items() if k in known})

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
                        writer.add_document(**document_fields(document))
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
    @contextmanager
    def _leased_searcher(self) -> Iterator[Any]:
        """This thread's searcher for the length of one search; None if no index yet.

        The searcher is brought up to date only when no search of this thread holds it: a
        search asks more of it after collecting (the "did you mean" suggestions run further
        searches), and refreshing it then would close the segment readers it is still
        reading (issue 8: ``TypeError: 'NoneType' object is not subscriptable`` inside
        Whoosh, 4 searches in 240 with 12 readers and 4 writers). So a searcher is closed
        or replaced only when its last lease has ended.
        """
        state = self._local
        if state.pid != os.getpid():  # a forked child: the parent's files are not ours
            state.pid, state.generation, state.searcher, state.leases = (
                os.getpid(), None, None, 0)
        searcher = self._up_to_date_searcher() if state.leases == 0 else state.searcher
        state.leases += 1
        try:
            yield searcher
        finally:
            state.leases -= 1

    def _up_to_date_searcher(self):
        """This thread's searcher on the live generation, reopened if the index changed;
        None if no index yet. Only with no lease held (``_leased_searcher``).

        Not ``searcher.refresh()``: Whoosh 2.7.4 matches the readers to reuse by segment id
        against a table keyed by generation, so it reuses none, closes one of the old
        readers only, and a failed refresh leaves the searcher with closed readers
        ("Reader already closed" on the next one). A new searcher opens in 0.3 ms on
        non-compound segments, and the per-segment tables (facets, lengths) carry over.
        """
        generation = self.live_generation()
        if generation is None:
            return None
        state = self._local
        if state.searcher is not None and state.generation == generation:
            try:
                if state.searcher.up_to_date():
                    return state.searcher
            except OSError:  # files went away under us: open the live generation afresh
                log.debug("checking the searcher failed; reopening", exc_info=True)
        self._close_searcher()
        searcher = open_dir(str(self.folder / generation)).searcher(weighting=self._weighting)
        state.pid, state.generation, state.searcher = os.getpid(), generation, searcher
        self._prune_tables(searcher)
        return searcher

    def _close_searcher(self) -> None:
        state = self._local
        assert state.leases == 0, "a searcher is closed only when no search holds it"
        if state.searcher is not None and state.pid == os.getpid():
            try:
                state.searcher.close()
            except Exception:  # noqa: BLE001 - already closed, or its files are gone
                log.debug("closing a stale searcher failed", exc_info=True)
        state.searcher = None

    def _facet_tables(self) -> dict:
        generation = self._local.generation
        with self._facet_cache_lock:
            if self._facet_cache_generation != generation:
                self._facet_cache = {}
                self._facet_cache_generation = generation
            return self._facet_cache

    def _prune_tables(self, searcher) -> None:
        """Forget the tables of segments that merges have replaced."""
        segments = (getattr(reader, "segment", lambda: None)()
                    for reader, _ in searcher.reader().leaf_readers())
        live = {segment.segment_id() for segment in segments
                if segment is not None}  # an empty index has no segment
        tables = self._facet_tables()
        for key in [key for key in list(tables) if key[0] not in live]:
            tables.pop(key, None)

    def _facet_collector(self, collector):
        """The collector that also counts facets while collecting; here none does: they are
        counted afterwards from posting sets (``facets.py``). ``bench/whoosh_facets.py``
        overrides this with Whoosh's own grouping, for comparison."""
        return collector

    def _sample_docs(self, searcher, buckets: int) -> frozenset[int] | None:
        """The documents (global docnums) of sample buckets 0 to ``buckets`` - 1; None for
        an index written before the sample field (until ``flask search reindex``)."""
        if "sample" not in searcher.ixreader.schema:
            return None
        tables = self._facet_tables()
        docs: set[int] = set()
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = getattr(reader, "segment", lambda: None)()
            if segment is None:
                continue
            key = (segment.segment_id(), "sample")
            local = tables.get(key)
            if local is None:
                local = tables[key] = {
                    int(btext): frozenset(reader.postings("sample", btext).all_ids())
                    for btext in reader.lexicon("sample")}
            for bucket in range(buckets):
                docs.update(offset + docnum for docnum in local.get(bucket, ()))
        return frozenset(docs)

    def _facets(self, searcher, results, matched) -> dict[str, list[tuple[str, int]]]:
        """Facet counts over the ``matched`` documents."""
        return facet_counts.count_facets(self.schema, searcher, matched, self._facet_tables())

    def refs(self) -> set[str]:
        with self._leased_searcher() as searcher:
            if searcher is None:
                return set()
            return {fields["ref"] for fields in searcher.all_stored_fields()}

    def count(self) -> int:
        with self._leased_searcher() as searcher:
            return 0 if searcher is None else searcher.doc_count()

    def _filter(self, searcher, query: SearchQuery) -> frozenset[int]:
        """The documents the query's audiences may see that pass its facet filters, as a set
        of docnums; shared by this process's threads per commit of the index (a deletion
        changes the set, not the segments).

        Made from kept parts: the audiences' documents, and each filter value's. A faceted
        search with a combination nobody chose before then intersects sets instead of
        reading the audience and facet postings again (6 ms of a first faceted search at
        10,000 items, issue 12)."""
        audiences = tuple(sorted(common.clean_codes(query.audiences)))
        # A member's own audience (documents naming their few readers) is looked up apart:
        # in the shared set's key, every member would have a set of their own to build.
        personal = tuple(a for a in audiences if is_personal_audience(a))
        shared = tuple(a for a in audiences if not is_personal_audience(a))
        filters = common.checked_filters(query)
        generation = self._generation(searcher)
        chosen = tuple(sorted((f, tuple(sorted(v))) for f, v in filters.items()))
        allowed = seen = self._kept_set(
            (*generation, "audiences", shared),
            partial(self._docs, searcher, [wq.Term("audience", a) for a in shared]))
        if chosen:
            allowed = self._kept_set((*generation, "filtered", shared, chosen),
                                     partial(self._narrowed, searcher, generation, seen, chosen))
        if personal:
            own = self._narrowed(searcher, generation, self._docs(
                searcher, [wq.Term("audience", a) for a in personal]), chosen)
            if not own <= allowed:
                allowed = allowed | own
        return allowed

    def _narrowed(self, searcher, generation: tuple, docs: frozenset[int],
                  chosen: tuple) -> frozenset[int]:
        """``docs`` that have, for each filtered facet, one of its chosen values."""
        for facet, values in chosen:
            field = facet_field(facet)
            docs = docs & frozenset().union(*(
                self._kept_set((*generation, "facet", field, value),
                               partial(self._docs, searcher, [wq.Term(field, value)]))
                for value in values))
        return docs

    @staticmethod
    def _docs(searcher, terms: list) -> frozenset[int]:
        return frozenset(searcher.docs_for_query(wq.Or(terms)))

    def _kept_set(self, key: tuple, make) -> frozenset[int]:
        with self._allowed_lock:
            found = self._allowed.get(key)
            if found is not None:
                self._allowed.move_to_end(key)
                return found
        found = make()
        with self._allowed_lock:
            self._allowed[key] = found
            while len(self._allowed) > ALLOWED_SETS:
                self._allowed.popitem(last=False)
        return found

    def forget_scores(self) -> None:
        """Drop the kept scores (``evaluation.ScoreCache``): the next search of any words
        scores them again, as a benchmark's "first time" must."""
        self._scores.clear()

    def search(self, query: SearchQuery, expansions: dict[str, list[str]]) -> SearchResults:
        typed = syntax.parse(query.text)
        tree, applied = syntax.expand(typed, expansions)
        spelling = _Spelling(typed, frozenset(common.glossary_words(expansions)))
        key = common.query_key(query, expansions)
        try:
            return self._search(query, tree, spelling, key=key, applied=applied)
        except OSError:
            # A writer in another process merged segments away while this searcher was
            # about to open one of their files: start again on a fresh searcher.
            log.info("search index changed during a search; retrying", exc_info=True)
            self._close_searcher()
            return self._search(query, tree, spelling, key=key, applied=applied)

    def _generation(self, searcher) -> tuple:
        """What ``searcher`` reads: the live folder and its commit. Any write (another
        process's too) changes it, so it keys everything kept of what the index holds."""
        return (self._local.generation, searcher.ixreader.generation())

    def _search(self, query: SearchQuery, tree: syntax.Node | None,
                spelling: _Spelling | None = None, *, key: tuple | None = None,
                applied: list[str] | None = None) -> SearchResults:
        with self._leased_searcher() as searcher:
            generation = None if searcher is None else self._generation(searcher)
            if key is not None and generation is not None:
                cached = self.results.get((generation, key))
                if cached is not None:
                    return cached
            results = self._search_on(searcher, query, tree, spelling=spelling)
            results.expansions = list(applied or [])
            if key is not None and generation is not None:
                self.results.put((generation, key), results)
            return results

    def _browse_newest(self, searcher, query: SearchQuery, allowed,
                       versioned: dict[int, bytes]) -> SearchResults:
        """Browsing (no words), newest first: the visible set is the filter itself, and
        the page comes from the index's newest-first order, read only as far as the page
        (no search, no sort key for each visible document)."""
        page, per_page = common.page_bounds(query)
        tables = self._facet_tables()
        order, positions = version_groups.newest_order(searcher, tables)
        matched = set(allowed)
        wanted = page * per_page
        chosen: dict[bytes, int] = {}
        if versioned and not versioned.keys().isdisjoint(matched):
            mine = sorted((positions[d], d) for d in versioned.keys() & matched)
            languages = version_groups.version_languages(searcher, tables, self.schema)
            chosen = version_groups.representatives(
                [(None, d) for _, d in mine], versioned, lambda d: languages.get(d, ""),
                (query.language or "").lower())
            matched -= version_groups.hidden_versions(versioned, chosen, matched)
        shown: list[int] = []
        seen: set[bytes] = set()
        for docnum in order:
            if len(shown) >= wanted:
                break
            if docnum not in matched:
                group = versioned.get(docnum)
                # A hidden version stands for its group at its own place if it is newer.
                if group is None or group in seen or docnum not in allowed:
                    continue
                docnum = chosen[group]
            group = versioned.get(docnum)
            if group is not None:
                if group in seen:
                    continue
                seen.add(group)
            shown.append(docnum)
        hits = []
        for docnum in shown[(page - 1) * per_page:]:
            stored = searcher.stored_fields(docnum)
            hits.append(SearchHit(item_id=int(stored["item_id"]), ref=stored["ref"],
                                  language=stored.get("language", ""), score=0.0,
                                  snippet=self._snippets.snippet(stored, {})))
        return SearchResults(hits=hits, total=len(matched), page=page, per_page=per_page,
                             facets=self._facets(searcher, None, matched))

    def _scored(self, searcher, query: SearchQuery, compiled, allowed: frozenset[int],
                versioned: dict[int, bytes], sort: str, wanted: int, time_limit: float | None
                ) -> tuple[list[tuple[float, int]], set[int], bool, tuple[int, int] | None]:
        """Every allowed match scored (``evaluation.py``, or the scores kept from the same
        words' last search: ``evaluation.ScoreCache``), versions folded, and the first
        ``wanted`` results in order as (score, docnum); with the folded set of matches (for
        the total and the facets), whether the time limit cut the matching short, and,
        past the exact limit, (documents matched, of them in the sample): then the folding,
        the order and the folded set are the sample's.

        Relevance: highest score first, then lowest docnum (Whoosh's order); newest: the
        index's cached newest-first order. A group of versions (an item's translations)
        takes the place of its best version and shows the version in the reader's language
        if one matched, else the best: as ``groups.representatives`` and ``groups.fold``
        over the whole ordered list, in one pass over the matched versions instead of
        sorting them all (thousands at 100,000 items)."""
        key = (*self._generation(searcher), compiled)
        partial = False
        scores = self._scores.get(key, allowed)
        if scores is None:
            deadline = None if time_limit is None else time.monotonic() + time_limit
            evaluation = Evaluation(searcher, self._weighting, deadline, allowed)
            scores = evaluation.evaluate(compiled)
            partial = evaluation.partial
            if not partial:
                self._scores.put(key, scores, allowed if has_phrase(compiled) else None)
        matched = scores.keys() & allowed
        sample = None
        # Only for relevance: "newest first" must show the newest of all the matches, not
        # of a sample.
        buckets = (common.sample_buckets(len(matched), self.exact_limit, self.sample_size)
                   if sort == "relevance" else None)
        if buckets is not None:
            in_sample = matched & (self._sample_docs(searcher, buckets) or frozenset())
            if in_sample:
                sample = (len(matched), len(in_sample))
                matched = in_sample
        if sort == "relevance":
            def better(a: int, b: int) -> bool:
                return scores[a] > scores[b] or (scores[a] == scores[b] and a < b)
        else:
            _, positions = version_groups.newest_order(searcher, self._facet_tables())

            def better(a: int, b: int) -> bool:
                return positions[a] < positions[b]
        places = matched
        stand_in: dict[int, int] = {}
        versions = versioned.keys() & matched if versioned else set()
        if versions:
            languages = version_groups.version_languages(searcher, self._facet_tables(),
                                                         self.schema)
            preferred = (query.language or "").lower()
            best: dict[bytes, int] = {}
            chosen: dict[bytes, int] = {}
            for docnum in versions:
                group = versioned[docnum]
                current = best.get(group)
                if current is None or better(docnum, current):
                    best[group] = docnum
                current = chosen.get(group)
                if current is None:
                    chosen[group] = docnum
                    continue
                mine = bool(preferred) and languages.get(docnum, "") == preferred
                theirs = bool(preferred) and languages.get(current, "") == preferred
                if (mine and not theirs) or (mine == theirs and better(docnum, current)):
                    chosen[group] = docnum
            shown = set(chosen.values())
            matched = matched - (versions - shown)
            places = (matched - shown) | set(best.values())
            stand_in = {best[group]: chosen[group] for group in best}
        if sort == "relevance":
            # Stable: equal scores keep the docnum order.
            first = heapq.nlargest(wanted, sorted(places), key=scores.__getitem__)
        else:
            first = heapq.nsmallest(wanted, places, key=positions.__getitem__)
        ordered = [(scores[d], stand_in.get(d, d)) for d in first]
        return ordered, matched, partial, sample

    def _search_on(self, searcher, query: SearchQuery, tree: syntax.Node | None, *,
                   spelling: _Spelling | None) -> SearchResults:
        page, per_page = common.page_bounds(query)
        empty = SearchResults(hits=[], total=0, page=page, per_page=per_page,
                              facets={facet: [] for facet in FACETS})
        compiled = self._compiler.compile(tree) if tree is not None else wq.Every()
        if searcher is None or not common.clean_codes(query.audiences):
            return empty
        allowed = self._filter(searcher, query)
        if not allowed:
            # Whoosh treats an empty filter as no filter at all (``if allow:``): with no
            # document visible, answer here, or everything would be shown.
            return empty
        sortedby = {
            "relevance": None,
            "newest": sorting.FieldFacet("published", reverse=True),
            "title": sorting.FieldFacet("sort_title"),
        }[common.effective_sort(query, tree is not None)]
        # Collect every match, not only the top N: the filtered set (for the total and the
        # facet counts) then comes out of the same pass. A top-N collector skips blocks
        # while scoring but has to run the query again, unscored, to count.
        versioned = version_groups.versioned_documents(searcher, self._facet_tables())
        if (tree is None and common.effective_sort(query, False) == "newest"
                and type(self)._facets is WhooshBackend._facets):  # bench's variants collect
            return self._browse_newest(searcher, query, allowed, versioned)
        # Phrases are the slow path (FIELD-NOTES: p95 1.6 s at 20,000 documents): bounded.
        time_limit = self.phrase_time_limit if has_phrase(compiled) else None
        sort = common.effective_sort(query, tree is not None)
        results = None
        sample = None
        if (sort in ("relevance", "newest") and supported(compiled)
                and type(self)._facet_collector is WhooshBackend._facet_collector):
            ordered, matched, partial, sample = self._scored(
                searcher, query, compiled, allowed, versioned, sort, page * per_page, time_limit)
            folded = True
        else:
            # NOT, sorting by title, and the benchmark's facet variants: Whoosh's collectors.
            # With versions to fold, the page's groups may need more than page * per_page
            # matches in order (the sorting collector keys every match anyway).
            limit = None if versioned else page * per_page
            collector = (collectors.UnlimitedCollector() if sortedby is None
                         else collectors.SortingCollector(sortedby, limit=limit))
            collector = self._facet_collector(collector)
            collector = VisibleOnly(collector, allowed, time_limit)  # outermost: restricts all
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
            else:
                matched = results.docs()  # the filtered set, as collected
            ordered = results.top_n
            folded = False
        if not folded and versioned and not versioned.keys().isdisjoint(matched):
            # One result per group (an item and its translations): the reader's language
            # if it matched, else the best version; totals and facets count groups.
            languages = version_groups.version_languages(searcher, self._facet_tables(),
                                                         self.schema)
            chosen = version_groups.representatives(
                [entry for entry in ordered if entry[1] in versioned], versioned,
                lambda d: languages.get(d, ""), (query.language or "").lower())
            hidden = version_groups.hidden_versions(versioned, chosen, matched)
            matched = set(matched) - hidden
            # Only as far as the page: a group never needs more than its first place.
            ordered = list(itertools.islice(version_groups.fold(ordered, versioned, chosen),
                                            page * per_page))
        total = len(matched)
        facets = self._facets(searcher, results, matched)
        estimated, reachable = False, None
        if sample is not None:
            estimated, reachable = True, total
            total, facets = common.scaled_counts(total, facets, *sample)

        terms = highlight_terms(compiled) if tree is not None else {}
        hits = []
        for key, docnum in ordered[(page - 1) * per_page : page * per_page]:
            stored = searcher.stored_fields(docnum)
            hits.append(SearchHit(
                item_id=int(stored["item_id"]),
                ref=stored["ref"],
                language=stored.get("language", ""),
                score=float(key or 0.0) if sort == "relevance" else 0.0,
                snippet=self._snippets.snippet(stored, terms),
            ))
        suggestion = None
        if spelling is not None and spelling.typed is not None and common.wants_suggestion(
                spelling.typed, total):
            # Only for few results (a query that found plenty was understood), and only the
            # words as typed, not the glossary's additions (13 words for "due diligence",
            # 8-14 ms of fuzzy matching each one missing from the index).
            language = common.query_language(query)
            in_language = None
            if language:
                in_language = self._filter(searcher, SearchQuery(
                    audiences=query.audiences, filters={"language": [language]}))
            suggestion = suggestions.suggest(
                searcher, query, spelling.typed, allowed, spell_analyzer=self._spell_analyzer,
                in_language=in_language, protected=spelling.protected,
                # On the same searcher: the corrections are counted in what was searched.
                total_for=lambda q, t: self._search_on(searcher, q, t, spelling=None).total)
        return SearchResults(hits=hits, total=total, page=page, per_page=per_page,
                             facets=facets, suggestion=suggestion, partial=partial,
                             estimated=estimated, reachable=reachable)
