"""Retention: past registrations are anonymised, ended sessions purged, by the scheduler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from buyergroup import scheduler
from buyergroup.accounts.models import UserSession
from buyergroup.database import utcnow
from buyergroup.events import service as events
from buyergroup.events.models import Registration, RegistrationState
from buyergroup.extensions import db
from buyergroup.privacy import jobs, service


def _move_to_the_past(event, days_ago: int) -> None:
    """Registration needs a future event; then the event is moved to have ended then."""
    ended = utcnow() - timedelta(days=days_ago)
    event.starts_at, event.ends_at = ended - timedelta(hours=2), ended
    db.session.commit()


@pytest.fixture
def past_events(make_event, make_member, member):
    old = make_event(title="Workshop 2024")
    recent = make_event(title="Workshop 2026")
    upcoming = make_event(title="Workshop next week")
    others = [make_member(f"p{n}@example.org", name=f"Participant {n}") for n in range(3)]
    for event in (old, recent, upcoming):
        events.register(member, event, show_name=True)
        for person in others:
            events.register(person, event)
    events.cancel_registration(others[0], old)
    db.session.commit()
    _move_to_the_past(old, 400)
    _move_to_the_past(recent, 100)
    return old, recent, upcoming


def _named(event) -> int:
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == event.id, Registration.user_id.is_not(None)))


def test_only_registrations_past_the_retention_period_are_anonymised(app, past_events, member):
    old, recent, upcoming = past_events
    assert service.registration_retention_days() == 365
    assert jobs.anonymise_registrations() == 4  # Mia and three participants of 2024
    db.session.expire_all()
    assert _named(old) == 0
    assert _named(recent) == 4 and _named(upcoming) == 4
    rows = db.session.scalars(select(Registration).where(Registration.event_id == old.id)).all()
    assert all(r.anonymised_at and not r.show_name and r.added_by_id is None for r in rows)
    # The figures stay: how many came, how many cancelled.
    assert events.counts(old)[0] == 3
    assert sorted(r.state.value for r in rows) == ["cancelled", "registered", "registered",
                                                   "registered"]
    # Nobody is named for it any more, also not to its organisers or in one's export.
    assert events.registrations_in(old, RegistrationState.registered) == []
    titles = [r["event"]["title"] for r in service.export_data(member)["event_registrations"]]
    assert titles == ["Workshop 2026", "Workshop next week"]
    # Idempotent: a second run has nothing left to do.
    assert jobs.anonymise_registrations() == 0


def test_the_retention_period_is_configurable(app, past_events):
    old, recent, _ = past_events
    app.config["PRIVACY_REGISTRATION_RETENTION_DAYS"] = 30
    try:
        assert jobs.anonymise_registrations() == 8
    finally:
        app.config.pop("PRIVACY_REGISTRATION_RETENTION_DAYS")
    db.session.expire_all()
    assert _named(old) == 0 and _named(recent) == 0


def test_the_organiser_page_of_an_anonymised_event_still_works(client, auth, organiser,
                                                               past_events):
    old, _, _ = past_events
    jobs.anonymise_registrations()
    auth.login(organiser)
    page = client.get(f"/events/{old.id}/participants")
    assert page.status_code == 200
    assert "Participant 1" not in page.get_data(as_text=True)
    assert client.get(f"/events/{old.id}/participants.csv").status_code == 200
    assert client.get(f"/events/{old.id}").status_code == 200


def test_ended_sessions_are_purged_after_their_period(app, member):
    from buyergroup.accounts import sessions

    now = utcnow()
    kept_open = sessions.start(member)  # a signed-in browser: never purged
    for days in (40, 10):
        sessions.start(member)
        newest = db.session.scalars(select(UserSession).order_by(UserSession.id.desc())).first()
        newest.ended_at = now - timedelta(days=days)
    db.session.commit()
    assert jobs.purge_sessions() == 1  # the one that ended 40 days ago
    remaining = db.session.scalars(select(UserSession)).all()
    assert len(remaining) == 2 and kept_open
    assert jobs.purge_sessions() == 0


def test_the_jobs_are_in_the_scheduler():
    targets = {job.id: job.target for job in scheduler.JOBS}
    assert targets["registration_retention"] == "buyergroup.privacy.jobs:anonymise_registrations"
    assert targets["session_purge"] == "buyergroup.privacy.jobs:purge_sessions"
    scheduler.load_jobs()  # every job's function imports
