"""Registrations and the waiting list: seats first come, first served; attendance, the
participant list, and what an ended group membership takes back.

Seats: ``Event.seats_taken`` counts the registrations that hold a seat, and a seat is taken
only by a conditional ``UPDATE events SET seats_taken = seats_taken + 1 WHERE id = ? AND
seats_taken < capacity``, whose row count says whether this registration got it. That holds on
SQLite (which ignores ``SELECT ... FOR UPDATE``) as on PostgreSQL, however many members, threads
or processes register at the same instant. Each seat change also locks the event first
(``lock_event``), so the waiting list is served in order and a double cancel cannot free one
seat twice. A freed seat goes at once to the longest-waiting member, in the same transaction:
while anyone waits, no seat is free, and a newcomer cannot jump the queue. The unique key
(event, member) refuses a second row for one member.
"""

from __future__ import annotations

import csv
import io

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from buyergroup.accounts.models import User
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction
from buyergroup.database import utcnow
from buyergroup.errors import AlreadyExists, NotAllowed, ValidationFailed
from buyergroup.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationState,
)
from buyergroup.events.permissions import (
    may_register,
    require_manager,
)
from buyergroup.events.service.notifications import tell
from buyergroup.events.service.queries import counts, registrations_in, waiting_position
from buyergroup.events.times import (
    format_moment,
)
from buyergroup.extensions import db
from buyergroup.network.models import WorkingGroup
from buyergroup.signals import membership_ended


def lock_event(event: Event) -> None:
    """Make seat changes on ``event`` run one after the other, then read it afresh.

    PostgreSQL: ``SELECT ... FOR UPDATE`` locks the event's row until the transaction ends.
    SQLite ignores FOR UPDATE, and two transactions that both read before either writes
    each decide on what they read (20 members taking the last seat got 7, then 12 seats).
    There a write is the lock: a no-op ``UPDATE`` of the row takes the database's write
    lock at once, as ``BEGIN IMMEDIATE`` would, and whatever this transaction reads after
    it is what the previous seat change committed.
    """
    if event.id is None:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Event).where(Event.id == event.id)
            .values(seats_taken=Event.seats_taken, updated_at=Event.updated_at)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(event)
    else:
        # The event's row alone (not ``refresh``: it repeats the joins the event was loaded
        # with, and PostgreSQL locks no row of an outer join's nullable side, its series).
        db.session.execute(
            select(Event).where(Event.id == event.id).with_for_update()
            .execution_options(populate_existing=True)
        )


def _take_seat(event: Event) -> bool:
    """Take one seat if one is free: one conditional ``UPDATE``, whose row count tells.

    Atomic on every engine, whatever else the transaction read: the database itself refuses
    the seat past the capacity. The counter (``seats_taken``, the number of registered
    participants) is kept by this function and ``_free_seat`` alone. No seat is free while
    members wait: every change that frees a seat gives it to the waiting list in the same
    transaction, so the queue is never jumped.
    """
    taken = db.session.execute(
        update(Event)
        .where(Event.id == event.id,
               or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity))
        .values(seats_taken=Event.seats_taken + 1, updated_at=Event.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.expire(event, ["seats_taken"])
    return taken


def _free_seat(event: Event) -> None:
    db.session.execute(
        update(Event).where(Event.id == event.id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1, updated_at=Event.updated_at)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(event, ["seats_taken"])


def recount_seats(event: Event) -> int:
    """Set the seat counter from the registrations (after rows were deleted in bulk)."""
    registered, _waiting = counts(event)
    db.session.execute(
        update(Event).where(Event.id == event.id)
        .values(seats_taken=registered, updated_at=Event.updated_at)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(event, ["seats_taken"])
    return registered


# --- Registrations --------------------------------------------------------------------------


def _find_registration(event: Event, user: User) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def _waiting_exists(event: Event) -> bool:
    return db.session.scalar(
        select(Registration.id).where(Registration.event_id == event.id,
                                      Registration.state == RegistrationState.waiting).limit(1)
    ) is not None


def register(
    user: User, event: Event, *, actor: User | None = None, notify: bool = True,
    show_name: bool = False,
) -> Registration:
    """Register ``user``: a seat if one is free, else a place on the waiting list.

    ``actor``: an organiser adding ``user`` (any member, also outside the registration
    period). Raises when registration is closed, the member may not register, or is
    already registered or waiting. Only a member who got a seat is sent the meeting link.
    ``show_name``: the member agrees that the other participants see their name (asked
    when they register; never assumed, and never when an organiser adds them).
    """
    by_organiser = actor is not None and actor.id != user.id
    if by_organiser:
        require_manager(actor, event)
    lock_event(event)
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
    # Never jump the queue; then the database decides who gets a seat.
    seat = not _waiting_exists(event) and _take_seat(event)
    if registration is None:
        registration = Registration(event=event, user=user)
        db.session.add(registration)
    else:
        registration.sequence += 1  # a cancelled copy in their feed comes back to life
    registration.queued_at = now
    registration.cancelled_at = None
    registration.attended = None
    registration.added_by_id = actor.id if by_organiser else None
    registration.show_name = bool(show_name) and not by_organiser
    if seat:
        registration.state = RegistrationState.registered
        registration.registered_at = now
    else:
        registration.state = RegistrationState.waiting
        registration.registered_at = None
    db.session.flush()
    if notify:
        if seat:
            tell(user, "event_registered", event, registration=registration, attach_ics=True,
                 by_organiser=by_organiser)
        else:
            tell(user, "event_waitlisted", event, registration=registration,
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
    lock_event(event)
    registration = _find_registration(event, user)
    if registration is None or registration.state is RegistrationState.cancelled:
        raise ValidationFailed(_("There is no registration to cancel."))
    if event.ends_at <= utcnow():
        raise ValidationFailed(_("This event is over."))
    _cancel(registration)
    if notify and by_organiser:
        tell(user, "event_registration_removed", event, registration=registration,
             attach_ics=True)
    promote_waiting(event)
    return registration


def _cancel(registration: Registration) -> None:
    """Cancel one registration (its event locked by the caller), freeing its seat."""
    if registration.is_registered:
        _free_seat(registration.event)
    registration.state = RegistrationState.cancelled
    registration.cancelled_at = utcnow()
    registration.sequence += 1
    db.session.flush()


def promote_waiting(event: Event) -> list[Registration]:
    """Give free seats to the waiting list, longest-waiting first, and tell each of them.

    The caller holds the event's lock (``lock_event``); each seat is still taken with the
    conditional update, so two cancellations at the same instant promote exactly two.
    """
    if event.is_cancelled or event.ends_at <= utcnow():
        return []
    promoted = []
    while True:
        first = db.session.scalar(
            select(Registration)
            .where(Registration.event_id == event.id,
                   Registration.state == RegistrationState.waiting)
            .order_by(Registration.queued_at, Registration.id)
            .limit(1)
            .execution_options(populate_existing=True)
        )
        if first is None or not _take_seat(event):
            break
        first.state = RegistrationState.registered
        first.registered_at = utcnow()
        first.sequence += 1
        db.session.flush()
        promoted.append(first)
        tell(first.user, "event_promoted", event, registration=first, attach_ics=True)
    return promoted


def end_group_registrations(group: WorkingGroup, user: User) -> list[Registration]:
    """Cancel ``user``'s registrations and waiting-list places for ``group``'s upcoming
    members-only events, and give each freed seat to the waiting list.

    What a membership gave ends with it: the meeting link and the participants-only
    materials go with the seat. Public events stay: every member may register for those.
    The member is told by email, with a calendar file that removes the event.
    """
    now = utcnow()
    events = list(db.session.scalars(
        select(Event)
        .join(Registration, Registration.event_id == Event.id)
        .where(Registration.user_id == user.id,
               Registration.state != RegistrationState.cancelled,
               Event.group_id == group.id,
               Event.is_public.is_(False),
               Event.status == EventStatus.scheduled,
               Event.ends_at > now)
        .order_by(Event.starts_at, Event.id)
    ))
    cancelled = []
    for event in events:
        lock_event(event)
        registration = _find_registration(event, user)
        if registration is None or registration.state is RegistrationState.cancelled:
            continue  # cancelled meanwhile
        _cancel(registration)
        cancelled.append(registration)
        tell(user, "event_registration_removed", event, registration=registration,
             attach_ics=True, membership_ended=True)
        promote_waiting(event)
    return cancelled


def _on_membership_ended(group: WorkingGroup, *, user: User, actor: User | None = None,
                         **_extra) -> None:
    end_group_registrations(group, user)


# The network domain announces an ended membership; this domain sits above it and acts.
# Connected when this module is imported (``create_app`` imports it with the views), inside
# the sender's transaction: it flushes, the request or command commits.
membership_ended.connect(_on_membership_ended)


def set_attendance(actor: User, event: Event, present_ids: set[int]) -> int:
    """Mark who attended among the registered participants; returns how many were present."""
    require_manager(actor, event)
    present = 0
    for registration in registrations_in(event, RegistrationState.registered):
        registration.attended = registration.id in present_ids
        present += registration.attended
    db.session.flush()
    return present


def listed_participants(event: Event) -> list[Registration]:
    """The registered participants whom the other participants may see: those who ticked
    "Show my name on the participant list" (and have not withdrawn it since). The
    organisers' own page lists every registration; nothing else names anyone."""
    return [
        registration
        for registration in registrations_in(event, RegistrationState.registered)
        if registration.show_name and registration.user is not None
        and registration.user.is_active
    ]


def set_name_shown(user: User, event: Event, show: bool) -> Registration:
    """Change one's own consent to appear on an event's participant list."""
    registration = _find_registration(event, user)
    if registration is None or registration.state is RegistrationState.cancelled:
        raise ValidationFailed(_("There is no registration to change."))
    registration.show_name = bool(show)
    db.session.flush()
    return registration


def participants_csv(event: Event, actor: User | None = None) -> str:
    """The participant list for a spreadsheet: registered, then waiting, then cancelled.

    A download by ``actor`` is recorded in the audit log: it takes personal data off the site.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Name"), _("Email"), _("Organisation"), _("Country"), _("Status"),
                     _("Waiting list position"), _("Registered at (UTC)"), _("Attended"),
                     _("Name shown to participants")])
    rows = [
        *registrations_in(event, RegistrationState.registered),
        *registrations_in(event, RegistrationState.waiting),
        *registrations_in(event, RegistrationState.cancelled),
    ]

    for position, registration in _with_positions(rows):
        user = registration.user
        attended = {True: _("yes"), False: _("no"), None: ""}[registration.attended]
        writer.writerow([
            # An address may legally start with = or + (=2+3@example.org): escape it too.
            _csv_safe(user.name), _csv_safe(user.email),
            _csv_safe(user.organisation.name if user.organisation else ""), user.country or "",
            registration.state.label, position or "",
            registration.registered_at.strftime("%Y-%m-%d %H:%M")
            if registration.registered_at else "",
            attended,
            _("yes") if registration.show_name else _("no"),
        ])
    if actor is not None:
        audit.record(
            AuditAction.participants_downloaded, actor=actor, target=event,
            details={"rows": len(rows)},
        )
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


# --- Privacy: erasure and retention (called by buyergroup.privacy) --------------------------


def release_member_registrations(user: User) -> int:
    """Before an account is erased: free every seat and waiting place ``user`` holds in an
    upcoming event and give it to the waiting list (who is told). The erased member is not
    mailed: their address is about to go. Returns how many were released; flushes."""
    now = utcnow()
    events = list(db.session.scalars(
        select(Event)
        .join(Registration, Registration.event_id == Event.id)
        .where(Registration.user_id == user.id,
               Registration.state != RegistrationState.cancelled,
               Event.ends_at > now)
        .order_by(Event.starts_at, Event.id)
    ))
    released = 0
    for event in events:
        lock_event(event)
        registration = _find_registration(event, user)
        if registration is None or registration.state is RegistrationState.cancelled:
            continue
        _cancel(registration)
        released += 1
        promote_waiting(event)
    return released


def anonymise_registrations_before(cutoff) -> int:
    """Unlink from their members the registrations of events that ended before ``cutoff``:
    the rows keep their state and attendance (the counts stay right) but name nobody.
    Already anonymised rows are left alone, so running it twice changes nothing more.
    Returns how many rows it anonymised; flushes."""
    ended = select(Event.id).where(Event.ends_at < cutoff)
    return db.session.execute(
        update(Registration)
        .where(Registration.event_id.in_(ended), Registration.anonymised_at.is_(None))
        .values(user_id=None, added_by_id=None, show_name=False, anonymised_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
