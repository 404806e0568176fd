"""Browser tests: the app served from a thread, driven by Debian's Chromium via Playwright.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium``. Without Chromium
these tests are skipped, except when ``REQUIRE_BROWSER=1`` (CI), where each one errors.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from buyergroup.extensions import db

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    # Browser tests drive the UI; the database layer is covered on both backends elsewhere:
    # they run on SQLite only. (Deselected rather than by overriding ``backend``: an
    # override would leave its session app cached for the next test of another backend.)
    other_backends = [item for item in items if "browser" in item.keywords
                      and getattr(item, "callspec", None) is not None
                      and item.callspec.params.get("backend", "sqlite") != "sqlite"]
    if other_backends:
        config.hook.pytest_deselected(items=other_backends)
        items[:] = [item for item in items if item not in other_backends]
    for item in items:
        if "browser" in item.keywords:
            # The app serves Chromium from another thread: the test's data must be committed.
            item.add_marker(pytest.mark.committing)
    if CHROMIUM or os.environ.get("REQUIRE_BROWSER") == "1":
        # With REQUIRE_BROWSER=1 (CI) and no Chromium, each browser test runs and errors in
        # ``browser_type_launch_args``: the run fails, it never skips or expects a failure.
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(
                reason="Chromium is not installed (apt-get install chromium); "
                       "REQUIRE_BROWSER=1 makes this an error"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1: {message}", pytrace=False)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}




@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free localhost port for the duration of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for serve_forever's next poll: every 50 ms, not every 500 ms.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db.session.remove()
