"""``events.yaml``: series (with their sessions), single events, and demo events dated
relative to the day of loading. Everything goes through ``buyergroup.events.service``.

Events and series are matched by ``key``; a demo event is created again (with the load date
in its key) only when no upcoming copy of it exists, so the demo always has future events
and a second load on the same day creates nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.database import utcnow
from buyergroup.events import service
from buyergroup.events.models import Event, EventKind, EventMode, EventSeries
from buyergroup.events.service import EventData
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from buyergroup.i18n import is_valid_timezone
from buyergroup.seeding.common import (
    Entry,
    SeedError,
    SeedReport,
    located,
    parse_yaml,
    refuse_duplicates,
)
from buyergroup.seeding.library import item_by_key
from buyergroup.seeding.network import group_named

EVENTS_FILE = "events.yaml"
EVENT_FIELDS = (
    "title", "kind", "mode", "timezone", "language", "description", "video_url", "venue_name",
    "venue_address", "capacity", "is_public", "reminders",
)
EVENT_KEYS = (*EVENT_FIELDS, "key", "group", "starts", "ends", "agenda", "materials",
              "registrations")
DEMO_KEYS = (*EVENT_FIELDS, "key", "group", "in_days", "time", "duration_minutes", "agenda",
             "materials", "registrations")
AGENDA_KEYS = ("at", "title", "speakers", "notes", "library")
MATERIAL_KEYS = ("title", "note", "visibility", "minutes", "agenda_item")


@dataclass(frozen=True)
class AgendaSeed:
    at: str  # "HH:MM" on the event's first day, or "YYYY-MM-DD HH:MM"
    title: str
    speakers: str
    notes: str
    library: tuple[str, ...]  # library seed keys


@dataclass(frozen=True)
class MaterialSeed:
    title: str
    note: str
    visibility: str
    minutes: bool
    agenda_item: int | None  # 1-based position in the agenda


@dataclass(frozen=True)
class EventSeed:
    where: str
    key: str
    group: str
    fields: dict[str, Any]  # EventData fields except the times
    starts: datetime | None  # naive, in the event's zone (fixed dates)
    ends: datetime | None
    in_days: int | None = None  # demo events: relative to the day of loading
    time: str = ""
    duration_minutes: int = 0
    agenda: tuple[AgendaSeed, ...] = ()
    materials: tuple[MaterialSeed, ...] = ()
    registrations: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeriesSeed:
    where: str
    key: str
    group: str
    title_pattern: str
    description: str
    sessions: tuple[EventSeed, ...]


@dataclass(frozen=True)
class EventsSeed:
    series: tuple[SeriesSeed, ...] = ()
    events: tuple[EventSeed, ...] = ()
    demo: tuple[EventSeed, ...] = ()


def _local_time(entry: Entry, key: str, *, required: bool = True) -> datetime | None:
    value = entry.data.get(key)
    if value is None:
        if required:
            raise entry.error(key, "is required (YYYY-MM-DD HH:MM)")
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            pass
    raise entry.error(key, f"expected a local date and time (YYYY-MM-DD HH:MM), got {value!r}")


def _event_fields(entry: Entry, defaults: Mapping[str, Any]) -> dict[str, Any]:
    def pick(key, getter):
        return getter(key) if key in entry.data else defaults.get(key)

    fields: dict[str, Any] = {
        "title": pick("title", lambda k: entry.text(k, max_length=200)) or "",
        "kind": (pick("kind", lambda k: entry.choice(k, EventKind, EventKind.workshop).value)
                 or "workshop"),
        "mode": (pick("mode", lambda k: entry.choice(k, EventMode, EventMode.online).value)
                 or "online"),
        "timezone": pick("timezone", entry.text) or "Europe/Brussels",
        "language": pick("language", entry.text) or "en",
        "description": pick("description", entry.text) or "",
        "video_url": pick("video_url", entry.text) or "",
        "venue_name": pick("venue_name", entry.text) or "",
        "venue_address": pick("venue_address", entry.text) or "",
        "is_public": bool(pick("is_public", lambda k: entry.flag(k, False))),
    }
    if not is_valid_timezone(fields["timezone"]):
        raise entry.error("timezone", f"{fields['timezone']!r} is not an IANA time zone")
    capacity = entry.data.get("capacity", defaults.get("capacity"))
    if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
        raise entry.error("capacity", f"expected a whole number of seats, got {capacity!r}")
    fields["capacity"] = capacity
    reminders = entry.data.get("reminders", defaults.get("reminders"))
    if reminders is not None:
        if not isinstance(reminders, list) or not all(isinstance(m, int) for m in reminders):
            raise entry.error("reminders", "expected a list of minutes, e.g. [1440, 60]")
        fields["reminder_minutes"] = list(reminders)
    return fields


def _agenda(entry: Entry) -> tuple[AgendaSeed, ...]:
    raw = entry.data.get("agenda") or []
    if not isinstance(raw, list):
        raise entry.error("agenda", "expected a list of items")
    items = []
    for number, data in enumerate(raw, start=1):
        item = Entry(f"{entry.where}: agenda item {number}", data, AGENDA_KEYS)
        at = item.text("at", required=True)
        items.append(AgendaSeed(at, item.text("title", required=True, max_length=200),
                                item.text("speakers", max_length=300), item.text("notes"),
                                item.codes("library")))
    return tuple(items)


def _materials(entry: Entry) -> tuple[MaterialSeed, ...]:
    raw = entry.data.get("materials") or []
    if not isinstance(raw, list):
        raise entry.error("materials", "expected a list")
    result = []
    for number, data in enumerate(raw, start=1):
        item = Entry(f"{entry.where}: material {number}", data, MATERIAL_KEYS)
        visibility = item.text("visibility") or "members"
        if visibility not in ("public", "members", "participants"):
            raise item.error("visibility", "expected public, members or participants")
        position = item.data.get("agenda_item")
        if position is not None and not isinstance(position, int):
            raise item.error("agenda_item", "expected the item's number in the agenda")
        result.append(MaterialSeed(item.text("title", required=True, max_length=200),
                                   item.text("note", required=True), visibility,
                                   item.flag("minutes", False), position))
    return tuple(result)


def _event_seed(where: str, data: Any, *, group: str | None = None,
                defaults: Mapping[str, Any] = {}, demo: bool = False) -> EventSeed:  # noqa: B006
    allowed = DEMO_KEYS if demo else EVENT_KEYS
    entry = Entry(where, data, allowed)
    key = entry.text("key", required=True, max_length=100)
    fields = _event_fields(entry, defaults)
    common = {
        "where": where, "key": key, "group": entry.text("group") or group or "",
        "fields": fields, "agenda": _agenda(entry), "materials": _materials(entry),
        "registrations": entry.codes("registrations"),
    }
    if not common["group"]:
        raise entry.error("group", "is required")
    if demo:
        in_days, duration = entry.data.get("in_days"), entry.data.get("duration_minutes", 90)
        if not isinstance(in_days, int) or in_days < 1:
            raise entry.error("in_days", "expected a number of days from the day of loading")
        if not isinstance(duration, int) or duration < 15:
            raise entry.error("duration_minutes", "expected minutes (at least 15)")
        time_text = entry.text("time", required=True)
        try:
            datetime.strptime(time_text, "%H:%M")
        except ValueError:
            raise entry.error("time", f"expected HH:MM, got {time_text!r}") from None
        return EventSeed(starts=None, ends=None, in_days=in_days, time=time_text,
                         duration_minutes=duration, **common)
    return EventSeed(starts=_local_time(entry, "starts"), ends=_local_time(entry, "ends"),
                     **common)


def parse_events(seed_dir: Path) -> EventsSeed | None:
    """``events.yaml`` (optional): ``series``, ``events`` and ``demo`` lists."""
    path = seed_dir / EVENTS_FILE
    if not path.exists():
        return None
    try:
        document = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SeedError(f"{EVENTS_FILE}: not valid YAML: {error}") from error
    if not isinstance(document, Mapping) or set(document) - {"series", "events", "demo"}:
        raise SeedError(f"{EVENTS_FILE}: expected top-level 'series', 'events' and 'demo' lists")
    series = []
    for number, raw in enumerate(document.get("series") or [], start=1):
        where = f"{EVENTS_FILE}: series {number}"
        entry = Entry(where, raw, ("key", "group", "title_pattern", "description",
                                     "defaults", "sessions"))
        defaults = entry.data.get("defaults") or {}
        unknown = set(defaults) - set(EVENT_FIELDS)
        if not isinstance(defaults, Mapping) or unknown:
            raise entry.error("defaults", f"unknown field(s) {sorted(unknown)}")
        group = entry.text("group", required=True)
        sessions = tuple(
            _event_seed(f"{where}: session {n}", data, group=group, defaults=defaults)
            for n, data in enumerate(entry.data.get("sessions") or [], start=1)
        )
        pattern = entry.text("title_pattern", required=True, max_length=190)
        if "{n}" not in pattern:
            raise entry.error("title_pattern", "must contain {n}")
        series.append(SeriesSeed(where, entry.text("key", required=True), group, pattern,
                                 entry.text("description"), sessions))
    events = tuple(
        _event_seed(f"{EVENTS_FILE}: events entry {n}", raw)
        for n, raw in enumerate(document.get("events") or [], start=1)
    )
    demo = tuple(
        _event_seed(f"{EVENTS_FILE}: demo entry {n}", raw, demo=True)
        for n, raw in enumerate(document.get("demo") or [], start=1)
    )
    all_keys = [s.key for s in series] + [e.key for s in series for e in s.sessions]
    all_keys += [e.key for e in (*events, *demo)]
    refuse_duplicates(EVENTS_FILE, "key", all_keys)
    return EventsSeed(tuple(series), events, demo)


def check_references(data: EventsSeed, *, emails: Iterable[str], groups: Iterable[str],
                     item_keys: Iterable[str]) -> None:
    """Groups, members and library items named by the events exist (in the seed files,
    group names passed in lower case, or in the database)."""
    emails, groups, keys = set(emails), set(groups), set(item_keys)
    seeds = [e for s in data.series for e in s.sessions]
    seeds += [*data.events, *data.demo]
    for series in data.series:
        if series.group.lower() not in groups and group_named(series.group) is None:
            raise SeedError(f"{series.where}: group: unknown working group {series.group!r}")
    for seed in seeds:
        if seed.group.lower() not in groups and group_named(seed.group) is None:
            raise SeedError(f"{seed.where}: group: unknown working group {seed.group!r}")
        for email in seed.registrations:
            if email not in emails and get_user_by_email(email) is None:
                raise SeedError(f"{seed.where}: registrations: unknown member {email!r}")
        for item in seed.agenda:
            for key in item.library:
                if key not in keys and item_by_key(key) is None:
                    raise SeedError(f"{seed.where}: agenda: unknown library item {key!r}")
        for material in seed.materials:
            if material.agenda_item is not None and not (
                1 <= material.agenda_item <= len(seed.agenda)
            ):
                raise SeedError(f"{seed.where}: materials: no agenda item "
                                f"{material.agenda_item}")


def _event_by_key(key: str):
    return db.session.scalar(select(Event).where(Event.seed_key == key))


def _event_data(seed: EventSeed, starts: datetime, ends: datetime):
    return EventData(starts_local=starts, ends_local=ends, **seed.fields)


def _fill_event(event, seed: EventSeed, report: SeedReport) -> None:
    """Agenda, materials and registrations of a newly created event (through the services)."""
    start_day = event.local_start.date()
    agenda = []
    for item in seed.agenda:
        at = (datetime.strptime(item.at, "%Y-%m-%d %H:%M") if len(item.at) > 5 else
              datetime.combine(start_day, datetime.strptime(item.at, "%H:%M").time()))
        with located(f"{seed.where}: agenda {item.title!r}"):
            agenda.append(service.save_agenda_item(
                None, event, starts_local=at, title=item.title, speakers=item.speakers,
                notes=item.notes, library_item_ids=[item_by_key(k).id for k in item.library],
            ))
    for material in seed.materials:
        with located(f"{seed.where}: material {material.title!r}"):
            service.add_material(
                None, event, title=material.title, note=material.note,
                visibility=material.visibility, is_minutes=material.minutes,
                agenda_item=agenda[material.agenda_item - 1] if material.agenda_item else None,
                notify=False,
            )
    for email in seed.registrations:
        with located(f"{seed.where}: registration of {email}"):
            service.register(get_user_by_email(email), event, notify=False)
        report.registrations.count(created=True)


def _create_event(seed: EventSeed, key: str, starts: datetime, ends: datetime,
                  report: SeedReport, series=None):
    with located(seed.where):
        event = service.create_event(None, group_named(seed.group),
                                     _event_data(seed, starts, ends), series=series,
                                     seed_key=key)
    report.events.count(created=True)
    _fill_event(event, seed, report)
    return event


def load_events(data: EventsSeed, report: SeedReport) -> None:
    for series_seed in data.series:
        series = db.session.scalar(
            select(EventSeries).where(EventSeries.seed_key == series_seed.key)
        )
        report.event_series.count(created=series is None)
        if series is None:
            with located(series_seed.where):
                series = service.create_series(
                    None, group_named(series_seed.group),
                    title_pattern=series_seed.title_pattern,
                    description=series_seed.description, seed_key=series_seed.key,
                )
        for seed in series_seed.sessions:
            if _event_by_key(seed.key) is not None:
                report.events.count(created=False)
                continue
            _create_event(seed, seed.key, seed.starts, seed.ends, report, series=series)
    for seed in data.events:
        if _event_by_key(seed.key) is not None:
            report.events.count(created=False)
            continue
        _create_event(seed, seed.key, seed.starts, seed.ends, report)
    now = utcnow()
    for seed in data.demo:
        upcoming = db.session.scalar(
            select(Event.id).where(Event.seed_key.startswith(f"{seed.key}@"),
                                   Event.ends_at > now)
        )
        today = wall_clock(now, seed.fields["timezone"]).date()
        key = f"{seed.key}@{today.isoformat()}"
        if upcoming is not None or _event_by_key(key) is not None:
            report.events.count(created=False)
            continue
        starts = datetime.combine(today, datetime.strptime(seed.time, "%H:%M").time())
        starts += timedelta(days=seed.in_days)
        _create_event(seed, key, starts, starts + timedelta(minutes=seed.duration_minutes),
                      report)
