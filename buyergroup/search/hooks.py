"""Session hooks that keep the search index from drifting away from the database.

A domain registers each model whose changes affect documents, with a function naming the
affected refs::

    register_model(LibraryItem, lambda item: [f"library_item:{item.id}"])
    register_model(Attachment, lambda a: [f"library_item:{a.item_id}"])

Then, for every transaction of the application's session:

* ``before_flush`` notes the changed, new and deleted instances of registered models (new
  ones are kept as objects: they have no id until the flush);
* ``before_commit`` flushes what is left, turns the noted instances into refs and adds one
  ``PendingIndexUpdate`` row per ref (deduplicated per transaction), so the queue rows
  commit or roll back together with the change;
* ``after_commit`` applies those refs at once, in this process, when
  ``SEARCH_APPLY_ON_COMMIT`` is on and there is an app context (best effort: a failure is
  logged and the rows wait for the scheduler);
* a rollback forgets everything: its queue rows are gone with it, so no ghost hits.

Caches built from other models register with ``on_commit_of(models, callback)``: after a
commit that changed one of them, ``callback()`` runs (the cross-language expansions do this).
What happens to the queued refs after commit is the callback given to ``install``; the
search service gives ``apply_pending``, so this module imports nothing above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from buyergroup.extensions import db
from buyergroup.search.models import PendingIndexUpdate

log = logging.getLogger(__name__)

RefFunction = Callable[[Any], Iterable[str]]
AfterCommit = Callable[[set[str]], None]
_models: dict[type, RefFunction] = {}
_invalidations: dict[Callable[[], None], tuple[type, ...]] = {}
_after_commit_callback: AfterCommit | None = None
_installed = False
STATE = "buyergroup.search.transaction"
APPLYING = "buyergroup.search.applying"  # session.info flag: this session drains the queue


def register_model(model_class: type, ref_fn: RefFunction) -> None:
    """Queue index updates whenever an instance of ``model_class`` is added, changed or
    deleted; ``ref_fn(instance)`` returns the refs of the documents affected."""
    _models[model_class] = ref_fn


def unregister_model(model_class: type) -> None:
    _models.pop(model_class, None)


def registered_models() -> dict[type, RefFunction]:
    return dict(_models)


def on_commit_of(model_classes: tuple[type, ...], callback: Callable[[], None]) -> None:
    """Call ``callback()`` after each commit that added, changed or deleted an instance of
    one of ``model_classes`` (registering the same callback again replaces its models)."""
    if model_classes:
        _invalidations[callback] = tuple(model_classes)
    else:
        _invalidations.pop(callback, None)


def _ref_fn(instance: object) -> RefFunction | None:
    for klass in type(instance).__mro__:
        ref_fn = _models.get(klass)
        if ref_fn is not None:
            return ref_fn
    return None


@dataclass
class _TransactionState:
    refs: set[str] = field(default_factory=set)  # noted, not queued yet
    new_objects: list[object] = field(default_factory=list)  # refs known after the flush
    queued: set[str] = field(default_factory=set)  # rows already added this transaction
    callbacks: set[Callable[[], None]] = field(default_factory=set)  # after the commit


def _state(session: Session) -> _TransactionState:
    state = session.info.get(STATE)
    if state is None:
        state = session.info[STATE] = _TransactionState()
    return state


def queue_refs(session: Session, refs: Iterable[str]) -> None:
    """Add queue rows for ``refs`` to ``session`` (once per ref per transaction)."""
    state = _state(session)
    for ref in sorted(set(refs) - state.queued):
        session.add(PendingIndexUpdate(document_ref=ref))
        state.queued.add(ref)


def _before_flush(session: Session, flush_context, instances) -> None:
    state = _state(session)
    new, dirty, deleted = session.new, session.dirty, session.deleted  # each call builds a set
    for instance in [*new, *dirty, *deleted]:
        for callback, classes in _invalidations.items():
            if isinstance(instance, classes):
                state.callbacks.add(callback)
        ref_fn = _ref_fn(instance)
        if ref_fn is None:
            continue
        if instance in new:
            state.new_objects.append(instance)
        elif instance in deleted or session.is_modified(instance):
            # Deleted rows must be named now: after the flush they are gone.
            state.refs.update(ref_fn(instance))


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # new objects get their ids; before_flush notes the rest
    state = session.info.get(STATE)
    if state is None:
        return
    for instance in state.new_objects:
        if inspect(instance).persistent:  # skip objects a rolled-back savepoint discarded
            ref_fn = _ref_fn(instance)
            if ref_fn is not None:
                state.refs.update(ref_fn(instance))
    state.new_objects.clear()
    if state.refs:
        queue_refs(session, state.refs)
        state.refs.clear()


def _after_commit(session: Session) -> None:
    state = session.info.pop(STATE, None)
    if state is None:
        return
    for callback in state.callbacks:
        callback()
    if not state.queued or session.info.get(APPLYING) or not has_app_context():
        return
    if _after_commit_callback is None:
        return
    if not current_app.config.get("SEARCH_APPLY_ON_COMMIT", True):
        return
    try:
        _after_commit_callback(set(state.queued))
    except Exception:  # noqa: BLE001 - the commit succeeded; the scheduler retries the rows
        log.exception("applying search index updates after commit failed; rows stay queued")


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested:
        # A savepoint rolled back: rows it added are gone, so queue those refs again at
        # commit (an extra row is harmless, a missing one is drift).
        state = session.info.get(STATE)
        if state is not None:
            state.refs |= state.queued
            state.queued = set()
        return
    session.info.pop(STATE, None)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # However the transaction ended (commit, rollback, close), its notes are done with.
        session.info.pop(STATE, None)


def install(after_commit: AfterCommit) -> None:
    """Listen on the application's session class (once per process); ``after_commit(refs)``
    is called after a commit that queued ``refs``, when ``SEARCH_APPLY_ON_COMMIT`` is on."""
    global _installed, _after_commit_callback
    _after_commit_callback = after_commit
    if _installed:
        return
    target = db.session  # a scoped_session: listeners go on its Session class
    event.listen(target, "before_flush", _before_flush)
    event.listen(target, "before_commit", _before_commit)
    event.listen(target, "after_commit", _after_commit)
    event.listen(target, "after_soft_rollback", _after_soft_rollback)
    event.listen(target, "after_transaction_end", _after_transaction_end)
    _installed = True
