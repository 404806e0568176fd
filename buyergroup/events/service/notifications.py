"""Email about events, in each member's language and time zone, and the reminders.

``queue_due_reminders`` is what the scheduler's job runs; it flushes like every service. The
job (``jobs.send_due_reminders``) owns its transactions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from buyergroup.accounts.models import User
from buyergroup.events import calendar
from buyergroup.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationState,
)
from buyergroup.events.service.constants import REMINDER_CHOICES
from buyergroup.events.times import (
    known_zone,
)
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from buyergroup.mail.service import queue_email


def locale_of(user: User | None) -> str:
    return (user.locale if user is not None and user.locale else None) or "en"


# --- Email ----------------------------------------------------------------------------------


def _zone_of(user: User) -> str:
    return user.timezone if known_zone(user.timezone) else (
        current_app.config["BABEL_DEFAULT_TIMEZONE"]
    )


def tell(
    user: User, template: str, event: Event, *, registration: Registration | None = None,
    attach_ics: bool = False, dedupe_key: str | None = None, **context,
) -> OutboxMessage | None:
    """Queue one email about ``event`` in ``user``'s language and time zone."""
    if not user.is_active:
        return None
    locale = locale_of(user)
    show_link = bool(registration is not None and registration.is_registered)
    attachments = None
    if attach_ics:
        # An iTIP message (REQUEST or CANCEL) for this one person.
        data = calendar.invitation(
            event, attendee=(user.name, user.email), registration=registration,
            show_link=show_link, locale=locale,
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


def tell_participants(
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
        if tell(registration.user, template, event, registration=registration,
                 attach_ics=attach, **context):
            told += 1
    return told


# --- Reminders (queued by the scheduler job in ``jobs``) ---------------------------------

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


def reminder_candidates(now: datetime) -> list[int]:
    """Ids of the registrations whose event starts within the longest reminder offset."""
    return list(db.session.scalars(
        select(Registration.id)
        .join(Event, Registration.event_id == Event.id)
        .where(
            Event.status == EventStatus.scheduled,
            Event.starts_at > now,
            Event.starts_at <= now + timedelta(minutes=MAX_REMINDER_MINUTES),
            Registration.state == RegistrationState.registered,
        )
        .order_by(Event.starts_at, Registration.id)
    ))


def queue_reminder(registration_id: int, now: datetime) -> OutboxMessage | None:
    """Queue the reminder due now for one registration, if any and not queued yet.

    The outbox row is inserted in a savepoint: when another scheduler queued the same
    ``dedupe_key`` first, the unique index refuses it and the ``IntegrityError`` reaches the
    caller (the job), which rolls back and goes on. Flushes, never commits.
    """
    registration = db.session.get(Registration, registration_id)
    if registration is None or not registration.is_registered:
        return None
    event = registration.event
    offset = _due_offset(event, registration, now)
    if offset is None or event.is_cancelled:
        return None
    key = reminder_key(registration, offset)
    if _already_queued(key):
        return None
    with db.session.begin_nested():
        return tell(registration.user, "event_reminder", event,
                     registration=registration, dedupe_key=key, offset=offset)
