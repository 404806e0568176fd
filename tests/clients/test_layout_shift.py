"""Cumulative layout shift on the main pages, measured in Chromium as Lighthouse does
(PerformanceObserver "layout-shift" entries without recent input, summed, on a throttled
connection): below 0.1, on a desktop window and on a 390 px phone."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from buyergroup.extensions import db
from tests.clients.conftest import in_own_thread

CHROMIUM = shutil.which("chromium")
LIMIT = 0.1

OBSERVE = """
window.__cls = 0; window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__cls += entry.value;
    window.__shifts.push({value: entry.value, nodes: (entry.sources || []).map((s) =>
      s.node ? (s.node.nodeName + (s.node.id ? "#" + s.node.id : "") +
                (s.node.className && typeof s.node.className === "string"
                 ? "." + s.node.className.split(" ").join(".") : "")) : "?")});
  }
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture
def served_seed(_seeded_session_app):
    app = _seeded_session_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with app.app_context():
            yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def main_paths(app) -> dict[str, str]:
    from buyergroup.events.models import Event
    from buyergroup.library.models import ItemStatus, LibraryItem, Visibility

    item = db.session.scalar(select(LibraryItem.id).where(
        LibraryItem.status == ItemStatus.published, LibraryItem.visibility == Visibility.public)
        .order_by(LibraryItem.id).limit(1))
    event = db.session.scalar(select(Event.id).order_by(Event.id).limit(1))
    db.session.remove()
    return {"home": "/", "library": "/library", "search": "/library?q=laptop",
            "item": f"/library/{item}", "events": "/events", "event": f"/events/{event}",
            "groups": "/groups", "glossary": "/library/glossary", "sign-in": "/login"}


def throttled_page(context):
    """A tab with Lighthouse's mobile throttling, roughly: scripts and styles arrive late, as
    on a slow connection, so what moves when they arrive is measured."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 150, "downloadThroughput": 1.6 * 1024 * 1024 / 8,
        "uploadThroughput": 750 * 1024 / 8})
    return page


def measure_all(context, urls: dict[str, str]) -> dict[str, tuple[float, list]]:
    """Each page in a tab of its own, all loading at once (each on its own throttled
    connection), then observed for 600 ms after the last one has loaded."""
    tabs = {name: throttled_page(context) for name in urls}
    for name, url in urls.items():
        tabs[name].goto(url, wait_until="commit")
    for tab in tabs.values():
        tab.wait_for_load_state("load")
    next(iter(tabs.values())).wait_for_timeout(600)
    return {name: (tab.evaluate("window.__cls"), tab.evaluate("window.__shifts"))
            for name, tab in tabs.items()}


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium")
@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_do_not_shift(served_seed, width):
    from playwright.sync_api import sync_playwright

    app, base = served_seed
    paths = main_paths(app)
    found = {}

    def look() -> None:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            context = browser.new_context(viewport={"width": width, "height": 900},
                                          locale="en-GB")
            context.add_init_script(OBSERVE)
            found.update(measure_all(context, {name: base + path
                                               for name, path in paths.items()}))
            browser.close()

    in_own_thread(look)
    print({name: round(cls, 3) for name, (cls, _) in found.items()})
    shifted = {name: (round(cls, 3), shifts[:4]) for name, (cls, shifts) in found.items()
               if cls >= LIMIT}
    assert not shifted, shifted


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium")
def test_a_phone_page_is_laid_out_for_javascript_before_any_script_file_arrives(served_seed):
    """The class that lays a page out for JavaScript is set inline, under the page's own
    Content-Security-Policy, so the first paint is the final layout however late site.js
    and library.js arrive (here: never)."""
    from playwright.sync_api import sync_playwright

    app, base = served_seed
    found = {}

    def look() -> None:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for blocked in (False, True):
                context = browser.new_context(viewport={"width": 390, "height": 900})
                if blocked:
                    context.route("**/static/js/**", lambda route: route.abort())
                page = context.new_page()
                page.goto(base + "/library")
                found[blocked] = page.evaluate(
                    "[document.documentElement.classList.contains('js'),"
                    " Math.round(document.getElementById('main').getBoundingClientRect().top)]")
                context.close()
            browser.close()

    in_own_thread(look)
    assert found[True] == found[False]
    assert found[True][0], found
