"""Changes reach the index through the durable queue, and nothing else does.

Each test runs with Whoosh on SQLite, Whoosh on PostgreSQL, and PostgreSQL full-text search
(the last two when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from sqlalchemy import func, select

from buyergroup.extensions import db
from buyergroup.library.models import Attachment, ItemStatus, Visibility
from buyergroup.search import service
from buyergroup.search.models import PendingIndexUpdate
from buyergroup.search.service import apply_pending, get_backend, index_status, queue_update
from buyergroup.search.types import AUDIENCE_MEMBERS, AUDIENCE_PUBLIC, SearchQuery
from tests.search.helpers import load_item, make_item, published_ids, ref_of


def queued() -> list[str]:
    return sorted(db.session.scalars(select(PendingIndexUpdate.document_ref)))


def indexed() -> set[str]:
    return get_backend().refs()


def test_a_commit_indexes_the_change_at_once(queue_app):
    item = make_item("Fair laptops")
    db.session.commit()
    assert indexed() == {ref_of(item.id)}
    assert queued() == []
    hits = service.search(SearchQuery(text="laptops")).hits
    assert [h.item_id for h in hits] == [item.id]


def test_a_rollback_leaves_no_queue_row_and_no_hit(queue_app):
    make_item()
    db.session.flush()  # the hooks have seen it
    db.session.rollback()
    make_item("Another", status=ItemStatus.draft)
    db.session.commit()  # a later commit must not carry the rolled-back ref
    assert queued() == []
    assert indexed() == set()


def test_without_apply_on_commit_the_row_waits_for_apply_pending(queue_app):
    # What a crash between commit and indexing leaves behind.
    queue_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    item = make_item()
    db.session.commit()
    assert queued() == [ref_of(item.id)]
    assert indexed() == set()
    assert apply_pending() == 1
    assert queued() == [] and indexed() == {ref_of(item.id)}
    assert apply_pending() == 0


def test_changes_and_deletions_follow_the_database(queue_app):
    item = make_item("Old title")
    db.session.commit()
    item.title = "Recycled servers"
    db.session.commit()
    assert [h.item_id for h in service.search(SearchQuery(text="recycled")).hits] == [item.id]
    item.visibility = Visibility.members
    db.session.commit()
    assert service.search(SearchQuery(text="recycled", audiences=[AUDIENCE_PUBLIC])).total == 0
    assert service.search(SearchQuery(text="recycled", audiences=[AUDIENCE_MEMBERS])).total == 1
    item.status = ItemStatus.archived  # the loader returns None: removed
    db.session.commit()
    assert indexed() == set()
    item.status = ItemStatus.published
    db.session.commit()
    assert indexed() == {ref_of(item.id)}
    db.session.delete(item)
    db.session.commit()
    assert indexed() == set() and queued() == []


def test_a_change_to_a_related_model_reindexes_its_item(queue_app):
    item = make_item("Criterion")
    db.session.commit()
    db.session.add(Attachment(item_id=item.id, original_name="a.pdf", stored_name="x1",
                              content_type="application/pdf", size=1, sha256="0" * 64,
                              extracted_text="Cobalt smelters audit report"))
    db.session.commit()
    assert [h.item_id for h in service.search(SearchQuery(text="cobalt")).hits] == [item.id]


def test_one_queue_row_per_document_per_transaction(queue_app):
    queue_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    item = make_item()
    db.session.flush()
    item.title = "Second"
    db.session.flush()
    item.summary = "Third"
    queue_update(ref_of(item.id))
    db.session.commit()
    assert queued() == [ref_of(item.id)]


def test_a_rolled_back_savepoint_keeps_the_outer_change_queued(queue_app):
    queue_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    first = make_item("First")
    db.session.flush()
    savepoint = db.session.begin_nested()
    make_item("Second")
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert queued() == [ref_of(first.id)]
    assert apply_pending() == 1 and indexed() == {ref_of(first.id)}


def test_a_failing_document_keeps_its_row_and_the_rest_is_applied(queue_app):
    queue_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    good, bad = make_item("Good"), make_item("Bad")
    db.session.commit()

    def flaky(item_id: int):
        if item_id == bad.id:
            raise RuntimeError("extraction service unavailable")
        return load_item(item_id)

    service.register_source("library_item", flaky, published_ids)
    assert apply_pending() == 1
    assert indexed() == {ref_of(good.id)}
    row = db.session.scalars(select(PendingIndexUpdate)).one()
    assert row.document_ref == ref_of(bad.id)
    assert row.attempts == 1 and "extraction service unavailable" in row.last_error
    status = index_status()
    assert (status["pending"], status["failing"], status["documents"]) == (1, 1, 1)

    service.register_source("library_item", load_item, published_ids)
    assert apply_pending() == 1
    assert queued() == [] and indexed() == {ref_of(good.id), ref_of(bad.id)}


def test_an_unknown_source_keeps_its_row(queue_app):
    queue_update("nobody:1")
    db.session.commit()
    row = db.session.scalars(select(PendingIndexUpdate)).one()
    assert row.attempts == 1 and "nobody" in row.last_error


def test_a_busy_writer_leaves_the_rows_for_later(queue_app):
    outcome = {}

    def commit_elsewhere():
        with queue_app.app_context():
            item = make_item("Waiting")
            db.session.commit()
            outcome["ref"] = ref_of(item.id)

    queue_app.config["SEARCH_COMMIT_LOCK_TIMEOUT"] = 0.1
    try:
        with get_backend().writer_lock(5):  # another writer (a reindex, say) is busy
            worker = threading.Thread(target=commit_elsewhere)
            worker.start()
            worker.join()
    finally:
        queue_app.config["SEARCH_COMMIT_LOCK_TIMEOUT"] = 2.0
    assert queued() == [outcome["ref"]] and indexed() == set()
    assert apply_pending() == 1 and indexed() == {outcome["ref"]}


def test_commits_without_an_app_context_leave_rows_safely(queue_app):
    with mock.patch("buyergroup.search.hooks.has_app_context", return_value=False):
        item = make_item()
        db.session.commit()
    assert queued() == [ref_of(item.id)]
    assert apply_pending() == 1


def test_apply_pending_does_not_touch_the_callers_session(queue_app):
    queue_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    item = make_item("Mine")
    db.session.commit()
    pending_change = make_item("Not committed yet")
    assert apply_pending() == 1
    assert pending_change in db.session.new  # still the caller's to commit or drop
    db.session.rollback()
    assert db.session.scalar(select(func.count(PendingIndexUpdate.id))) == 0
    assert indexed() == {ref_of(item.id)}


@pytest.mark.parametrize("command", [["search", "status"], ["search", "apply"],
                                     ["search", "reindex"]])
def test_the_cli(queue_app, command):
    from buyergroup.search.cli import register_search_cli

    register_search_cli(queue_app)
    queue_app.config["SEARCH_APPLY_ON_COMMIT"] = False
    make_item("One")
    make_item("Two")
    db.session.commit()
    result = queue_app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    if command[1] == "status":
        assert "Pending updates: 2" in result.output
    else:
        assert len(indexed()) == 2 and queued() == []
        assert ("Applied 2" if command[1] == "apply" else "Indexed 2") in result.output
