"""Seats under real concurrency, on SQLite (the default) and PostgreSQL alike.

Twenty members register at the same instant for the last free seats, from threads (each its
own database connection) and from separate processes (each its own app instance on the same
database file or server): exactly the free seats are given, everyone else waits, and only
those with a seat are sent the meeting link. Two cancellations at once promote exactly two.
SQLite ignores ``SELECT ... FOR UPDATE``: before the seat counter these gave 7, then 12 seats.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from sqlalchemy import select

from buyergroup import create_app
from buyergroup.accounts.models import User
from buyergroup.events import service
from buyergroup.events.models import Event, Registration, RegistrationState
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from buyergroup.mail.service import deliver_due
from tests.events.conftest import reload

# Other connections (threads, processes, the index) must see what these tests commit.
pytestmark = pytest.mark.committing

N = 20
VIDEO_URL = "https://meet.example.org/fair-laptops"

# What a second app instance needs to reach the same database, mail server and folders.
_SHARED_CONFIG = (
    "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "INSTANCE_PATH", "MAIL_FOLDER",
    "UPLOAD_FOLDER", "INDEX_FOLDER", "MAIL_SERVER", "MAIL_PORT", "WTF_CSRF_ENABLED",
    "BASE_URL", "SERVER_NAME", "RATELIMIT_STORAGE_URI",
)


def _register(event_id: int, user_id: int) -> str:
    user = db.session.get(User, user_id)
    registration = service.register(user, db.session.get(Event, event_id))
    db.session.commit()  # the worker is its own boundary, as a request would be
    return registration.state.value


def _cancel(event_id: int, user_id: int) -> str:
    user = db.session.get(User, user_id)
    registration = service.cancel_registration(user, db.session.get(Event, event_id))
    db.session.commit()
    return registration.state.value


def in_threads(app, work, event_id: int, user_ids: list[int]) -> list:
    """``work(event_id, user_id)`` in one thread per user, all released at one instant."""
    barrier = threading.Barrier(len(user_ids))
    results: list = [None] * len(user_ids)

    def target(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = work(event_id, user_ids[index])
            except Exception as error:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                results[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _process_main(app, work, event_id, user_id, barrier, results) -> None:
    """A forked copy of the second app instance doing ``work`` once, on connections of its
    own (the pool it inherited is empty: the parent disposed of it before forking)."""
    with app.app_context():
        try:
            barrier.wait(timeout=60)
            results.put((user_id, work(event_id, user_id)))
        except Exception as error:  # noqa: BLE001 - reported by the test
            db.session.rollback()
            results.put((user_id, repr(error)))
        finally:
            db.session.remove()
            db.engine.dispose()


def in_processes(app, work, event_id: int, user_ids: list[int]) -> list:
    """``work(event_id, user_id)`` in one process per user, each with its own engine."""
    # One more app instance, built once here and forked: each child starts in a fraction of
    # a second with that app's code and settings, and opens its own connections (building
    # an app in every child cost a third of a second of CPU each, 20 per test).
    context = multiprocessing.get_context("fork")
    second = create_app({key: app.config[key] for key in _SHARED_CONFIG})
    barrier = context.Barrier(len(user_ids))
    results = context.Queue()
    db.session.remove()
    db.engine.dispose()  # no pooled connection is shared with a child
    processes = [
        context.Process(target=_process_main,
                        args=(second, work, event_id, user_id, barrier, results))
        for user_id in user_ids
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=180) for _ in processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return [outcomes[user_id] for user_id in user_ids]


RUNNERS = {"threads": in_threads, "processes": in_processes}


def states(event_id: int) -> dict[str, list[int]]:
    db.session.rollback()
    db.session.expire_all()
    found: dict[str, list[int]] = {}
    for registration in db.session.scalars(
        select(Registration).where(Registration.event_id == event_id)
    ):
        found.setdefault(registration.state.value, []).append(registration.user_id)
    return found


@pytest.mark.parametrize("runner", list(RUNNERS))
@pytest.mark.parametrize("free_seats", [1, 2])
def test_n_members_at_once_get_exactly_the_free_seats(
    app, mailbox, make_event, make_member, runner, free_seats
):
    event = make_event(capacity=2, video_url=VIDEO_URL)
    for _ in range(2 - free_seats):  # seats already taken before the rush
        service.register(make_member(), event)
    db.session.commit()
    earlier = {r.user_id for r in reload(event).registrations}
    racers = [make_member() for _ in range(N)]
    emails = {user.id: user.email for user in racers}
    deliver_due()
    mailbox.clear()

    outcomes = RUNNERS[runner](app, _register, event.id, list(emails))

    assert not [o for o in outcomes if o not in ("registered", "waiting")], outcomes
    assert outcomes.count("registered") == free_seats
    assert outcomes.count("waiting") == N - free_seats
    found = states(event.id)
    seated = set(found["registered"]) - earlier
    assert len(found["registered"]) == 2
    assert len(seated) == free_seats
    assert len(found["waiting"]) == N - free_seats
    positions = sorted(service.waiting_position(r) for r in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.state == RegistrationState.waiting)))
    assert positions == list(range(1, N - free_seats + 1))
    assert reload(event).seats_taken == 2

    # Only those with a seat are sent the meeting link (the confirmation and its .ics).
    deliver_due()
    with_link = {user_id for user_id, email in emails.items()
                 if any(VIDEO_URL in m.as_string() for m in mailbox.to(email))}
    assert with_link == seated
    for user_id, email in emails.items():
        subjects = [m["Subject"] for m in mailbox.to(email)]
        assert len(subjects) == 1, subjects
        assert subjects[0].startswith(
            "You are registered" if user_id in seated else "On the waiting list"), subjects


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_two_cancellations_at_once_promote_exactly_two(
    app, mailbox, make_event, make_member, runner
):
    event = make_event(capacity=2, video_url=VIDEO_URL)
    seated = [make_member() for _ in range(2)]
    waiting = [make_member() for _ in range(3)]
    for user in seated + waiting:
        service.register(user, event)
    db.session.commit()
    seated_ids = [u.id for u in seated]
    waiting_ids = [u.id for u in waiting]
    next_in_line = sorted(u.email for u in waiting[:2])
    deliver_due()
    mailbox.clear()

    outcomes = RUNNERS[runner](app, _cancel, event.id, seated_ids)

    assert outcomes == ["cancelled", "cancelled"]
    found = states(event.id)
    assert sorted(found["registered"]) == sorted(waiting_ids[:2])
    assert found["waiting"] == [waiting_ids[2]]
    assert reload(event).seats_taken == 2
    deliver_due()
    promoted_mail = [m["To"] for m in mailbox.messages
                     if m["Subject"].startswith("A seat is yours")]
    assert sorted(promoted_mail) == next_in_line


def test_the_seat_counter_follows_every_change(app, make_event, make_member, organiser):
    """Cancellation, promotion, an organiser adding and removing, a capacity change."""
    event = make_event(capacity=2)
    people = [make_member() for _ in range(5)]

    def check(expected_registered: int) -> None:
        db.session.flush()
        db.session.refresh(event)
        registered, _waiting = service.counts(event)
        assert registered == expected_registered
        assert event.seats_taken == registered

    service.register(people[0], event)
    service.register(people[1], event)
    service.register(people[2], event)  # waits
    check(2)
    service.cancel_registration(people[0], event)  # people[2] promoted
    check(2)
    service.register(people[3], event, actor=organiser)  # full: waits
    check(2)
    service.cancel_registration(people[3], event, actor=organiser)  # a waiting place
    check(2)
    service.register(people[3], event, actor=organiser)
    service.register(people[4], event)
    data = service.EventData.of(event)
    data.capacity = 3
    service.update_event(organiser, event, data)  # people[3] promoted
    check(3)
    data.capacity = None
    service.update_event(organiser, event, data)  # no limit: people[4] promoted
    check(4)
    service.cancel_registration(people[2], event, actor=organiser)
    check(3)
    db.session.commit()
    assert OutboxMessage.query.count() > 0
