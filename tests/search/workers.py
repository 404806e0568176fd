"""Code run in separate processes by tests/search/test_concurrency.py.

It lives in an importable module because the processes start from a fresh interpreter
(the "forkserver" start method: a test's local function cannot be pickled). The server
imports this module and builds one app of its own, once (``PRELOAD``, ``warm_app``): each
worker is a fork of it and builds its app in milliseconds, instead of importing everything
and compiling every URL rule again.
"""

from __future__ import annotations

import time
import traceback

PRELOAD = [__name__, "tests.search.warm_app", "tests.search.helpers"]


def create_items(config: dict, worker: int, count: int, start_together, results) -> None:
    """Create and commit ``count`` published items one by one, as a web worker would.

    Every worker builds its app first and then waits at ``start_together`` (a barrier), so
    the commits really overlap. Puts ``(worker, created, started, finished, error)`` on
    ``results``.
    """
    created, started, error = 0, 0.0, ""
    try:
        from buyergroup import create_app
        from buyergroup.extensions import db
        from buyergroup.search.service import init_app
        from tests.search.helpers import make_item, register_library_source

        app = create_app(config)
        init_app(app)
        register_library_source()
        with app.app_context():
            start_together.wait(timeout=120)
            started = time.time()
            for n in range(count):
                make_item(f"Worker {worker} item {n}", body=f"Concurrent item {worker}-{n}.")
                db.session.commit()  # apply-on-commit: every worker contends for the writer
                created += 1
            db.session.remove()
            db.engine.dispose()
    except BaseException:  # noqa: BLE001 - reported to the test, which fails on it
        error = traceback.format_exc()
    results.put((worker, created, started, time.time(), error))
