"""Many writers, one index: nothing is lost.

FIELD-NOTES: four processes calling ``ix.writer()`` at once lost three quarters of the
documents to ``LockError``. Here four processes commit items concurrently, each applying the
queue after its commits; then one drain must leave the index equal to the database.
"""

from __future__ import annotations

import multiprocessing

from buyergroup.extensions import db
from buyergroup.search.service import apply_pending, get_backend
from tests.search.helpers import published_ids, ref_of
from tests.search.workers import PRELOAD, create_items

WORKERS = 4
ITEMS_PER_WORKER = 10


def test_four_processes_committing_at_once_lose_no_update(queue_app):
    config = {
        key: queue_app.config[key]
        for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "INSTANCE_PATH",
                    "MAIL_FOLDER", "UPLOAD_FOLDER", "INDEX_FOLDER", "SEARCH_BACKEND",
                    "WTF_CSRF_ENABLED", "BASE_URL", "RATELIMIT_STORAGE_URI")
    }
    db.session.remove()  # nothing of ours holds the database while the workers run
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # once per run: the server starts only once
    start_together = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(target=create_items,
                        args=(config, worker, ITEMS_PER_WORKER, start_together, results))
        for worker in range(WORKERS)
    ]
    for process in workers:
        process.start()
    reports = [results.get(timeout=300) for _ in workers]
    for process in workers:
        process.join(timeout=60)
    assert [error for *_, error in reports if error] == []
    assert sum(created for _, created, *_ in reports) == WORKERS * ITEMS_PER_WORKER
    # The workers did run at the same time (else this would prove nothing).
    assert max(started for *_, started, _, _ in reports) < min(
        finished for *_, finished, _ in reports)

    apply_pending()
    expected = {ref_of(item_id) for item_id in published_ids()}
    assert len(expected) == WORKERS * ITEMS_PER_WORKER
    assert get_backend().refs() == expected
