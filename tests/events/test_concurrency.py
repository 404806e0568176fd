"""Races that only a real database settles (PostgreSQL): the last seat taken by two members
at the same instant, and two schedulers sending the same reminders at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from buyergroup.events import service
from buyergroup.events.models import Event, Registration, RegistrationState
from buyergroup.events.service import notifications
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from tests.events.conftest import local_days_ahead

# Threads with connections of their own: the test data must be committed for them.
pytestmark = [pytest.mark.postgres, pytest.mark.committing]


@pytest.fixture(autouse=True)
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


def run_together(app, count: int, work) -> list:
    """Run ``work(index)`` in ``count`` threads that start at the same instant, each with its
    own app context (its own database session and connection)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = work(index)
            except Exception as error:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_the_last_seat_goes_to_exactly_one_of_many_at_the_same_instant(app, make_event,
                                                                       make_member):
    event = make_event(capacity=1)
    user_ids = [make_member().id for _ in range(8)]
    event_id = event.id

    def register(index: int) -> str:
        from buyergroup.accounts.models import User

        user = db.session.get(User, user_ids[index])
        registration = service.register(user, db.session.get(Event, event_id))
        db.session.commit()
        return registration.state.value

    outcomes = run_together(app, len(user_ids), register)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(outcomes) == ["registered"] + ["waiting"] * 7
    db.session.expire_all()
    rows = db.session.scalars(select(Registration).where(Registration.event_id == event_id))
    by_state = {}
    for row in rows:
        by_state.setdefault(row.state, []).append(row)
    assert len(by_state[RegistrationState.registered]) == 1
    positions = sorted(service.waiting_position(r) for r in by_state[RegistrationState.waiting])
    assert positions == list(range(1, 8))


def test_one_member_clicking_twice_at_once_gets_one_registration(app, make_event, member):
    event_id, member_id = make_event().id, member.id

    def register(index: int) -> str:
        from buyergroup.accounts.models import User

        registration = service.register(db.session.get(User, member_id),
                                        db.session.get(Event, event_id))
        db.session.commit()
        return registration.state.value

    outcomes = run_together(app, 2, register)
    assert sorted(type(o).__name__ if isinstance(o, Exception) else o for o in outcomes) == [
        "AlreadyExists", "registered"]


@pytest.mark.parametrize("skip_precheck", [False, True], ids=["as-is", "unique-key-only"])
def test_two_schedulers_at_once_send_each_reminder_once(app, mailbox, make_event, make_member,
                                                        monkeypatch, skip_precheck):
    if skip_precheck:
        # Without the cheap "already queued?" check both schedulers try every insert:
        # only the outbox's unique dedupe key can keep the second copy out.
        monkeypatch.setattr(notifications, "_already_queued", lambda key: False)
    event = make_event(starts_local=local_days_ahead(2))
    members = [make_member() for _ in range(6)]
    for user in members:
        service.register(user, event)
    db.session.commit()
    deliver_due()  # the confirmations
    mailbox.clear()
    moment = event.starts_at - timedelta(minutes=50)

    def scheduler(index: int) -> int:
        queued = service.send_due_reminders(now=moment)
        deliver_due()
        return queued

    queued = run_together(app, 2, scheduler)
    assert not [q for q in queued if isinstance(q, Exception)], queued
    assert sum(queued) == len(members)
    reminders = [m for m in mailbox.messages if m["Subject"].startswith("Reminder:")]
    assert sorted(m["To"] for m in reminders) == sorted(u.email for u in members)
    # And a third run later finds nothing left to do.
    assert service.send_due_reminders(now=moment + timedelta(minutes=5)) == 0
