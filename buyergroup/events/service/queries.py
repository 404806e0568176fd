"""Reading events: the loaders that check who may see, lists, counts and the waiting list."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.service import with_listed_accounts
from buyergroup.database import utcnow
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.events.models import (
    Event,
    EventKind,
    EventSeries,
    Registration,
    RegistrationState,
)
from buyergroup.events.permissions import (
    can_manage_event,
    can_see_event,
    require_manager,
)
from buyergroup.extensions import db
from buyergroup.network.models import GroupMembership, GroupRole, MembershipState, WorkingGroup
from buyergroup.network.permissions import active_group_roles, can_see_group


def get_event(event_id: int, user: User | None, *, manage: bool = False) -> Event:
    """The one loader for event pages, feeds and the API: 404 unless ``user`` may see it."""
    # Every event page reads its group (who may see it) and its series: in the same statement.
    event = db.session.get(Event, event_id,
                           options=[joinedload(Event.group), joinedload(Event.series)])
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


def plans_events(user: User | None) -> bool:
    """Whether ``user`` may plan events in some group (the calendar's "Plan an event"):
    from the member's kept groups, without a query, unless they administer the site."""
    if not is_signed_in(user):
        return False
    if user.is_admin:
        return bool(managed_groups(user))
    return GroupRole.organiser in active_group_roles(user).values()


def managed_groups(user: User | None) -> list[WorkingGroup]:
    """The working groups whose events ``user`` may plan."""
    if not is_signed_in(user):
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
    """Events ``user`` may see, upcoming (soonest first) or past (latest first).

    Each event's group comes with it, from the join the rule needs anyway (no statement of
    its own), and the series in one query for the page.
    """
    now = utcnow()
    query = (
        select(Event)
        .join(WorkingGroup, Event.group_id == WorkingGroup.id)
        .options(contains_eager(Event.group), selectinload(Event.series))
    )
    if not is_signed_in(user):
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


def own_registration_and_counts(event: Event,
                                user: User | None) -> tuple[Registration | None, int, int]:
    """The event page's: ``user``'s registration (any state, or None) and the event's
    (registered, waiting). A member's own is looked for among all the event's registrations
    (one statement): counted there, where ``counts`` would ask again. A visitor has none:
    counted in the database."""
    if not is_signed_in(user):
        return None, *counts(event)
    registration = event.registration_of(user)
    states = Counter(other.state for other in event.registrations)
    return registration, states[RegistrationState.registered], states[RegistrationState.waiting]


# The event lists' statements, made once and run with their ids (each list page asks both).
_COUNTS_FOR = (
    select(Registration.event_id, Registration.state, func.count())
    .where(Registration.event_id.in_(bindparam("event_ids", expanding=True)))
    .group_by(Registration.event_id, Registration.state)
)
_REGISTRATIONS_OF = select(Registration).where(
    Registration.user_id == bindparam("member_id", type_=Registration.user_id.type),
    Registration.event_id.in_(bindparam("event_ids", expanding=True)))


def counts_for(events: list[Event]) -> dict[int, tuple[int, int]]:
    """(registered, waiting) per event id, in one query."""
    if not events:
        return {}
    result = {e.id: (0, 0) for e in events}
    rows = db.session.execute(_COUNTS_FOR, {"event_ids": list(result)})
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


def waiting_position(registration: Registration,
                     among: list[Registration] | None = None) -> int | None:
    """1 for the first on the waiting list. ``among``: the event's registrations, all of
    them, when the caller has them loaded (counted there instead of in the database)."""
    if not registration.is_waiting:
        return None
    if among is not None:
        if registration.queued_at is None:
            return 1  # as in SQL: nobody compares as ahead of an unknown time
        mine = (registration.queued_at, registration.id)
        return 1 + sum(1 for other in among if other.is_waiting
                       and other.queued_at is not None and (other.queued_at, other.id) < mine)
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


def registrations_of(user: User | None, events) -> dict[int, Registration]:
    """``user``'s registration (in any state) per event id, for a list of events in one query."""
    ids = [event.id for event in events]
    if not is_signed_in(user) or not ids:
        return {}
    return {
        registration.event_id: registration
        for registration in db.session.scalars(_REGISTRATIONS_OF,
                                               {"member_id": user.id, "event_ids": ids})
    }


def registrations_in(event: Event, state: RegistrationState) -> list[Registration]:
    """One state's registrations, with each member and their organisation loaded at once
    (the participant list shows both for every row)."""
    query = (
        select(Registration)
        # Anonymised registrations (past the retention period) name nobody: not listed.
        .where(Registration.event_id == event.id, Registration.state == state,
               Registration.user_id.is_not(None))
    )
    if state is RegistrationState.waiting:
        query = query.order_by(Registration.queued_at, Registration.id).options(
            with_listed_accounts(selectinload(Registration.user)))
    else:
        # Sorted by name: the accounts come from the join the order needs (not a second
        # statement for them).
        query = (query.join(User, Registration.user_id == User.id)
                 .options(with_listed_accounts(contains_eager(Registration.user)))
                 .order_by(func.lower(User.name)))
    return list(db.session.scalars(query))


def registration_window_open(event: Event, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if event.is_cancelled or event.starts_at <= now:
        return False
    if event.registration_opens_at and now < event.registration_opens_at:
        return False
    return not (event.registration_closes_at and now >= event.registration_closes_at)
