"""Outputs linked both ways, read across domains for the pages of lower ones.

* A library item page names the events whose agenda or minutes link it ("discussed at
  Workshop 4") and the discussions that link it, each only if the reader may see it.
* A group page shows its recent activity: threads, library items and events, newest first.

The library and network templates call these as template globals, so those domains do not
import events or discussions (which sit above them).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload

from buyergroup.accounts.permissions import is_signed_in
from buyergroup.database import kept_until_flush
from buyergroup.discussions import permissions, service
from buyergroup.discussions.models import Thread, thread_library_items
from buyergroup.events import permissions as event_permissions
from buyergroup.events.models import AgendaItem, Event, EventMaterial, agenda_library_items
from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.network.models import WorkingGroup

MAX_LINKED = 10

#: The minutes joined to the events that discussed an item (made once: an alias is not free).
_MINUTES = aliased(EventMaterial)


@dataclass
class Discussed:
    event: Event
    how: str  # "agenda" or "minutes"


def _minutes_link(item_id: int) -> re.Pattern:
    # A link to the item in the minutes' text: "/library/12", not "/library/123".
    return re.compile(rf"/library/{item_id}(?!\d)")


def events_discussing(item, user=None) -> list[Discussed]:
    """Events whose agenda links ``item`` or whose minutes (notes) link to it, that ``user``
    may see (and whose minutes they may read), latest first."""
    return _linking(item, current_user if user is None else user)[0]


def threads_linking(item, user=None) -> list[Thread]:
    """Discussions that link ``item`` and that ``user`` may read."""
    return _linking(item, current_user if user is None else user)[1]


def _linking(item, user) -> tuple[list[Discussed], list[Thread]]:
    """``events_discussing`` and ``threads_linking``, which the item page shows side by
    side: asked in one statement, kept until the next flush."""
    viewer = user.id if is_signed_in(user) else None
    return kept_until_flush(("linking_item", item.id, viewer), lambda: _load_linking(item, user))


@functools.cache
def _linking_statement():
    """The events and threads that link one item (``item_id``; ``link``: its path), built
    once and run with the item's values: building it was two thirds of its time."""
    item_id = bindparam("item_id", type_=Thread.addressed_by_id.type)
    link = bindparam("link", type_=EventMaterial.note.type)
    on_agenda = (
        select(AgendaItem.event_id)
        .join(agenda_library_items, agenda_library_items.c.agenda_item_id == AgendaItem.id)
        .where(agenda_library_items.c.library_item_id == item_id)
    )
    # Narrowed to whole links when read (_minutes_link): not "/library/123".
    in_minutes = select(EventMaterial.event_id).where(
        EventMaterial.is_minutes, EventMaterial.note.contains(link))
    latest_threads = (
        select(Thread.id)
        .join(thread_library_items, thread_library_items.c.thread_id == Thread.id)
        .where(or_(thread_library_items.c.item_id == item_id, Thread.addressed_by_id == item_id))
        .order_by(Thread.last_posted_at.desc())
        .limit(MAX_LINKED * 3)
        .subquery()
    )
    # The ids of both, each with its kind: the events linked either way (found by their
    # ids, as two lookups) and the latest threads. Each row then has an event (with its
    # group, and each of its minutes that may link the item) or a thread (with its group).
    linked = union_all(
        select(literal("event").label("kind"), Event.id.label("id"))
        .where(Event.id.in_(on_agenda) | Event.id.in_(in_minutes)),
        select(literal("thread"), latest_threads.c.id),
    ).subquery()
    return (
        select(Event, _MINUTES, Event.id.in_(on_agenda).label("on_agenda"), Thread)
        .select_from(linked)
        .outerjoin(Event, (linked.c.kind == "event") & (Event.id == linked.c.id))
        .outerjoin(_MINUTES, (_MINUTES.event_id == Event.id) & _MINUTES.is_minutes
                   & _MINUTES.note.contains(link))
        .outerjoin(Thread, (linked.c.kind == "thread") & (Thread.id == linked.c.id))
        .options(joinedload(Event.group), joinedload(Thread.group))  # one each: joined
        .order_by(Event.starts_at.desc(), Thread.last_posted_at.desc())
    )


def _load_linking(item, user) -> tuple[list[Discussed], list[Thread]]:
    rows = db.session.execute(_linking_statement(),
                              {"item_id": item.id, "link": f"/library/{item.id}"})
    found: dict[int, Discussed] = {}
    threads: dict[int, Thread] = {}
    pattern = _minutes_link(item.id)
    for event, material, is_on_agenda, thread in rows:
        if thread is not None:
            if permissions.can_read(user, thread.group):
                threads.setdefault(thread.id, thread)
        elif event is None or event.id in found:
            continue
        elif is_on_agenda and event_permissions.can_see_event(user, event):
            found[event.id] = Discussed(event, "agenda")
        elif (material is not None and pattern.search(material.note)
              and event_permissions.can_see_material(user, material)):
            found[event.id] = Discussed(event, "minutes")
    discussed = sorted(found.values(), key=lambda d: d.event.starts_at, reverse=True)
    return discussed[:MAX_LINKED], list(threads.values())[:MAX_LINKED]


@dataclass
class Activity:
    when: datetime
    kind: str
    kind_label: str
    title: str
    url: str
    language: str | None = None


ACTIVITY_LABELS = {
    "thread": _l("Discussion"),
    "item": _l("Library"),
    "event": _l("Event"),
}


def group_activity(group: WorkingGroup, user=None, limit: int = 8) -> list[Activity]:
    """What happened lately in ``group`` that ``user`` may see: threads, items, events."""
    user = current_user if user is None else user
    entries: list[Activity] = []
    for thread in service.recent_threads(group, user, limit):
        entries.append(Activity(
            thread.last_posted_at, "thread", str(ACTIVITY_LABELS["thread"]), thread.title,
            url_for("discussions.thread", slug=group.slug, thread_id=thread.id),
            thread.language,
        ))
    for item in library_service.latest_for_group(group, user, limit):
        if item.published_at is None:
            continue
        entries.append(Activity(
            item.published_at, "item", str(ACTIVITY_LABELS["item"]), item.title,
            url_for("library.item", item_id=item.id), item.language,
        ))
    events = db.session.scalars(
        select(Event).where(Event.group_id == group.id)
        .order_by(Event.updated_at.desc()).limit(limit)
    )
    for event in events:
        if event_permissions.can_see_event(user, event):
            entries.append(Activity(
                event.updated_at, "event", str(ACTIVITY_LABELS["event"]), event.title,
                url_for("events.detail", event_id=event.id), event.language,
            ))
    entries.sort(key=lambda a: a.when, reverse=True)
    return entries[:limit]


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        events_discussing=events_discussing,
        threads_linking=threads_linking,
        group_activity=group_activity,
        discussions_of_group=lambda group, limit=5: service.recent_threads(
            group, current_user, limit
        ),
        can_read_discussions=lambda group: permissions.can_read(current_user, group),
    )
