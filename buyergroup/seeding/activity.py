"""``activity.yaml``: what happened lately in the demo network, loaded after everything else
so that the demo members' home pages and notification centres are not empty.

Each step is a change a person makes on the site, through the same services (a site
organiser publishes an item waiting for review; a group's organiser changes an upcoming
event's description), with that person as the actor: the community domain then tells the
followers, as it would on the site. The whole seed runs inside
``community.service.without_email()`` (see ``load_seed``), so none of it is emailed. A step
already done (the item published, the event with that description) is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from sqlalchemy import select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.database import utcnow
from buyergroup.events import service as events
from buyergroup.events.models import Event
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemStatus
from buyergroup.seeding.common import Entry, SeedError, located, parse_yaml
from buyergroup.seeding.library import item_by_key

ACTIVITY_FILE = "activity.yaml"


@dataclass(frozen=True)
class Publish:
    where: str
    item: str  # a library seed key
    by: str  # email


@dataclass(frozen=True)
class EventUpdate:
    where: str
    event: str  # a demo event's key in events.yaml
    by: str
    description: str


@dataclass(frozen=True)
class ActivitySeed:
    publish: tuple[Publish, ...] = ()
    event_updates: tuple[EventUpdate, ...] = ()


@dataclass
class Done:
    published: int = 0
    events_changed: int = 0
    already: int = 0

    def summary(self) -> str:
        return (f"activity       {self.published} item(s) published, {self.events_changed} "
                f"event(s) changed, {self.already} already done")


def parse_activity(seed_dir: Path) -> ActivitySeed:
    path = seed_dir / ACTIVITY_FILE
    if not path.exists():
        return ActivitySeed()
    try:
        document = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SeedError(f"{ACTIVITY_FILE}: not valid YAML: {error}") from error
    if not isinstance(document, Mapping) or set(document) - {"publish", "event_updates"}:
        raise SeedError(f"{ACTIVITY_FILE}: expected 'publish:' and 'event_updates:' lists")
    publish, updates = [], []
    for number, raw in enumerate(document.get("publish") or [], start=1):
        entry = Entry(f"{ACTIVITY_FILE}: publish entry {number}", raw, ("item", "by"))
        publish.append(Publish(entry.where, entry.text("item", required=True),
                               entry.text("by", required=True)))
    for number, raw in enumerate(document.get("event_updates") or [], start=1):
        entry = Entry(f"{ACTIVITY_FILE}: event_updates entry {number}", raw,
                      ("event", "by", "description"))
        updates.append(EventUpdate(entry.where, entry.text("event", required=True),
                                   entry.text("by", required=True),
                                   entry.text("description", required=True)))
    return ActivitySeed(tuple(publish), tuple(updates))


def check_references(seed: ActivitySeed, *, emails: set[str], item_keys: set[str],
                     demo_event_keys: set[str]) -> None:
    for step in (*seed.publish, *seed.event_updates):
        if step.by not in emails:
            raise SeedError(f"{step.where}: by: unknown member {step.by!r}")
    for step in seed.publish:
        if step.item not in item_keys:
            raise SeedError(f"{step.where}: item: unknown library item {step.item!r}")
    for step in seed.event_updates:
        if step.event not in demo_event_keys:
            raise SeedError(f"{step.where}: event: no demo event {step.event!r} in events.yaml")


def _upcoming_demo_event(key: str) -> Event | None:
    """The demo event's current session (demo events are dated from the day of loading)."""
    return db.session.scalar(
        select(Event).where(Event.seed_key.startswith(f"{key}@"), Event.ends_at > utcnow())
        .order_by(Event.starts_at)
    )


def load_activity(seed: ActivitySeed) -> Done:
    done = Done()
    for step in seed.publish:
        item = item_by_key(step.item)
        if item is None or item.status is ItemStatus.published:
            done.already += 1
            continue
        with located(step.where):
            library.publish(get_user_by_email(step.by), item)
        done.published += 1
    for step in seed.event_updates:
        event = _upcoming_demo_event(step.event)
        if event is None or event.description == step.description:
            done.already += 1
            continue
        data = replace(events.EventData.of(event), description=step.description)
        with located(step.where):
            events.update_event(get_user_by_email(step.by), event, data)
        done.events_changed += 1
    return done
