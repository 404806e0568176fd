"""The events domain's scheduler job: its own transaction boundary, like ``mail.deliver_due``.

Services flush and never commit; a job has no request around it, so it commits here, one
reminder at a time, so that a crash midway keeps what was already queued.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from buyergroup.database import utcnow
from buyergroup.events.service import notifications
from buyergroup.extensions import db


def send_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminders that are due; returns how many were queued.

    Exactly once per registration and reminder time, however many schedulers run it at the
    same moment: each reminder is an outbox row with a unique key, inserted in a savepoint.
    A second process inserting the same key waits for the first to commit (PostgreSQL) and
    is then refused by the unique index; it skips that reminder. Commits each one.
    """
    now = now or utcnow()
    candidates = notifications.reminder_candidates(now)
    db.session.rollback()
    queued = 0
    for registration_id in candidates:
        try:
            message = notifications.queue_reminder(registration_id, now)
        except IntegrityError:
            db.session.rollback()  # another scheduler queued it first
            continue
        if message is None:
            db.session.rollback()
            continue
        db.session.commit()
        queued += 1
    return queued
