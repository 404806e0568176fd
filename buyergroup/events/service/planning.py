"""Planning events and numbered series: what an organiser enters, checked field by field,
and the changes participants are told about."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from buyergroup import signals
from buyergroup.accounts.models import User
from buyergroup.database import utcnow
from buyergroup.errors import ValidationFailed
from buyergroup.events.models import (
    DEFAULT_REMINDER_MINUTES,
    Event,
    EventKind,
    EventMode,
    EventSeries,
    EventStatus,
)
from buyergroup.events.permissions import (
    require_manager,
)
from buyergroup.events.service.constants import MAX_SERIES_SESSIONS, REMINDER_CHOICES
from buyergroup.events.service.notifications import tell_participants
from buyergroup.events.service.queries import counts
from buyergroup.events.service.registrations import lock_event, promote_waiting
from buyergroup.events.times import (
    exists_in_zone,
    known_zone,
    to_utc,
    wall_clock,
)
from buyergroup.extensions import db
from buyergroup.network.models import WorkingGroup
from buyergroup.vocabulary import SPOKEN_LANGUAGES

# --- Planning events ------------------------------------------------------------------------


@dataclass
class EventData:
    """What an organiser enters for an event. Times are naive wall-clock times in ``timezone``."""

    title: str = ""
    kind: str = EventKind.workshop.value
    mode: str = EventMode.online.value
    timezone: str = "Europe/Brussels"
    language: str = "en"
    starts_local: datetime | None = None
    ends_local: datetime | None = None
    description: str = ""
    video_url: str = ""
    venue_name: str = ""
    venue_address: str = ""
    capacity: int | None = None
    registration_opens_local: datetime | None = None
    registration_closes_local: datetime | None = None
    reminder_minutes: list[int] = field(default_factory=lambda: list(DEFAULT_REMINDER_MINUTES))
    is_public: bool = False

    @classmethod
    def of(cls, event: Event) -> EventData:
        """The event as its form shows it (wall-clock times in its own zone)."""
        zone = event.timezone

        def local(moment):
            return wall_clock(moment, zone) if moment is not None else None

        return cls(
            title=event.title, kind=event.kind.value, mode=event.mode.value, timezone=zone,
            language=event.language, starts_local=local(event.starts_at),
            ends_local=local(event.ends_at), description=event.description,
            video_url=event.video_url, venue_name=event.venue_name,
            venue_address=event.venue_address, capacity=event.capacity,
            registration_opens_local=local(event.registration_opens_at),
            registration_closes_local=local(event.registration_closes_at),
            reminder_minutes=event.reminder_offsets, is_public=event.is_public,
        )


EVENT_DATA_FIELDS = tuple(f.name for f in fields(EventData))


def event_problems(data: EventData) -> dict[str, str]:
    """Every problem with what the organiser entered, by the field to show it by, so the
    form shows them all at once (checks that need a valid time or zone wait for one)."""
    problems: dict[str, str] = {}

    def problem(field: str, message: str) -> None:
        problems.setdefault(field, message)

    title = " ".join((data.title or "").split())
    if not title:
        problem("title", _("Please give the event a title."))
    elif len(title) > 200:
        problem("title", _("Use at most 200 characters."))
    if data.kind not in {k.value for k in EventKind}:
        problem("kind", _("Choose the kind of event."))
    if data.mode not in {m.value for m in EventMode}:
        problem("mode", _("Choose online or at a venue."))
    zone = (data.timezone or "").strip()
    zone_known = known_zone(zone)
    if not zone_known:
        problem("timezone", _("“%(zone)s” is not a time zone we know. Choose one from the "
                              "list, for example Europe/Brussels.", zone=zone))
    if data.language not in SPOKEN_LANGUAGES:
        problem("language", _("Choose the language of the event."))
    if data.starts_local is None:
        problem("starts_local", _("Enter the date and time the event starts."))
    if data.ends_local is None:
        problem("ends_local", _("Enter the date and time the event ends."))
    times_known = zone_known and data.starts_local is not None and data.ends_local is not None
    if zone_known:
        for time_field in ("starts_local", "ends_local"):
            moment = getattr(data, time_field)
            if moment is not None and not exists_in_zone(moment, zone):
                times_known = False
                problem(time_field, _("This time does not exist in %(zone)s: the clocks go "
                                      "forward an hour that night. Choose another time.",
                                      zone=zone))
    if times_known and to_utc(data.ends_local, zone) <= to_utc(data.starts_local, zone):
        problem("ends_local", _("The event must end after it starts."))
    video_url = (data.video_url or "").strip()
    if video_url and not video_url.startswith(("https://", "http://")):
        problem("video_url", _("Enter a web address starting with https://"))
    if data.mode == EventMode.venue.value and not (
            (data.venue_name or "").strip() or (data.venue_address or "").strip()):
        problem("venue_address", _("Give the venue's name and address."))
    if data.capacity is not None and data.capacity < 1:
        problem("capacity", _("The capacity must be at least 1, or left empty for no limit."))
    opens, closes = data.registration_opens_local, data.registration_closes_local
    if opens and closes and closes <= opens:
        problem("registration_closes_local", _("Registration must close after it opens."))
    if times_known and closes and to_utc(closes, zone) > to_utc(data.ends_local, zone):
        problem("registration_closes_local", _("Registration must close before the event ends."))
    if times_known and opens and to_utc(opens, zone) >= to_utc(data.ends_local, zone):
        problem("registration_opens_local", _("Registration must open before the event ends."))
    if any(int(m) not in REMINDER_CHOICES for m in data.reminder_minutes or []):
        problem("reminder_minutes", _("Choose reminder times from the list."))
    return problems


def _clean(data: EventData) -> EventData:
    """Check what the organiser entered; each problem names the field to show it by."""
    problems = event_problems(data)
    if problems:
        raise ValidationFailed.of(problems)
    title = " ".join((data.title or "").split())
    zone = data.timezone.strip()
    video_url = (data.video_url or "").strip()
    venue_name = (data.venue_name or "").strip()
    venue_address = (data.venue_address or "").strip()
    minutes = sorted({int(m) for m in data.reminder_minutes or []}, reverse=True)
    return replace(
        data, title=title, timezone=zone, video_url=video_url, venue_name=venue_name,
        venue_address=venue_address, description=(data.description or "").strip(),
        reminder_minutes=minutes,
    )


# What calendars show: a change in any of these raises the event's SEQUENCE.
_CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "mode", "video_url", "venue_name",
                    "venue_address", "description", "timezone", "status")
_TIME_FIELDS = ("starts_at", "ends_at")
_PLACE_FIELDS = ("mode", "venue_name", "venue_address", "video_url")


def _snapshot(event: Event) -> dict:
    return {name: getattr(event, name) for name in _CALENDAR_FIELDS}


def _apply(event: Event, data: EventData) -> None:
    zone = data.timezone

    def utc(local):
        return to_utc(local, zone) if local is not None else None

    old_start = event.starts_at
    event.title = data.title
    event.kind = EventKind(data.kind)
    event.mode = EventMode(data.mode)
    event.timezone = zone
    event.language = data.language
    event.starts_at = utc(data.starts_local)
    event.ends_at = utc(data.ends_local)
    event.description = data.description
    event.video_url = data.video_url
    event.venue_name = data.venue_name
    event.venue_address = data.venue_address
    event.capacity = data.capacity
    event.registration_opens_at = utc(data.registration_opens_local)
    event.registration_closes_at = utc(data.registration_closes_local)
    event.reminder_offsets = data.reminder_minutes
    event.is_public = bool(data.is_public)
    if old_start is not None and event.starts_at != old_start:
        # The agenda moves with the event.
        delta = event.starts_at - old_start
        for item in event.agenda_items:
            item.starts_at = item.starts_at + delta


def create_event(
    actor: User | None,
    group: WorkingGroup,
    data: EventData,
    *,
    series: EventSeries | None = None,
    seed_key: str | None = None,
) -> Event:
    """Plan an event for ``group`` (organisers of the group and admins; None: the seed)."""
    if actor is not None:
        require_manager(actor, group)
    data = _clean(data)
    event = Event(group=group, seed_key=seed_key, created_by_id=actor.id if actor else None)
    _apply(event, data)
    if series is not None:
        number = (
            db.session.scalar(
                select(func.max(Event.series_number)).where(Event.series_id == series.id)
            )
            or 0
        ) + 1
        event.series = series
        event.series_number = number
        if not (data.title or "").strip() or data.title == series.title_pattern:
            event.title = series.title_for(number)
        else:
            event.title = data.title.replace("{n}", str(number))
    db.session.add(event)
    db.session.flush()
    return event


def update_event(
    actor: User | None, event: Event, data: EventData, *, scope: str = "this"
) -> list[Event]:
    """Change an event; with ``scope="future"`` also every later session of its series.

    For later sessions, only what the organiser changed is carried over: a moved start
    moves each session by the same wall-clock amount in its zone (10:00 stays 10:00 across
    a daylight-saving change), a new duration or place or capacity applies to each, and
    their own titles and descriptions are kept unless those were changed too. Registered
    participants (and the waiting list) are told of a new date, time or place. Returns the
    events changed.
    """
    if actor is not None:
        require_manager(actor, event)
    if event.is_cancelled:
        raise ValidationFailed(_("This event has been cancelled and can no longer be changed."))
    lock_event(event)
    data = _clean(data)
    targets = [event]
    if scope == "future" and event.series_id is not None:
        targets += list(
            db.session.scalars(
                select(Event).where(
                    Event.series_id == event.series_id,
                    Event.id != event.id,
                    Event.starts_at > event.starts_at,
                    Event.status == EventStatus.scheduled,
                ).order_by(Event.starts_at)
            )
        )
    before = EventData.of(event)
    plans: list[tuple[Event, EventData]] = [(event, data)]
    for other in targets[1:]:
        lock_event(other)
        plans.append((other, _carry_over(before, data, EventData.of(other))))
    for target, target_data in plans:
        registered, _waiting = counts(target)
        if target_data.capacity is not None and target_data.capacity < registered:
            raise ValidationFailed(
                ngettext(
                    "%(num)d person is already registered for %(title)s: the capacity cannot "
                    "be lower. Remove participants first, or choose at least %(num)d.",
                    "%(num)d people are already registered for %(title)s: the capacity cannot "
                    "be lower. Remove participants first, or choose at least %(num)d.",
                    registered,
                    title=target.title,
                ),
                field="capacity",
            )
    changed = []
    for target, target_data in plans:
        before_snapshot = _snapshot(target)
        old_start, old_end = target.starts_at, target.ends_at
        old_place = {name: getattr(target, name) for name in _PLACE_FIELDS}
        _apply(target, target_data)
        after = _snapshot(target)
        if after != before_snapshot:
            target.sequence += 1
            changed.append(target)
        db.session.flush()
        promote_waiting(target)
        moved = (target.starts_at, target.ends_at) != (old_start, old_end)
        new_place = {name: getattr(target, name) for name in _PLACE_FIELDS}
        if (moved or new_place != old_place) and not target.is_past:
            tell_participants(
                target, "event_changed", moved=moved, place_changed=new_place != old_place,
                old_starts_at=old_start, old_ends_at=old_end, include_waiting=True,
            )
    db.session.flush()
    for target in changed:
        signals.event_changed.send(target, actor=actor, change="updated")
    return changed


def _carry_over(before: EventData, after: EventData, other: EventData) -> EventData:
    """``other`` with the changes from ``before`` to ``after`` (see ``update_event``)."""
    result = replace(other)
    for name in EVENT_DATA_FIELDS:
        if name in ("title", "starts_local", "ends_local", "registration_opens_local",
                    "registration_closes_local"):
            continue
        if getattr(before, name) != getattr(after, name):
            setattr(result, name, getattr(after, name))
    if (after.title != before.title) and other.title == before.title:
        result.title = after.title
    # Wall-clock arithmetic: the session's local time moves by the same amount, and
    # create/_apply convert it through the zone by name for its own date.
    shift = after.starts_local - before.starts_local
    result.starts_local = other.starts_local + shift
    new_duration = after.ends_local - after.starts_local
    if new_duration != before.ends_local - before.starts_local:
        result.ends_local = result.starts_local + new_duration
    else:
        result.ends_local = other.ends_local + shift
    for name in ("registration_opens_local", "registration_closes_local"):
        new, old, own = getattr(after, name), getattr(before, name), getattr(other, name)
        if new != old:
            # Changed: the same distance from the start as in the edited session.
            value = None if new is None else result.starts_local + (new - after.starts_local)
        else:
            value = None if own is None else own + shift
        setattr(result, name, value)
    return result


def cancel_event(actor: User | None, event: Event, reason: str = "") -> None:
    """Cancel an event: calendars show it cancelled; participants and the waiting list hear."""
    if actor is not None:
        require_manager(actor, event)
    lock_event(event)
    if event.is_cancelled:
        return
    event.status = EventStatus.cancelled
    event.cancelled_at = utcnow()
    event.cancellation_reason = (reason or "").strip()
    event.sequence += 1
    db.session.flush()
    signals.event_changed.send(event, actor=actor, change="cancelled")
    if not event.is_past:
        tell_participants(event, "event_cancelled", include_waiting=True,
                           reason=event.cancellation_reason)


# --- Series ---------------------------------------------------------------------------------


def create_series(
    actor: User | None, group: WorkingGroup, *, title_pattern: str, description: str = "",
    seed_key: str | None = None,
) -> EventSeries:
    """A numbered series: ``title_pattern`` contains ``{n}`` ("Workshop {n}")."""
    if actor is not None:
        require_manager(actor, group)
    pattern = _clean_pattern(title_pattern)
    series = EventSeries(
        group=group, title_pattern=pattern, description=(description or "").strip(),
        seed_key=seed_key, created_by_id=actor.id if actor else None,
    )
    db.session.add(series)
    db.session.flush()
    return series


def _clean_pattern(title_pattern: str) -> str:
    pattern = " ".join((title_pattern or "").split())
    if not pattern:
        raise ValidationFailed(_("Please give the series a title."), field="title_pattern")
    if "{n}" not in pattern:
        raise ValidationFailed(
            _("Put {n} where the session number goes, for example “Workshop {n}”."),
            field="title_pattern",
        )
    if len(pattern) > 190:
        raise ValidationFailed(_("Use at most 190 characters."), field="title_pattern")
    return pattern


def _upcoming_sessions(series: EventSeries) -> list[Event]:
    return [event for event in series.events if not event.is_past and not event.is_cancelled]


def rename_series(actor: User | None, series: EventSeries, *, title_pattern: str,
                  description: str = "") -> list[Event]:
    """Rename a series and change its description. Upcoming sessions that still carry the
    series' title get the new one (calendars update them); a session an organiser gave a
    title of its own, and past or cancelled sessions, keep theirs. Returns those renamed."""
    if actor is not None:
        require_manager(actor, series.group)
    pattern = _clean_pattern(title_pattern)
    renamed = []
    for event in _upcoming_sessions(series):
        number = event.series_number or 0
        if event.title == series.title_for(number) and pattern != series.title_pattern:
            event.title = pattern.replace("{n}", str(number))[:200]
            event.sequence += 1
            renamed.append(event)
    series.title_pattern = pattern
    series.description = (description or "").strip()
    db.session.flush()
    return renamed


def cancel_series(actor: User | None, series: EventSeries, reason: str = "") -> list[Event]:
    """Cancel every upcoming session of a series; each tells its participants and waiting
    list, as cancelling one event does. Past sessions stay as they were."""
    if actor is not None:
        require_manager(actor, series.group)
    cancelled = _upcoming_sessions(series)
    for event in cancelled:
        cancel_event(actor, event, reason)
    return cancelled


def add_sessions(
    actor: User | None, series: EventSeries, first: EventData, *, count: int = 1,
    every_weeks: int = 1, seed_keys: list[str] | None = None,
) -> list[Event]:
    """Add ``count`` sessions, the first as given, each next ``every_weeks`` later at the
    same local wall-clock time in the session's zone (across daylight-saving changes)."""
    if actor is not None:
        require_manager(actor, series.group)
    if not 1 <= count <= MAX_SERIES_SESSIONS:
        raise ValidationFailed(
            _("Add between 1 and %(max)d sessions at a time.", max=MAX_SERIES_SESSIONS),
            field="count",
        )
    if not 1 <= every_weeks <= 8:
        raise ValidationFailed(_("Choose between every week and every 8 weeks."),
                               field="every_weeks")
    first = _clean(replace(first, title=first.title or series.title_pattern))
    sessions = []
    for index in range(count):
        shift = timedelta(weeks=every_weeks * index)
        data = replace(
            first,
            title=series.title_pattern,
            starts_local=first.starts_local + shift,
            ends_local=first.ends_local + shift,
            registration_opens_local=(first.registration_opens_local + shift
                                      if first.registration_opens_local else None),
            registration_closes_local=(first.registration_closes_local + shift
                                       if first.registration_closes_local else None),
        )
        key = seed_keys[index] if seed_keys and index < len(seed_keys) else None
        sessions.append(create_event(actor, series.group, data, series=series, seed_key=key))
    return sessions


def next_session_defaults(series: EventSeries) -> EventData | None:
    """The form's defaults for new sessions: the last session, a week later."""
    last = db.session.scalar(
        select(Event).where(Event.series_id == series.id).order_by(Event.starts_at.desc())
    )
    if last is None:
        return None
    data = EventData.of(last)
    week = timedelta(weeks=1)
    return replace(
        data,
        starts_local=data.starts_local + week,
        ends_local=data.ends_local + week,
        registration_opens_local=None,
        registration_closes_local=None,
    )
