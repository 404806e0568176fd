"""Search: the only API the rest of the application uses.

* ``search(query)`` expands the query across languages with the glossary, then asks the
  configured backend (``SEARCH_BACKEND``: "whoosh", the default, or "postgresql").
* Domains register a *source* per kind of document: ``register_source("library_item",
  load_document, all_published_ids)``. A ref is ``"<prefix>:<id>"``; the loader returns the
  ``SearchDocument`` for an id, or None when the document must not be in the index
  (deleted, unpublished).
* Changes reach the index through a durable queue (``PendingIndexUpdate``): rows are added
  in the same transaction as the change (``queue_update``, or automatically by ``hooks.py``)
  and applied after commit by ``apply_pending``, which one writer at a time runs: right
  after the commit, at each scheduler tick, or from ``flask search apply``.
* ``reindex()`` rebuilds everything from the sources without interrupting searches.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, func, select, text

from buyergroup.extensions import db
from buyergroup.search import common, hooks
from buyergroup.search.expansion import find_expansions
from buyergroup.search.hooks import APPLYING
from buyergroup.search.models import PendingIndexUpdate
from buyergroup.search.postgres_backend import PostgresBackend
from buyergroup.search.types import (
    IndexBusy,
    QuerySyntaxError,
    SearchBackend,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from buyergroup.search.whoosh import WhooshBackend

log = logging.getLogger(__name__)

# Settings and their defaults; ``init_app`` puts them in the config.
DEFAULTS: dict[str, Any] = {
    "SEARCH_BACKEND": "whoosh",
    # Apply queued updates right after the commit that queued them (best effort: whatever
    # fails or finds the writer busy stays queued for the scheduler).
    "SEARCH_APPLY_ON_COMMIT": True,
    # Seconds a request waits for the writer after its commit; the scheduler waits longer.
    "SEARCH_COMMIT_LOCK_TIMEOUT": 2.0,
    "SEARCH_LOCK_TIMEOUT": 30.0,
    # How long a reindex waits for a running drain before giving up.
    "SEARCH_REINDEX_LOCK_TIMEOUT": 300.0,
    # Whoosh: phrase searches stop after this many seconds and return what they found.
    "SEARCH_PHRASE_TIME_LIMIT": 0.5,
    # Whoosh: processes used by a reindex (2 cut it from 57 to 26 s at 10,000 documents;
    # the writer forks, so keep 1 where a threaded server might call it).
    "SEARCH_REINDEX_PROCS": 1,
    # PostgreSQL: statement_timeout for a search.
    "SEARCH_STATEMENT_TIMEOUT_MS": 5000,
    # A search matching more documents than this counts a sample of about
    # SEARCH_SAMPLE_SIZE of them and shows its counts as estimates (0: never); PostgreSQL
    # ranks only the sample too, Whoosh still scores every match.
    "SEARCH_EXACT_COUNT_LIMIT": 5_000,
    "SEARCH_SAMPLE_SIZE": 3_000,
    # Results of recent searches kept per process, per generation of the index (a write
    # makes the older ones unreachable); 0 keeps none.
    "SEARCH_RESULT_CACHE_SIZE": 256,
}
MAX_ERROR_LENGTH = 500


def init_app(app: Flask) -> None:
    """Set the search defaults and install the session hooks (call from ``create_app``)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    hooks.install(after_commit=_apply_after_commit)


def _apply_after_commit(refs: set[str]) -> None:
    """What the session hooks do with the refs a commit queued: apply them at once, waiting
    only briefly for the writer (what is not applied stays queued for the scheduler)."""
    apply_pending(refs=refs, lock_timeout=float(_setting("SEARCH_COMMIT_LOCK_TIMEOUT")))


def _setting(key: str) -> Any:
    return current_app.config.get(key, DEFAULTS[key])


# --- Sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    prefix: str
    loader: Callable[[int], SearchDocument | None]
    all_ids: Callable[[], Iterable[int]]
    # How a search page shows this source's hits: ``present(hits, user)`` returns the hits
    # ``user`` may see, by ref, each an object with title, url, source_label and snippet.
    # None: the page that searches knows these documents itself (the library's own).
    present: Callable[[list[SearchHit], Any], dict[str, Any]] | None = None
    label: Any = None  # what a result from this source is called ("Discussion")
    # Optional: the documents of many ids at once (rebuilds and queue drains load in a few
    # queries what ``loader`` loads in several per document); ids it leaves out are gone.
    load_many: Callable[[list[int]], Iterable[SearchDocument]] | None = None


_sources: dict[str, Source] = {}


def register_source(
    prefix: str,
    loader: Callable[[int], SearchDocument | None],
    all_ids: Callable[[], Iterable[int]],
    *,
    present: Callable[[list[SearchHit], Any], dict[str, Any]] | None = None,
    label: Any = None,
    load_many: Callable[[list[int]], Iterable[SearchDocument]] | None = None,
) -> None:
    """Make documents ``"<prefix>:<id>"`` indexable. Registering a prefix again replaces it.

    ``present`` and ``label``: how a search page shows this source's hits (see ``Source``).
    ``load_many(ids)``: optional, the documents of many ids at once (see ``Source``).
    """
    if not prefix or ":" in prefix:
        raise ValueError(f"invalid source prefix {prefix!r}")
    _sources[prefix] = Source(prefix, loader, all_ids, present, label, load_many)


def unregister_source(prefix: str) -> None:
    _sources.pop(prefix, None)


def registered_sources() -> dict[str, Source]:
    return dict(_sources)


def source_of(ref: str) -> str:
    """The prefix of a document ref: "discussion:7" -> "discussion"."""
    return ref.partition(":")[0]


def present_hits(hits: list[SearchHit], user: Any) -> dict[str, Any]:
    """Results for the hits of sources that present their own (``register_source(...,
    present=)``), by ref; each source checks again that ``user`` may see each hit."""
    by_source: dict[str, list[SearchHit]] = defaultdict(list)
    for hit in hits:
        by_source[source_of(hit.ref)].append(hit)
    shown: dict[str, Any] = {}
    for prefix, source_hits in by_source.items():
        source = _sources.get(prefix)
        if source is not None and source.present is not None:
            shown.update(source.present(source_hits, user))
    return shown


def _load(ref: str) -> SearchDocument | None:
    prefix, _, raw_id = ref.partition(":")
    source = _sources.get(prefix)
    if source is None:
        raise LookupError(f"no search source registered for {prefix!r}")
    if not raw_id.isdigit():
        raise ValueError(f"malformed document ref {ref!r}")
    document = source.loader(int(raw_id))
    if document is not None and document.ref != ref:
        raise ValueError(f"the {prefix!r} loader returned {document.ref!r} for {ref!r}")
    return document


# --- Backend ------------------------------------------------------------------------------------


def get_backend() -> SearchBackend:
    """The configured backend, one per app and setting (searchers are reused inside it)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = app.config.get("SEARCH_BACKEND", DEFAULTS["SEARCH_BACKEND"])
    backends = app.extensions.setdefault("buyergroup.search", {})
    if name == "whoosh":
        key: tuple = (name, app.config["INDEX_FOLDER"])
    elif name == "postgresql":
        key = (name, db.engine.url.render_as_string(hide_password=True))
    else:
        raise ValueError(f"unknown SEARCH_BACKEND {name!r}: use 'whoosh' or 'postgresql'")
    backend = backends.get(key)
    if backend is None:
        if name == "whoosh":
            backend = WhooshBackend(
                app.config["INDEX_FOLDER"],
                writer_timeout=float(_setting("SEARCH_LOCK_TIMEOUT")),
                phrase_time_limit=float(_setting("SEARCH_PHRASE_TIME_LIMIT")),
                reindex_procs=int(_setting("SEARCH_REINDEX_PROCS")),
                result_cache_size=int(_setting("SEARCH_RESULT_CACHE_SIZE")),
                exact_limit=int(_setting("SEARCH_EXACT_COUNT_LIMIT")),
                sample_size=int(_setting("SEARCH_SAMPLE_SIZE")),
            )
        else:
            backend = PostgresBackend(
                db.engine,
                writer_timeout=float(_setting("SEARCH_LOCK_TIMEOUT")),
                statement_timeout_ms=int(_setting("SEARCH_STATEMENT_TIMEOUT_MS")),
                # The request's own connection: one pooled connection per search request.
                reading_connection=lambda: db.session.connection(),
                result_cache_size=int(_setting("SEARCH_RESULT_CACHE_SIZE")),
                exact_limit=int(_setting("SEARCH_EXACT_COUNT_LIMIT")),
                sample_size=int(_setting("SEARCH_SAMPLE_SIZE")),
            )
        backends[key] = backend
    return backend


# --- Searching ----------------------------------------------------------------------------------


def search(query: SearchQuery) -> SearchResults:
    """Run ``query``; a query the parser cannot read comes back with ``error`` set."""
    expansions = find_expansions(query.text) if query.expand_languages and query.text else {}
    try:
        return get_backend().search(query, expansions)
    except QuerySyntaxError as error:
        page, per_page = common.page_bounds(query)
        return SearchResults(hits=[], total=0, page=page, per_page=per_page, error=str(error))


# --- The queue ----------------------------------------------------------------------------------


def queue_update(ref: str) -> None:
    """Queue ``ref`` for (re)indexing in the current session; the caller commits.

    Usually not needed: ``hooks.register_model`` queues changes of a model automatically.
    """
    hooks.queue_refs(db.session(), [ref])


def apply_pending(limit: int = 500, *, refs: Iterable[str] | None = None,
                  lock_timeout: float | None = None) -> int:
    """Apply up to ``limit`` queued updates (only those for ``refs`` if given).

    Returns how many documents were brought up to date. Holds the writer lock (one writer
    at a time across threads and processes); if another writer keeps it longer than
    ``lock_timeout`` seconds, applies nothing and returns 0: the rows stay queued. A
    document that fails to load or index keeps its rows, with ``attempts`` counted and
    ``last_error`` kept.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backend = get_backend()
    timeout = float(_setting("SEARCH_LOCK_TIMEOUT") if lock_timeout is None else lock_timeout)
    wanted = None if refs is None else sorted(set(refs))
    try:
        with backend.writer_lock(timeout):
            # An app context of our own gives a session of our own: committing the drain
            # never commits (or expires) anything the caller has in hand.
            with app.app_context():
                return _drain(backend, limit, wanted)
    except IndexBusy as busy:
        log.info("search index writer busy; updates stay queued (%s)", busy)
        return 0


def _drain(backend: SearchBackend, limit: int, refs: list[str] | None) -> int:
    session = db.session()
    session.info[APPLYING] = True
    statement = (select(PendingIndexUpdate)
                 .order_by(PendingIndexUpdate.attempts, PendingIndexUpdate.id)
                 .limit(limit))
    if refs is not None:
        if not refs:
            return 0
        statement = statement.where(PendingIndexUpdate.document_ref.in_(refs))
    if session.get_bind().dialect.name == "postgresql":
        # Another drain (another machine, say) skips the rows this one is applying.
        statement = statement.with_for_update(skip_locked=True)
    rows = list(session.scalars(statement))
    if not rows:
        session.rollback()
        return 0
    by_ref: dict[str, list[PendingIndexUpdate]] = defaultdict(list)
    for row in rows:
        by_ref[row.document_ref].append(row)

    failures: dict[str, str] = {}
    upserts: list[SearchDocument] = []
    removals: list[str] = []
    for ref in by_ref:
        try:
            document = _load(ref)
        except Exception as error:  # noqa: BLE001 - one bad document must not stop the rest
            log.exception("could not load %s for the search index", ref)
            failures[ref] = f"{type(error).__name__}: {error}"
            continue
        if document is None:
            removals.append(ref)
        else:
            upserts.append(document)
    try:
        backend.upsert(upserts)
        backend.delete(removals)
    except Exception as error:  # noqa: BLE001 - recorded on the rows, retried next time
        log.exception("could not write %d document(s) to the search index", len(by_ref))
        for ref in by_ref:
            failures.setdefault(ref, f"{type(error).__name__}: {error}")

    done_ids = [row.id for ref, group in by_ref.items() if ref not in failures for row in group]
    try:
        for ref, message in failures.items():
            for row in by_ref[ref]:
                row.attempts += 1
                row.last_error = message[:MAX_ERROR_LENGTH]
        if done_ids:
            session.execute(delete(PendingIndexUpdate).where(PendingIndexUpdate.id.in_(done_ids)))
        session.commit()
    except Exception:
        # A loader may have broken the transaction (PostgreSQL aborts it on any error).
        # The index is already written and writes are idempotent: the rows simply stay
        # queued and are applied again.
        log.exception("could not record the search queue drain; rows stay queued")
        session.rollback()
        _record_failures(by_ref, failures)
        return 0
    return len(by_ref) - len(failures)


def _record_failures(by_ref: dict[str, list[PendingIndexUpdate]], failures: dict[str, str]) -> None:
    if not failures:
        return
    session = db.session()
    try:
        ids = [row.id for ref in failures for row in by_ref[ref]]
        rows = session.scalars(select(PendingIndexUpdate).where(PendingIndexUpdate.id.in_(ids)))
        for row in rows:
            row.attempts += 1
            row.last_error = failures[row.document_ref][:MAX_ERROR_LENGTH]
        session.commit()
    except Exception:  # noqa: BLE001 - the rows are still there; only the count is lost
        log.exception("could not record search index failures")
        session.rollback()


# --- Rebuild and status -------------------------------------------------------------------------


LOAD_BATCH = 500


def _all_documents() -> Iterator[SearchDocument]:
    session = db.session()
    count = 0
    for _prefix, source in sorted(_sources.items()):
        ids = [int(item_id) for item_id in source.all_ids()]
        if source.load_many is not None:
            # A few queries per batch instead of several per document (issue 12: the
            # loaders, not the index, set the pace of a reindex).
            for start in range(0, len(ids), LOAD_BATCH):
                yield from source.load_many(ids[start:start + LOAD_BATCH])
                session.expunge_all()
            continue
        for item_id in ids:
            document = source.loader(item_id)
            if document is not None:
                yield document
            count += 1
            if count % LOAD_BATCH == 0:
                session.expunge_all()  # bound the identity map on big rebuilds


def reindex(*, procs: int | None = None) -> int:
    """Rebuild the index from every source; returns the number of documents indexed.

    Searches keep being answered from the old index until the new one is complete. Holds
    the writer lock throughout, so changes committed meanwhile wait in the queue; they are
    applied right after the swap. ``procs``: Whoosh indexing processes (default
    ``SEARCH_REINDEX_PROCS``).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backend = get_backend()
    with backend.writer_lock(float(_setting("SEARCH_REINDEX_LOCK_TIMEOUT"))):
        with app.app_context():
            count = backend.rebuild(_all_documents(), procs=procs)
            db.session.remove()
        while True:
            with app.app_context():
                if not _drain(backend, 500, None):
                    break
    with app.app_context():
        refresh_statistics()
    return count


def refresh_statistics() -> None:
    """Fresh planner statistics for the application's tables, after a bulk load or a
    rebuild. Without them SQLite picked the status/visibility index for the list pages'
    translation-siblings query: 11 ms per page at 10,000 items, 0.14 ms after ANALYZE
    (issue 12)."""
    session = db.session()
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("ANALYZE"))
            session.execute(text("PRAGMA optimize"))
        else:
            session.execute(text("ANALYZE"))
        session.commit()
    except Exception:  # noqa: BLE001 - statistics are an optimisation, never a failure
        log.exception("could not refresh the database statistics")
        session.rollback()


def index_status() -> dict[str, Any]:
    """Documents in the index and the state of the queue."""
    backend = get_backend()
    pending, failing, oldest = db.session.execute(
        select(
            func.count(PendingIndexUpdate.id),
            func.count(PendingIndexUpdate.id).filter(PendingIndexUpdate.attempts > 0),
            func.min(PendingIndexUpdate.created_at),
        )
    ).one()
    return {
        "backend": backend.name,
        "documents": backend.count(),
        "pending": int(pending),
        "failing": int(failing),
        "oldest_pending": oldest,
    }
