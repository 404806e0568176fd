"""Background jobs, run by ONE scheduler process: ``flask --app buyergroup scheduler run``.

Web workers never run jobs (FIELD-NOTES: a BackgroundScheduler inside ``create_app`` under
three gunicorn workers ran every job three times). One ``BlockingScheduler`` with
``coalesce=True`` and ``max_instances=1`` runs each job at most once at a time in this
process; the work itself is idempotent, so a second scheduler started by mistake, or a
cron job running ``flask scheduler tick`` beside it, sends nothing twice (each outbox
message is claimed by one sender; each reminder has a unique key).

Each job is thin: it opens an app context and calls one service function. Every job's
function is imported when the scheduler starts, and a job that cannot be (a missing or
broken module, a renamed function) stops the start with a clear error and a non-zero exit:
a scheduler that ran without its reminders would fail silently for days.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask

from buyergroup.extensions import db

log = logging.getLogger(__name__)

PURGE_AFTER_DAYS = 30


@dataclass(frozen=True)
class Job:
    id: str
    target: str  # "module:function", imported when the job runs
    seconds: int
    description: str


# In this order for ``tick``: reminders are queued before the outbox is delivered.
JOBS: tuple[Job, ...] = (
    Job("event_reminders", "buyergroup.events.service:send_due_reminders", 60,
        "Queue the event reminders that are due"),
    Job("deliver_mail", "buyergroup.mail.service:deliver_due", 30,
        "Send due messages from the outbox, with retries"),
    Job("search_index", "buyergroup.search.service:apply_pending", 30,
        "Apply pending search index updates"),
    Job("library_extraction", "buyergroup.library.extraction:extract_pending", 120,
        "Read the text of new library attachments"),
    Job("housekeeping", "buyergroup.scheduler:housekeeping", 6 * 3600,
        "Purge expired password resets and invitations"),
)


class JobUnavailable(RuntimeError):
    """A job's function cannot be imported: the scheduler refuses to start without it."""


def resolve(target: str) -> Callable:
    """The job's function, imported now; ``JobUnavailable`` says why it cannot be."""
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - a broken module is as fatal as a missing one
        raise JobUnavailable(f"{target}: {type(error).__name__}: {error}") from error
    function = getattr(module, name, None)
    if not callable(function):
        raise JobUnavailable(f"{target}: {module_name} has no function {name!r}")
    return function


def load_jobs(jobs: tuple[Job, ...] | None = None) -> list[tuple[Job, Callable]]:
    """Every job with its function, or ``JobUnavailable`` naming each job that failed."""
    loaded, problems = [], []
    for job in JOBS if jobs is None else jobs:
        try:
            loaded.append((job, resolve(job.target)))
        except JobUnavailable as error:
            problems.append(f"job {job.id!r} ({job.description}): {error}")
    if problems:
        raise JobUnavailable("cannot load " + "; ".join(problems))
    return loaded


def run_job(app: Flask, job: Job, function: Callable):
    """Run one job in a fresh app context (and database session); errors are logged."""
    with app.app_context():
        try:
            return function()
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            db.session.rollback()
            log.exception("Job %s failed", job.id)
            return None
        finally:
            db.session.remove()


def tick(app: Flask) -> dict[str, object]:
    """Run every job once, in order; for tests, cron users and ``scheduler tick``."""
    return {job.id: run_job(app, job, function) for job, function in load_jobs()}


def build_scheduler(app: Flask):
    """A BlockingScheduler with every job; ``JobUnavailable`` if any cannot be imported."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job, function in load_jobs():
        # coalesce: after a pause, run once, not once per missed interval; max_instances=1:
        # a slow run is never overlapped by the next one.
        scheduler.add_job(run_job, "interval", args=[app, job, function], seconds=job.seconds,
                          id=job.id, name=job.description, replace_existing=True,
                          coalesce=True, max_instances=1, misfire_grace_time=300)
    return scheduler


def housekeeping() -> dict[str, int]:
    """Delete password resets and invitations that expired more than 30 days ago.

    Accepted invitations are kept: they record who invited whom. Commits (a job).
    """
    from sqlalchemy import delete

    from buyergroup.accounts.models import Invitation, InvitationState, PasswordReset
    from buyergroup.database import utcnow

    cutoff = utcnow() - timedelta(days=PURGE_AFTER_DAYS)
    resets = db.session.execute(
        delete(PasswordReset).where(PasswordReset.expires_at < cutoff)
    ).rowcount
    invitations = db.session.execute(
        delete(Invitation).where(
            Invitation.state != InvitationState.accepted, Invitation.expires_at < cutoff
        )
    ).rowcount
    db.session.commit()
    return {"password_resets": resets, "invitations": invitations}


def register_cli(app: Flask) -> None:
    import click
    from flask.cli import AppGroup

    group = AppGroup("scheduler", help="Background jobs (run ONE scheduler process).")

    @group.command("run")
    def run_command() -> None:
        """Run the jobs on their intervals until stopped (Ctrl+C or SIGTERM)."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        try:
            scheduler = build_scheduler(app)
        except JobUnavailable as error:
            raise click.ClickException(f"The scheduler does not start: {error}") from error
        for job in scheduler.get_jobs():
            click.echo(f"  {job.id:<20} every {job.trigger.interval}  {job.name}")
        click.echo("Scheduler running; stop with Ctrl+C.")
        try:
            # Run everything once at start, so a restart does not wait a full interval.
            tick(app)
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            click.echo("Scheduler stopped.")

    @group.command("tick")
    def tick_command() -> None:
        """Run every job once now (for cron, or to catch up by hand)."""
        try:
            results = tick(app)
        except JobUnavailable as error:
            raise click.ClickException(f"No job ran: {error}") from error
        for job_id, result in results.items():
            click.echo(f"{job_id:<20} {result}")

    app.cli.add_command(group)
