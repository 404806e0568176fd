"""GET requests change nothing: every event page, feed and file is read without one INSERT,
UPDATE or DELETE (a calendar link is created by an explicit POST, never by a page view).

The one piece of bookkeeping a GET may write is when a calendar last read the personal feed
(shown to the member on their calendar page), at most once an hour however often it polls.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event as sa_event

from buyergroup.events import service
from buyergroup.events.models import CalendarFeed
from buyergroup.extensions import db
from tests.events.conftest import reload

# The events domain's tables and the mail it queues (other domains' own bookkeeping, such as
# a session store, is theirs to test).
WATCHED = re.compile(
    r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(events|event_\w+|calendar_feeds|"
    r"outbox_messages)\b", re.IGNORECASE)


@contextmanager
def writes_seen():
    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if WATCHED.match(statement):
            seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", watch)


def test_no_event_page_writes_on_get(client, auth, organiser, group, make_event, member):
    event = make_event(capacity=1)
    service.register(member, event)
    item = service.save_agenda_item(organiser, event, starts_local=service.EventData.of(
        event).starts_local, title="Welcome")
    series = service.create_series(organiser, group, title_pattern="Workshop {n}")
    service.add_sessions(organiser, series, service.EventData.of(event), count=2)
    db.session.commit()
    pages = [
        "/events", "/events?when=past", "/events/manage", f"/events/{event.id}",
        f"/events/{event.id}.ics", "/events/new", f"/events/{event.id}/edit",
        "/events/series/new", f"/events/series/{series.id}",
        f"/events/series/{series.id}/sessions/new", f"/events/series/{series.id}.ics",
        f"/events/groups/{group.slug}.ics", f"/events/{event.id}/participants",
        f"/events/{event.id}/participants.csv", f"/events/{event.id}/agenda",
        f"/events/{event.id}/agenda/{item.id}/edit", f"/events/{event.id}/materials/new",
        "/events/mine",
    ]
    auth.login(organiser)
    with writes_seen() as seen:
        statuses = {page: client.get(page).status_code for page in pages}
    assert set(statuses.values()) == {200}, statuses
    assert seen == []
    assert db.session.scalar(db.select(db.func.count()).select_from(CalendarFeed)) == 0


def test_the_personal_feed_records_its_last_read_at_most_hourly(client, member, make_event):
    service.register(member, make_event())
    _feed, secret = service.create_feed(member)
    db.session.commit()

    assert client.get(f"/events/feed/{secret}.ics").status_code == 200
    first = reload(_feed).last_used_at
    assert first is not None
    with writes_seen() as seen:
        assert client.get(f"/events/feed/{secret}.ics").status_code == 200
    assert seen == []
    assert reload(_feed).last_used_at == first
