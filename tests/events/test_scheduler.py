"""The scheduler process: its jobs, one tick delivering reminders to a real SMTP server,
housekeeping, and the commands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from buyergroup import scheduler
from buyergroup.accounts.models import Invitation, PasswordReset
from buyergroup.database import utcnow
from buyergroup.events import service
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from tests.events.conftest import ZONE


def test_jobs_coalesce_and_never_overlap(app):
    built = scheduler.build_scheduler(app)
    from apscheduler.schedulers.background import BackgroundScheduler

    assert isinstance(built, BackgroundScheduler)
    jobs = {job.id: job for job in built.get_jobs()}
    assert {"deliver_mail", "event_reminders", "housekeeping"} <= set(jobs)
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1


def test_one_tick_sends_the_due_reminder_by_email(app, mailbox, make_event, member):
    in_12_hours = wall_clock(utcnow() + timedelta(hours=12), ZONE).replace(second=0,
                                                                            microsecond=0)
    event = make_event(starts_local=in_12_hours)
    service.register(member, event)
    registration = event.registration_of(member)
    registration.registered_at = utcnow() - timedelta(days=3)
    db.session.commit()
    deliver_due()
    mailbox.clear()
    # The event is 12 hours away: the 24-hour reminder is due.
    results = scheduler.tick(app)
    assert results["event_reminders"] == 1
    [reminder] = mailbox.to(member.email)
    assert reminder["Subject"].startswith("Reminder: Fair laptops workshop")
    # Another tick sends nothing more.
    scheduler.tick(app)
    assert len(mailbox.to(member.email)) == 1


def test_housekeeping_purges_what_expired_over_30_days_ago(app, member, organiser):
    now = utcnow()
    db.session.add_all([
        PasswordReset(user_id=member.id, token_hash="a" * 64, expires_at=now - timedelta(days=31)),
        PasswordReset(user_id=member.id, token_hash="b" * 64, expires_at=now - timedelta(days=2)),
        Invitation(email="old@example.org", organisation_id=member.organisation_id,
                   token_hash="c" * 64, expires_at=now - timedelta(days=40)),
        Invitation(email="new@example.org", organisation_id=member.organisation_id,
                   token_hash="d" * 64, expires_at=now + timedelta(days=10)),
    ])
    db.session.commit()
    assert scheduler.housekeeping() == {"password_resets": 1, "invitations": 1}
    assert db.session.scalar(select(func.count()).select_from(PasswordReset)) == 1
    assert db.session.scalars(select(Invitation.email)).all() == ["new@example.org"]


def test_the_commands(app, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    assert "deliver_mail" in result.output and "event_reminders" in result.output

    from apscheduler.schedulers.background import BackgroundScheduler

    def stop(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(BackgroundScheduler, "start", stop)
    result = runner.invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    assert "event_reminders" in result.output and "Scheduler stopped." in result.output

    result = runner.invoke(args=["events", "reminders"])
    assert result.exit_code == 0 and "Queued 0 reminder(s)." in result.output
