"""Event rules: who may do what, planning events and series, registrations and the waiting
list, agendas, materials and minutes, reminders and personal calendar feeds.

Functions flush but never commit (the request or the command owns the transaction), except
the scheduler's job ``send_due_reminders``, which owns its transactions like
``mail.deliver_due``.

Who may do what (checked here, whatever the caller):

- **See** an event: whoever may see its working group (public groups: everyone; other
  groups: signed-in members).
- **Manage** it (create, edit, cancel, agenda, materials, participants, attendance, the
  participant list): the organisers of its working group, and administrators.
- **Register**: signed-in members who are active members of its working group; for a
  *public* event, every signed-in member. An organiser may add anyone (also outside the
  registration period); capacity still applies, so an addition to a full event joins the
  waiting list.

Seats go first come, first served. Each registration and each change of seats locks the
event's row (``SELECT ... FOR UPDATE`` on PostgreSQL) before counting, so two members taking
the last seat at the same instant cannot both get it; the unique key (event, member) refuses
a second row for one member. A freed seat goes at once to the longest-waiting member.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from buyergroup.accounts.models import User
from buyergroup.database import utcnow
from buyergroup.errors import AlreadyExists, NotAllowed, NotFound, ValidationFailed
from buyergroup.events import calendar, storage
from buyergroup.events.models import (
    DEFAULT_REMINDER_MINUTES,
    AgendaItem,
    CalendarFeed,
    Event,
    EventKind,
    EventMaterial,
    EventMode,
    EventSeries,
    EventStatus,
    MaterialVisibility,
    Registration,
    RegistrationState,
)
from buyergroup.events.times import (
    exists_in_zone,
    format_moment,
    known_zone,
    to_utc,
    wall_clock,
)
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from buyergroup.mail.service import queue_email
from buyergroup.network.models import GroupMembership, GroupRole, MembershipState, WorkingGroup
from buyergroup.network.service import can_manage_group, can_see_group
from buyergroup.tokens import hash_secret, new_secret
from buyergroup.vocabulary import SPOKEN_LANGUAGES

# Reminder offsets an organiser can choose from (minutes before the start).
REMINDER_CHOICES = (10080, 2880, 1440, 180, 60, 15)
MAX_SERIES_SESSIONS = 52
FEED_PREFIX = "cal_"


# --- Permissions ----------------------------------------------------------------------------


def _signed_in(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def can_see_event(user: User | None, event: Event) -> bool:
    return can_see_group(user, event.group)


def can_manage_event(user: User | None, event: Event) -> bool:
    return can_manage_group(user, event.group)


def is_group_member(user: User | None, group: WorkingGroup) -> bool:
    membership = group.membership_of(user) if _signed_in(user) else None
    return bool(membership and membership.is_active)


def may_register(user: User | None, event: Event) -> bool:
    """The rule, without the event's state: public events take every member."""
    if not _signed_in(user):
        return False
    return event.is_public or is_group_member(user, event.group) or can_manage_event(user, event)


def may_see_private_details(user: User | None, event: Event) -> bool:
    """The video link: registered participants and the organisers."""
    if can_manage_event(user, event):
        return True
    registration = event.registration_of(user)
    return bool(registration and registration.is_registered)


def can_see_material(user: User | None, material: EventMaterial) -> bool:
    event = material.event
    if not can_see_event(user, event):
        return False
    if material.visibility is MaterialVisibility.public:
        return True
    if material.visibility is MaterialVisibility.members:
        return _signed_in(user)
    return may_see_private_details(user, event)


def require_manager(user: User | None, event_or_group) -> None:
    group = event_or_group.group if isinstance(event_or_group, Event) else event_or_group
    if not can_manage_group(user, group):
        raise NotAllowed(_("Only the organisers of this working group can do this."))


def get_event(event_id: int, user: User | None, *, manage: bool = False) -> Event:
    """The one loader for event pages, feeds and the API: 404 unless ``user`` may see it."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event(user, event):
        raise NotFound()
    if manage and not can_manage_event(user, event):
        raise NotAllowed(_("Only the organisers of this working group can do this."))
    return event


def get_series(series_id: int, user: User | None, *, manage: bool = False) -> EventSeries:
    series = db.session.get(EventSeries, series_id)
    if series is None or not can_see_group(user, series.group):
        raise NotFound()
    if manage:
        require_manager(user, series.group)
    return series


def managed_groups(user: User | None) -> list[WorkingGroup]:
    """The working groups whose events ``user`` may plan."""
    if not _signed_in(user):
        return []
    query = select(WorkingGroup).order_by(func.lower(WorkingGroup.name))
    if not user.is_admin:
        query = query.join(GroupMembership).where(
            GroupMembership.user_id == user.id,
            GroupMembership.role == GroupRole.organiser,
            GroupMembership.state == MembershipState.active,
        )
    return list(db.session.scalars(query))


# --- Queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    when: str = "upcoming"  # or "past"
    group_id: int | None = None
    language: str = ""
    kind: str = ""


def visible_events_query(user: User | None, filters: EventFilters = EventFilters()):
    """Events ``user`` may see, upcoming (soonest first) or past (latest first)."""
    now = utcnow()
    query = select(Event).join(WorkingGroup, Event.group_id == WorkingGroup.id)
    if not _signed_in(user):
        query = query.where(WorkingGroup.is_public.is_(True))
    if filters.group_id:
        query = query.where(Event.group_id == filters.group_id)
    if filters.language:
        query = query.where(Event.language == filters.language)
    if filters.kind in {k.value for k in EventKind}:
        query = query.where(Event.kind == EventKind(filters.kind))
    if filters.when == "past":
        return query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    return query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)


def upcoming_for_group(group: WorkingGroup, limit: int = 5) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.group_id == group.id, Event.ends_at >= utcnow())
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )


def counts(event: Event) -> tuple[int, int]:
    """(registered, waiting) for one event, counted in the database."""
    rows = dict(
        db.session.execute(
            select(Registration.state, func.count())
            .where(Registration.event_id == event.id)
            .group_by(Registration.state)
        ).all()
    )
    return rows.get(RegistrationState.registered, 0), rows.get(RegistrationState.waiting, 0)


def counts_for(events: list[Event]) -> dict[int, tuple[int, int]]:
    """(registered, waiting) per event id, in one query."""
    if not events:
        return {}
    result = {e.id: (0, 0) for e in events}
    rows = db.session.execute(
        select(Registration.event_id, Registration.state, func.count())
        .where(Registration.event_id.in_(list(result)))
        .group_by(Registration.event_id, Registration.state)
    )
    for event_id, state, number in rows:
        registered, waiting = result[event_id]
        if state is RegistrationState.registered:
            registered = number
        elif state is RegistrationState.waiting:
            waiting = number
        result[event_id] = (registered, waiting)
    return result


def managed_upcoming(user: User) -> list[Event]:
    """The organiser's dashboard: upcoming events of the groups they organise."""
    groups = [g.id for g in managed_groups(user)]
    if not groups:
        return []
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.group_id.in_(groups), Event.ends_at >= utcnow())
            .order_by(Event.starts_at, Event.id)
        )
    )


def waiting_position(registration: Registration) -> int | None:
    if not registration.is_waiting:
        return None
    ahead = db.session.scalar(
        select(func.count()).where(
            Registration.event_id == registration.event_id,
            Registration.state == RegistrationState.waiting,
            or_(
                Registration.queued_at < registration.queued_at,
                and_(
                    Registration.queued_at == registration.queued_at,
                    Registration.id < registration.id,
                ),
            ),
        )
    )
    return (ahead or 0) + 1


def registrations_in(event: Event, state: RegistrationState) -> list[Registration]:
    query = select(Registration).where(
        Registration.event_id == event.id, Registration.state == state
    )
    if state is RegistrationState.waiting:
        query = query.order_by(Registration.queued_at, Registration.id)
    else:
        query = query.join(User, Registration.user_id == User.id).order_by(func.lower(User.name))
    return list(db.session.scalars(query))


def registration_window_open(event: Event, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if event.is_cancelled or event.starts_at <= now:
        return False
    if event.registration_opens_at and now < event.registration_opens_at:
        return False
    return not (event.registration_closes_at and now >= event.registration_closes_at)


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


def _clean(data: EventData) -> EventData:
    """Check what the organiser entered; each problem names the field to show it by."""
    title = " ".join((data.title or "").split())
    if not title:
        raise ValidationFailed(_("Please give the event a title."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("Use at most 200 characters."), field="title")
    if data.kind not in {k.value for k in EventKind}:
        raise ValidationFailed(_("Choose the kind of event."), field="kind")
    if data.mode not in {m.value for m in EventMode}:
        raise ValidationFailed(_("Choose online or at a venue."), field="mode")
    zone = (data.timezone or "").strip()
    if not known_zone(zone):
        raise ValidationFailed(
            _("“%(zone)s” is not a time zone we know. Choose one from the list, for example "
              "Europe/Brussels.", zone=zone),
            field="timezone",
        )
    if data.language not in SPOKEN_LANGUAGES:
        raise ValidationFailed(_("Choose the language of the event."), field="language")
    if data.starts_local is None:
        raise ValidationFailed(_("Enter the date and time the event starts."),
                               field="starts_local")
    if data.ends_local is None:
        raise ValidationFailed(_("Enter the date and time the event ends."), field="ends_local")
    for time_field in ("starts_local", "ends_local"):
        if not exists_in_zone(getattr(data, time_field), zone):
            raise ValidationFailed(
                _("This time does not exist in %(zone)s: the clocks go forward an hour that "
                  "night. Choose another time.", zone=zone),
                field=time_field,
            )
    if to_utc(data.ends_local, zone) <= to_utc(data.starts_local, zone):
        raise ValidationFailed(_("The event must end after it starts."), field="ends_local")
    video_url = (data.video_url or "").strip()
    if video_url and not video_url.startswith(("https://", "http://")):
        raise ValidationFailed(_("Enter a web address starting with https://"),
                               field="video_url")
    venue_name = (data.venue_name or "").strip()
    venue_address = (data.venue_address or "").strip()
    if data.mode == EventMode.venue.value and not (venue_name or venue_address):
        raise ValidationFailed(_("Give the venue's name and address."), field="venue_address")
    if data.capacity is not None and data.capacity < 1:
        raise ValidationFailed(_("The capacity must be at least 1, or left empty for no limit."),
                               field="capacity")
    opens, closes = data.registration_opens_local, data.registration_closes_local
    if opens and closes and closes <= opens:
        raise ValidationFailed(_("Registration must close after it opens."),
                               field="registration_closes_local")
    if closes and to_utc(closes, zone) > to_utc(data.ends_local, zone):
        raise ValidationFailed(_("Registration must close before the event ends."),
                               field="registration_closes_local")
    if opens and to_utc(opens, zone) >= to_utc(data.ends_local, zone):
        raise ValidationFailed(_("Registration must open before the event ends."),
                               field="registration_opens_local")
    minutes = sorted({int(m) for m in data.reminder_minutes or []}, reverse=True)
    if any(m not in REMINDER_CHOICES for m in minutes):
        raise ValidationFailed(_("Choose reminder times from the list."),
                               field="reminder_minutes")
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


def _lock(event: Event) -> None:
    """Lock the event's row for the rest of the transaction and read it afresh.

    PostgreSQL: ``SELECT ... FOR UPDATE``, so seat changes on one event run one after the
    other. SQLite ignores FOR UPDATE; it lets one writer in at a time anyway.
    """
    if event.id is not None:
        db.session.refresh(event, with_for_update=True)


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
    _lock(event)
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
        _lock(other)
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
        _promote_waiting(target)
        moved = (target.starts_at, target.ends_at) != (old_start, old_end)
        new_place = {name: getattr(target, name) for name in _PLACE_FIELDS}
        if (moved or new_place != old_place) and not target.is_past:
            _tell_participants(
                target, "event_changed", moved=moved, place_changed=new_place != old_place,
                old_starts_at=old_start, old_ends_at=old_end, include_waiting=True,
            )
    db.session.flush()
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
    _lock(event)
    if event.is_cancelled:
        return
    event.status = EventStatus.cancelled
    event.cancelled_at = utcnow()
    event.cancellation_reason = (reason or "").strip()
    event.sequence += 1
    db.session.flush()
    if not event.is_past:
        _tell_participants(event, "event_cancelled", include_waiting=True,
                           reason=event.cancellation_reason)


# --- Series ---------------------------------------------------------------------------------


def create_series(
    actor: User | None, group: WorkingGroup, *, title_pattern: str, description: str = "",
    seed_key: str | None = None,
) -> EventSeries:
    """A numbered series: ``title_pattern`` contains ``{n}`` ("Workshop {n}")."""
    if actor is not None:
        require_manager(actor, group)
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
    series = EventSeries(
        group=group, title_pattern=pattern, description=(description or "").strip(),
        seed_key=seed_key, created_by_id=actor.id if actor else None,
    )
    db.session.add(series)
    db.session.flush()
    return series


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


# --- Registrations --------------------------------------------------------------------------


def _find_registration(event: Event, user: User) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def _has_free_seat(event: Event) -> bool:
    registered, waiting = counts(event)
    if waiting:
        return False  # never jump the queue
    return event.capacity is None or registered < event.capacity


def register(
    user: User, event: Event, *, actor: User | None = None, notify: bool = True
) -> Registration:
    """Register ``user``: a seat if one is free, else a place on the waiting list.

    ``actor``: an organiser adding ``user`` (any member, also outside the registration
    period). Raises when registration is closed, the member may not register, or is
    already registered or waiting.
    """
    by_organiser = actor is not None and actor.id != user.id
    if by_organiser:
        require_manager(actor, event)
    _lock(event)
    if event.is_cancelled:
        raise ValidationFailed(_("This event has been cancelled."))
    now = utcnow()
    if event.ends_at <= now:
        raise ValidationFailed(_("This event is over."))
    if not by_organiser:
        if not may_register(user, event):
            raise NotAllowed(
                _("This event is for the members of %(group)s. Join the group to register.",
                  group=event.group.name)
            )
        if event.starts_at <= now:
            raise ValidationFailed(_("This event has already started: registration is closed."))
        if event.registration_opens_at and now < event.registration_opens_at:
            with force_locale(user.locale or "en"):
                when = format_moment(event.registration_opens_at, user.timezone, "long")
            raise ValidationFailed(_("Registration opens on %(when)s.", when=when))
        if event.registration_closes_at and now >= event.registration_closes_at:
            with force_locale(user.locale or "en"):
                when = format_moment(event.registration_closes_at, user.timezone, "long")
            raise ValidationFailed(_("Registration closed on %(when)s.", when=when))
    elif not user.is_active:
        raise ValidationFailed(_("This account is not active."))
    registration = _find_registration(event, user)
    if registration is not None and registration.state is RegistrationState.registered:
        raise AlreadyExists(_("%(name)s is already registered.", name=user.name) if by_organiser
                            else _("You are already registered for this event."))
    if registration is not None and registration.state is RegistrationState.waiting:
        raise AlreadyExists(_("%(name)s is already on the waiting list.", name=user.name)
                            if by_organiser else _("You are already on the waiting list."))
    seat = _has_free_seat(event)
    if registration is None:
        registration = Registration(event=event, user=user)
        db.session.add(registration)
    else:
        registration.sequence += 1  # a cancelled copy in their feed comes back to life
    registration.queued_at = now
    registration.cancelled_at = None
    registration.attended = None
    registration.added_by_id = actor.id if by_organiser else None
    if seat:
        registration.state = RegistrationState.registered
        registration.registered_at = now
    else:
        registration.state = RegistrationState.waiting
        registration.registered_at = None
    db.session.flush()
    if notify:
        if seat:
            _tell(user, "event_registered", event, registration=registration, attach_ics=True,
                  by_organiser=by_organiser)
        else:
            _tell(user, "event_waitlisted", event, registration=registration,
                  position=waiting_position(registration), by_organiser=by_organiser)
    return registration


def cancel_registration(
    user: User, event: Event, *, actor: User | None = None, notify: bool = True
) -> Registration:
    """Cancel ``user``'s registration (or waiting-list place); the freed seat goes to the
    first on the waiting list. ``actor``: an organiser removing a participant."""
    by_organiser = actor is not None and actor.id != user.id
    if by_organiser:
        require_manager(actor, event)
    _lock(event)
    registration = _find_registration(event, user)
    if registration is None or registration.state is RegistrationState.cancelled:
        raise ValidationFailed(_("There is no registration to cancel."))
    if event.ends_at <= utcnow():
        raise ValidationFailed(_("This event is over."))
    registration.state = RegistrationState.cancelled
    registration.cancelled_at = utcnow()
    registration.sequence += 1
    db.session.flush()
    if notify and by_organiser:
        _tell(user, "event_registration_removed", event, registration=registration,
              attach_ics=True)
    _promote_waiting(event)
    return registration


def _promote_waiting(event: Event) -> list[Registration]:
    """Give free seats to the waiting list, longest-waiting first, and tell each of them."""
    if event.is_cancelled or event.ends_at <= utcnow():
        return []
    registered, _waiting = counts(event)
    promoted = []
    while event.capacity is None or registered < event.capacity:
        first = db.session.scalar(
            select(Registration)
            .where(Registration.event_id == event.id,
                   Registration.state == RegistrationState.waiting)
            .order_by(Registration.queued_at, Registration.id)
            .limit(1)
        )
        if first is None:
            break
        first.state = RegistrationState.registered
        first.registered_at = utcnow()
        first.sequence += 1
        db.session.flush()
        registered += 1
        promoted.append(first)
        _tell(first.user, "event_promoted", event, registration=first, attach_ics=True)
    return promoted


def set_attendance(actor: User, event: Event, present_ids: set[int]) -> int:
    """Mark who attended among the registered participants; returns how many were present."""
    require_manager(actor, event)
    present = 0
    for registration in registrations_in(event, RegistrationState.registered):
        registration.attended = registration.id in present_ids
        present += registration.attended
    db.session.flush()
    return present


def participants_csv(event: Event) -> str:
    """The participant list for a spreadsheet: registered, then waiting, then cancelled."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Email"), _("Organisation"), _("Country"), _("Status"),
                     _("Waiting list position"), _("Registered at (UTC)"), _("Attended")])
    rows = [
        *registrations_in(event, RegistrationState.registered),
        *registrations_in(event, RegistrationState.waiting),
        *registrations_in(event, RegistrationState.cancelled),
    ]
    from buyergroup.templating import label

    for position, registration in _with_positions(rows):
        user = registration.user
        attended = {True: _("yes"), False: _("no"), None: ""}[registration.attended]
        writer.writerow([
            _csv_safe(user.name), user.email,
            _csv_safe(user.organisation.name if user.organisation else ""), user.country or "",
            label(registration.state), position or "",
            registration.registered_at.strftime("%Y-%m-%d %H:%M")
            if registration.registered_at else "",
            attended,
        ])
    return out.getvalue()


def _with_positions(rows: list[Registration]):
    position = 0
    for registration in rows:
        if registration.is_waiting:
            position += 1
            yield position, registration
        else:
            yield None, registration


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# --- Agenda ---------------------------------------------------------------------------------

_LIBRARY_REF = re.compile(r"(?:/library/)?(\d+)")


def parse_library_refs(text: str) -> list[int]:
    """Library item ids from "12, 15" or from pasted links to library items."""
    ids = []
    for token in re.split(r"[\s,;]+", (text or "").strip()):
        if not token:
            continue
        match = re.search(r"/library/(\d+)", token) or re.fullmatch(r"#?(\d+)", token)
        if match is None:
            raise ValidationFailed(
                _("“%(text)s” is not a library item number or link.", text=token[:80]),
                field="library_items",
            )
        ids.append(int(match.group(1)))
    return list(dict.fromkeys(ids))


def _library_items(actor: User | None, ids: list[int]):
    from buyergroup.library.models import LibraryItem
    from buyergroup.library.service import can_see

    items = []
    for item_id in ids:
        item = db.session.get(LibraryItem, item_id)
        if item is None or (actor is not None and not can_see(actor, item)):
            raise ValidationFailed(
                _("There is no library item %(id)d (or you cannot see it).", id=item_id),
                field="library_items",
            )
        items.append(item)
    return items


def save_agenda_item(
    actor: User | None, event: Event, item: AgendaItem | None = None, *,
    starts_local: datetime | None, title: str, speakers: str = "", notes: str = "",
    library_item_ids: list[int] | None = None,
) -> AgendaItem:
    """Add (``item`` None) or change an agenda item; its time is wall-clock in the event's zone."""
    if actor is not None:
        require_manager(actor, event)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed(_("Please give the agenda item a title."), field="title")
    if starts_local is None:
        raise ValidationFailed(_("Enter the time the item starts."), field="starts_local")
    starts_at = to_utc(starts_local, event.timezone)
    if not event.starts_at <= starts_at < event.ends_at:
        with force_locale(_locale_of(actor)):
            start = format_moment(event.starts_at, event.timezone, "short")
            end = format_moment(event.ends_at, event.timezone, "short")
        raise ValidationFailed(
            _("The item must start during the event, between %(start)s and %(end)s.",
              start=start, end=end),
            field="starts_local",
        )
    library = _library_items(actor, library_item_ids or [])
    if item is None:
        item = AgendaItem(event=event, starts_at=starts_at, title=title)
        db.session.add(item)
    item.starts_at = starts_at
    item.title = title[:200]
    item.speakers = " ".join((speakers or "").split())[:300]
    item.notes = (notes or "").strip()
    item.library_items = library
    event.sequence += 1  # the agenda is part of the calendar description
    db.session.flush()
    return item


def delete_agenda_item(actor: User, item: AgendaItem) -> list[str]:
    """Remove an agenda item with its materials; returns stored file names to delete."""
    require_manager(actor, item.event)
    files = [m.stored_name for m in item.materials if m.stored_name]
    for material in list(item.materials):
        db.session.delete(material)
    item.event.sequence += 1
    db.session.delete(item)
    db.session.flush()
    return files


def _locale_of(user: User | None) -> str:
    return (user.locale if user is not None and user.locale else None) or "en"


# --- Materials and minutes ------------------------------------------------------------------


def add_material(
    actor: User | None, event: Event, *, title: str, note: str = "",
    visibility: str = MaterialVisibility.participants.value, is_minutes: bool = False,
    agenda_item: AgendaItem | None = None, stored: storage.StoredFile | None = None,
    notify: bool = True,
) -> EventMaterial:
    """Add a file or a note (or both); minutes tell the registered participants by email.

    ``stored`` is a file already checked and stored (``storage.store_upload``).
    """
    if actor is not None:
        require_manager(actor, event)
    title = " ".join((title or "").split())
    note = (note or "").strip()
    if not title:
        title = stored.original_name if stored is not None else ""
    if not title:
        raise ValidationFailed(_("Please give a title."), field="title")
    if stored is None and not note:
        raise ValidationFailed(_("Attach a file or write a note."), field="note")
    if visibility not in {v.value for v in MaterialVisibility}:
        raise ValidationFailed(_("Choose who can see it."), field="visibility")
    if agenda_item is not None and agenda_item.event_id != event.id:
        raise ValidationFailed(_("Choose an item of this event's agenda."), field="agenda_item")
    material = EventMaterial(
        event=event, agenda_item=agenda_item, title=title[:200], note=note,
        visibility=MaterialVisibility(visibility), is_minutes=bool(is_minutes),
        created_by_id=actor.id if actor else None,
    )
    if stored is not None:
        material.stored_name = stored.stored_name
        material.original_name = stored.original_name
        material.content_type = stored.content_type
        material.size = stored.size
    db.session.add(material)
    db.session.flush()
    if is_minutes and notify:
        _tell_participants(event, "event_minutes", material=material)
    return material


def get_material(event: Event, material_id: int, user: User | None) -> EventMaterial:
    material = db.session.get(EventMaterial, material_id)
    if material is None or material.event_id != event.id or not can_see_material(user, material):
        raise NotFound()
    return material


def delete_material(actor: User, material: EventMaterial) -> str | None:
    """Remove a material; returns its stored file name, to delete once committed."""
    require_manager(actor, material.event)
    stored_name = material.stored_name
    db.session.delete(material)
    db.session.flush()
    return stored_name


def visible_materials(event: Event, user: User | None) -> list[EventMaterial]:
    return [m for m in event.materials if can_see_material(user, m)]


# --- Email ----------------------------------------------------------------------------------


def _zone_of(user: User) -> str:
    return user.timezone if known_zone(user.timezone) else (
        current_app.config["BABEL_DEFAULT_TIMEZONE"]
    )


def _tell(
    user: User, template: str, event: Event, *, registration: Registration | None = None,
    attach_ics: bool = False, dedupe_key: str | None = None, **context,
) -> OutboxMessage | None:
    """Queue one email about ``event`` in ``user``'s language and time zone."""
    if not user.is_active:
        return None
    locale = _locale_of(user)
    show_link = bool(registration is not None and registration.is_registered)
    attachments = None
    if attach_ics:
        data = calendar.event_calendar(
            event, registration=registration, show_link=show_link, locale=locale
        )
        attachments = [(calendar.filename_for(event.title), "text/calendar", data)]
    return queue_email(
        user.email,
        template,
        locale=locale,
        dedupe_key=dedupe_key,
        attachments=attachments,
        event=event,
        user=user,
        zone=_zone_of(user),
        registration=registration,
        show_link=show_link,
        **context,
    )


def _tell_participants(
    event: Event, template: str, *, include_waiting: bool = False, **context
) -> int:
    states = [RegistrationState.registered]
    if include_waiting:
        states.append(RegistrationState.waiting)
    told = 0
    for registration in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.state.in_(states))
    ):
        # A calendar file only for those who have a seat (a waiting-list place is not in
        # their calendar yet).
        attach = template in ("event_changed", "event_cancelled") and registration.is_registered
        if _tell(registration.user, template, event, registration=registration,
                 attach_ics=attach, **context):
            told += 1
    return told


# --- Reminders (a scheduler job) ------------------------------------------------------------

MAX_REMINDER_MINUTES = max(REMINDER_CHOICES)


def reminder_key(registration: Registration, offset: int) -> str:
    """The outbox's idempotency key of one reminder.

    ``reminder:<registration>:<minutes>`` plus the start it announces, so that an event
    moved to another day is announced again, while the same reminder is never queued twice
    (the outbox's unique ``dedupe_key``).
    """
    stamp = registration.event.starts_at.strftime("%Y%m%dT%H%MZ")
    return f"reminder:{registration.id}:{offset}:{stamp}"


def _due_offset(event: Event, registration: Registration, now: datetime) -> int | None:
    """The reminder due now: the latest passed reminder time the member was registered by.

    A member who registers an hour before the start is not sent the "24 hours" reminder
    (their confirmation says it all), and after a scheduler outage only the most recent
    reminder goes out, not every missed one.
    """
    seated = registration.registered_at or registration.queued_at
    due = [
        minutes for minutes in event.reminder_offsets
        if event.starts_at - timedelta(minutes=minutes) <= now
        and seated <= event.starts_at - timedelta(minutes=minutes)
    ]
    return min(due) if due else None


def _already_queued(key: str) -> bool:
    """A cheap check that saves most inserts; the unique key is what guarantees once."""
    return db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
    ) is not None


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminders that are due; returns how many were queued. A scheduler job.

    Exactly once per registration and reminder time, however many schedulers run it at the
    same moment: each reminder is an outbox row with a unique key, inserted in a savepoint.
    A second process inserting the same key waits for the first to commit (PostgreSQL) and
    is then refused by the unique index; it skips that reminder. Commits each one.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(Registration.id, Event.id)
        .join(Event, Registration.event_id == Event.id)
        .where(
            Event.status == EventStatus.scheduled,
            Event.starts_at > now,
            Event.starts_at <= now + timedelta(minutes=MAX_REMINDER_MINUTES),
            Registration.state == RegistrationState.registered,
        )
        .order_by(Event.starts_at, Registration.id)
    ).all()
    db.session.rollback()
    queued = 0
    for registration_id, _event_id in rows:
        registration = db.session.get(Registration, registration_id)
        if registration is None or not registration.is_registered:
            db.session.rollback()
            continue
        event = registration.event
        offset = _due_offset(event, registration, now)
        if offset is None or event.is_cancelled:
            db.session.rollback()
            continue
        key = reminder_key(registration, offset)
        if _already_queued(key):
            db.session.rollback()
            continue
        try:
            with db.session.begin_nested():
                message = _tell(registration.user, "event_reminder", event,
                                registration=registration, dedupe_key=key, offset=offset)
        except IntegrityError:
            db.session.rollback()  # another scheduler queued it first
            continue
        db.session.commit()
        if message is not None:
            queued += 1
    return queued


# --- Personal calendar feeds ----------------------------------------------------------------


def active_feed(user: User) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                   CalendarFeed.revoked_at.is_(None))
    )


def create_feed(user: User) -> tuple[CalendarFeed, str]:
    """A new secret feed link (any previous one stops working); the secret is shown once."""
    revoke_feed(user)
    secret = FEED_PREFIX + new_secret()
    feed = CalendarFeed(user=user, prefix=secret[:10], token_hash=hash_secret(secret))
    db.session.add(feed)
    db.session.flush()
    return feed, secret


def revoke_feed(user: User) -> bool:
    revoked = False
    for feed in db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                   CalendarFeed.revoked_at.is_(None))
    ):
        feed.revoked_at = utcnow()
        revoked = True
    db.session.flush()
    return revoked


def user_for_feed(secret: str) -> User | None:
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_secret(secret))
    )
    if feed is None or not feed.is_active or not feed.user.is_active:
        return None
    feed.last_used_at = utcnow()
    return feed.user


FEED_HISTORY_DAYS = 365


def personal_entries(user: User) -> list[calendar.Entry]:
    """The member's registrations (also waiting and cancelled ones), from a year ago on."""
    since = utcnow() - timedelta(days=FEED_HISTORY_DAYS)
    registrations = db.session.scalars(
        select(Registration)
        .join(Event, Registration.event_id == Event.id)
        .where(Registration.user_id == user.id, Event.ends_at >= since)
        .order_by(Event.starts_at)
    )
    return [
        calendar.Entry(r.event, r, show_link=r.is_registered and not r.event.is_cancelled)
        for r in registrations
    ]


def feed_entries(events, user: User | None) -> list[calendar.Entry]:
    return [
        calendar.Entry(event, None, show_link=may_see_private_details(user, event))
        for event in events
    ]


def group_events(group: WorkingGroup) -> list[Event]:
    since = utcnow() - timedelta(days=FEED_HISTORY_DAYS)
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.group_id == group.id, Event.ends_at >= since)
            .order_by(Event.starts_at)
        )
    )
