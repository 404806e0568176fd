"""Whole pages for visitors, kept per content generation (issue 12).

A visitor's home page, library, search results, item pages, events, groups and organisations
are the same for every visitor who reads the same language in the same time zone, and they
change only when someone writes content. So they are kept whole, in each process, under a
key of the path with its query, the language, the time zone and the **content generation**:
one row (``content_state``) that every transaction writing content changes before it commits
(``_bump`` below, from the session's own events, so no service has to remember it). A
publish, an edit, a hide, a registration: the commit makes every older page unreachable, in
every process at once. The search index is written after the database commit, and its queue
rows are deleted in a commit of their own after that write: that commit changes the
generation again, so no page holds results older than the index. What is written outside the
ORM's session, and what only time changes ("upcoming"), is bounded by the entries' age
(``PAGE_CACHE_SECONDS``).

Nothing that depends on who is signed in is kept or served: only requests without a
signed-in session or a remember cookie, without messages waiting to be shown, answered
200 with HTML that holds no form token, that set no cookie and wrote nothing. Signed-in
members always get their page rendered for them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_babel import get_timezone
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from buyergroup.accounts.sessions import Companion, load_with_member
from buyergroup.core.models import ContentState
from buyergroup.database import keep_until_flush, kept_until_flush
from buyergroup.extensions import db
from buyergroup.i18n import current_locale_name

#: The pages kept: what visitors read most (a search engine's visitors land on an item),
#: and what a crawler walks.
CACHED_ENDPOINTS = frozenset({
    "core.home", "library.index", "library.item", "events.index", "events.detail",
    "network.groups", "network.group", "network.organisations", "network.organisation",
})

#: Tables whose rows no visitor's page shows: writing them leaves the generation alone, or
#: every signed-in request (its session's "last seen"), every mail sent and every audit
#: entry would empty the cache. A table missing here only costs cache hits, never a stale
#: page.
NOT_CONTENT = frozenset({
    "content_state", "user_sessions", "password_resets", "invitations", "api_tokens",
    "audit_entries", "outbox_messages", "community_notifications", "community_digest_runs",
    "community_preferences",
})

_WRITTEN = "page_cache_content_written"  # Session.info: this transaction wrote content
_KEY = "page_cache_key"  # g: the key this request's page is kept under
_WROTE = "page_cache_request_wrote"  # g: the request committed content itself


class PageCache:
    """Rendered pages (or regions of pages, ``core/kept_regions.py``), least recently used
    first out, each kept at most ``seconds``."""

    def __init__(self, size: int, seconds: float):
        self.size, self.seconds = max(int(size), 0), float(seconds)
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any:
        """The value kept under ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(key, None)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_STATE = ContentState.__table__
_BUMP = update(_STATE).where(_STATE.c.id == 1).values(generation=_STATE.c.generation + 1)


_GENERATION = select(ContentState.generation).where(ContentState.id == 1)


def content_generation() -> int:
    """The committed generation of the site's content (0 before the first write), asked
    once per transaction until it writes; a member's comes with their account."""
    return kept_until_flush(("content_generation",),
                            lambda: db.session.scalar(_GENERATION) or 0)


def _keep_loaded_generation(user, generation) -> None:
    keep_until_flush(("content_generation",), generation or 0)


# A member's kept regions (core/kept_regions.py) ask for it on their pages: with the
# account, it is no statement of its own.
load_with_member(Companion(column=lambda user_id: _GENERATION.scalar_subquery(),
                           receive=_keep_loaded_generation))


def _bump(session: Session) -> None:
    """Change the generation in the writing transaction itself: the new content and the
    new generation become visible together, at its commit."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # what is still pending is written now, and noted by _note_flush
    if not session.info.pop(_WRITTEN, False):
        return
    # On the session's connection, past the ORM: its statement events and bookkeeping were
    # most of the bump's cost (0.4-0.5 ms of a 1.6 ms commit; now 0.03 ms).
    connection = session.connection()
    if not connection.execute(_BUMP).rowcount:
        # The first write of a new database. Two first writers at once: the second one's
        # commit fails on the key and its request answers as any lost race does.
        connection.execute(insert(_STATE).values(id=1, generation=1))
    if has_request_context():
        g.setdefault(_WROTE, True)


def _note_flush(session: Session, flush_context) -> None:
    if session.info.get(_WRITTEN):
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__tablename__", None)
        if table not in NOT_CONTENT and (instance not in session.dirty
                                         or session.is_modified(instance)):
            session.info[_WRITTEN] = True
            return


def _note_statement(state) -> None:
    """An ``update()``, ``delete()`` or ``insert()`` run through the session (the seat
    counter, bulk changes) writes without a flush."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in NOT_CONTENT:
        state.session.info[_WRITTEN] = True


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # however it ended, the transaction's note is done with
        session.info.pop(_WRITTEN, None)


def page_key(*parts: Hashable) -> tuple:
    """The key of this request's kept page, or with ``parts`` of a kept region of it: the
    address with its query, the language, the time zone and the content generation."""
    return (request.full_path, current_locale_name(), str(get_timezone()), *parts,
            content_generation())


def holds_form_token(html: str | bytes) -> bool:
    """Whether ``html`` holds this request's form token (Flask-WTF keeps it on ``g`` once
    a form made one): what holds it belongs to this reader's session, never to be kept."""
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if token is None:
        return False
    token = str(token)
    return (token.encode() if isinstance(html, bytes) else token) in html


def _cache() -> PageCache | None:
    return current_app.extensions.get("page_cache")


def _cacheable_request() -> bool:
    if request.method not in ("GET", "HEAD") or request.endpoint not in CACHED_ENDPOINTS:
        return False
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    # Read from the session itself: asking Flask-Login would load the member first.
    return ("_user_id" not in session and remember not in request.cookies
            and not session.get("_flashes"))


def _serve_from_cache():
    cache = _cache()
    if cache is None or not _cacheable_request():
        return None
    key = page_key()
    kept = cache.get(key)
    if kept is None:
        g.setdefault(_KEY, key)  # kept after rendering, if the answer may be
        return None
    body, content_type = kept
    response = Response(body, content_type=content_type)
    response.headers["X-Page-Cache"] = "hit"
    return response


def _keep(response: Response) -> Response:
    key = g.pop(_KEY, None)
    if key is None:
        return response
    # Not ``session.modified``: Flask-Login marks every visitor's session "not fresh" on
    # each request. What would tie a page to its visitor is a form token in it (Flask-WTF
    # keeps the request's token on ``g``; a view that builds a form it does not show to
    # visitors makes one too), a cookie set by the view, or a sign-in.
    if (response.status_code != 200 or response.mimetype != "text/html"
            or response.direct_passthrough or "Set-Cookie" in response.headers
            or "_user_id" in session or g.get(_WROTE)):
        return response
    # Whoever the page was made for, as Flask-Login saw them (if it was asked): a member
    # signed in by any other way than the session would be turned away here too.
    user = g.get("_login_user")
    if user is not None and user.is_authenticated:
        return response
    body = response.get_data()
    if holds_form_token(body):
        return response
    cache = _cache()
    if cache is not None:
        cache.put(key, (body, response.content_type))
        response.headers["X-Page-Cache"] = "miss"
    return response


_installed = False


def init_app(app: Flask) -> None:
    """Count content writes on every session (once per process), and, when
    ``PAGE_CACHE_SECONDS`` is above 0, keep visitors' pages for that long at most."""
    global _installed
    if not _installed:
        target = db.session  # a scoped_session: listeners go on its Session class
        # After the search hooks' own before_commit, which queues index updates.
        event.listen(target, "before_commit", _bump)
        event.listen(target, "after_flush", _note_flush)
        event.listen(target, "do_orm_execute", _note_statement)
        event.listen(target, "after_transaction_end", _forget)
        _installed = True
    seconds = app.config.get("PAGE_CACHE_SECONDS", 0)
    size = app.config.get("PAGE_CACHE_SIZE", 256)
    if not seconds or not size:
        return
    app.extensions["page_cache"] = PageCache(size, seconds)
    app.before_request(_serve_from_cache)
    app.after_request(_keep)
