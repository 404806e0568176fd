"""Background jobs, run by ONE scheduler process: ``flask --app buyergroup scheduler run``.

Web workers never run jobs (FIELD-NOTES: a BackgroundScheduler inside ``create_app`` under
three gunicorn workers ran every job three times). One scheduler with ``coalesce=True``
and ``max_instances=1`` runs each job at most once at a time in its own process; the work
itself is idempotent, so a second scheduler started by mistake, or a cron job running
``flask scheduler tick`` beside it, sends nothing twice (each outbox message is claimed by
one sender; each reminder has a unique key).

**Only one scheduler works at a time**, however many are started (one per server, for
failover): the working one holds a lock, the others wait and retry every
``SCHEDULER_LOCK_RETRY_SECONDS`` (default 10), so when the working one dies, even by
``kill -9``, another takes over within that interval.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection
  of its own. The server releases it when that connection ends; TCP keepalives on both
  sides (a few seconds here) end it when the scheduler's machine disappears without one.
  Advisory locks are per database, so instances on other databases do not interfere.
- SQLite (one machine by nature): an ``fcntl.flock`` on ``<database file>.scheduler-lock``;
  the kernel releases it when the process ends, however it ends.

The scheduler's loop runs in a thread of its own (APScheduler's ``BackgroundScheduler``)
while the main thread only waits: SIGTERM's ``SystemExit`` is then raised in our code. In
the main thread of a ``BlockingScheduler`` it could land inside APScheduler's job
submission, whose ``except BaseException`` logged and swallowed it: the process went on
and ignored SIGTERM (seen in the test suite under load).

The working scheduler checks its lock every retry interval and stops with exit status 1
if it has lost it (say the database restarted), so a supervisor restarts it as a waiter.

Each job is thin: it opens an app context and calls one service function. Every job's
function is imported when the scheduler starts, and a job that cannot be (a missing or
broken module, a renamed function) stops the start with a clear error and a non-zero exit:
a scheduler that ran without its reminders would fail silently for days.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.globals import _cv_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

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
    Job("digests", "buyergroup.community.digests:send_due_digests", 15 * 60,
        "Queue the daily (07:00 local) and weekly (Monday 07:00) notification digests"),
    Job("stale_labels", "buyergroup.labels.jobs:check_stale_labels", 3600,
        "Flag criteria that cite a superseded or withdrawn label generation"),
    Job("deliver_mail", "buyergroup.mail.service:deliver_due", 30,
        "Send due messages from the outbox, with retries"),
    Job("search_index", "buyergroup.search.service:apply_pending", 30,
        "Apply pending search index updates"),
    Job("library_extraction", "buyergroup.library.extraction:extract_pending", 120,
        "Read the text of new library attachments"),
    Job("event_file_extraction", "buyergroup.events.extraction:extract_pending", 120,
        "Read the text of new event files (minutes, slides), for the search"),
    Job("housekeeping", "buyergroup.scheduler:housekeeping", 6 * 3600,
        "Purge expired password resets and invitations"),
    Job("audit_purge", "buyergroup.audit.service:purge_expired", 24 * 3600,
        "Delete audit entries older than AUDIT_RETENTION_DAYS"),
    Job("registration_retention", "buyergroup.privacy.jobs:anonymise_registrations",
        24 * 3600,
        "Anonymise registrations of events past PRIVACY_REGISTRATION_RETENTION_DAYS"),
    Job("session_purge", "buyergroup.privacy.jobs:purge_sessions", 24 * 3600,
        "Delete sessions that ended more than SESSION_RETENTION_DAYS ago"),
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
            result = function()
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            db.session.rollback()
            log.exception("Job %s failed", job.id)
            return None
        finally:
            db.session.remove()
    log.info("Job %s done: %s", job.id, result)
    return result


def tick(app: Flask, stopping: threading.Event | None = None) -> dict[str, object]:
    """Run every job once, in order; for tests, cron users and ``scheduler tick``. Stops
    between two jobs once ``stopping`` is set (``SystemExit``)."""
    results = {}
    for job, function in load_jobs():
        _exit_if(stopping)
        results[job.id] = run_job(app, job, function)
    return results


def _exit_if(stopping: threading.Event | None) -> None:
    if stopping is not None and stopping.is_set():
        raise SystemExit(0)


def build_scheduler(app: Flask):
    """A scheduler (not started) with every job; ``JobUnavailable`` if any cannot be
    imported. Its loop runs in a daemon thread once started (see the module's notes)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
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


# --- One working scheduler ---------------------------------------------------------------

#: The advisory lock's key: any constant that no other code of this database uses.
ADVISORY_LOCK_KEY = 0x6275_7972  # "buyr"


class AdvisoryLock:
    """PostgreSQL's session-level advisory lock, on a connection kept for this purpose."""

    def __init__(self, url: str) -> None:
        # libpq keepalives: this side notices a vanished database server.
        self.engine = create_engine(url, poolclass=NullPool, connect_args={
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
            "keepalives_count": 3, "application_name": "buyergroup-scheduler",
        })
        self.connection: Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
                # Server-side keepalives: the server ends this session, releasing the lock,
                # within ~25 s when the scheduler's machine disappears without closing it.
                for setting in ("tcp_keepalives_idle = 10", "tcp_keepalives_interval = 5",
                                "tcp_keepalives_count = 3"):
                    self.connection.execute(text(f"SET {setting}"))
            self.held = bool(self.connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar())
        except Exception:  # noqa: BLE001 - the database is unreachable: not held, try again
            log.warning("Cannot reach the database for the scheduler lock", exc_info=True)
            self._drop_connection()
        return self.held

    def still_held(self) -> bool:
        if not self.held or self.connection is None:
            return False
        try:
            return bool(self.connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND classid = 0 AND objid = CAST(:key AS oid)"
            ), {"key": ADVISORY_LOCK_KEY}).scalar())
        except Exception:  # noqa: BLE001 - a lost connection is a lost lock
            log.warning("The scheduler lock's connection failed", exc_info=True)
            return False

    def release(self) -> None:
        self._drop_connection()  # ending the session releases the lock
        self.engine.dispose()

    def _drop_connection(self) -> None:
        connection, self.connection, self.held = self.connection, None, False
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - it is gone either way
                connection.invalidate()


class FileLock:
    """An exclusive ``flock`` on a file; the kernel releases it when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # For the operator who wonders which process works: its id is in the file.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def still_held(self) -> bool:
        # Held while we keep the descriptor, unless someone replaced or deleted the file.
        try:
            return self.fd is not None and os.fstat(self.fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


def scheduler_lock(app: Flask) -> AdvisoryLock | FileLock:
    """The lock that makes one scheduler of this database the working one."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(url.render_as_string(hide_password=False))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLock(Path(url.database).resolve().with_name(
            Path(url.database).name + ".scheduler-lock"
        ))
    return FileLock(Path(app.instance_path) / "scheduler.lock")


def wait_for_lock(lock: AdvisoryLock | FileLock, retry_seconds: float, echo,
                  stopping: threading.Event) -> None:
    """Return once ``lock`` is ours, trying again every ``retry_seconds``; ``SystemExit``
    once ``stopping`` is set."""
    if lock.try_acquire():
        return
    echo(f"Another scheduler is working; waiting to take over (trying every {retry_seconds} s).")
    while not lock.try_acquire():
        stopping.wait(retry_seconds)
        _exit_if(stopping)


def pop_app_contexts_above(outer: object | None) -> None:
    """Pop the app contexts pushed on top of ``outer`` (the one current when the command
    started) and left there.

    A SIGTERM's ``SystemExit`` that lands inside a job's ``with app.app_context()`` while
    the context is being pushed (after it is current, before the ``with`` takes it) leaves
    it pushed, and the command's own context then failed to pop ("Popped wrong app
    context"): the scheduler exited with status 1 instead of 0 (seen once in a full run)."""
    while (current := _cv_app.get(None)) is not None and current is not outer:
        current.pop()


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM (systemd, docker stop) and Ctrl+C: ``SystemExit`` where the main thread is,
    which ends a job mid-way (each is safe to interrupt), and an event that stays set. The
    previous handlers are back afterwards (the command also runs inside tests).

    CPython swallows the ``SystemExit`` when the main thread is in a finalizer ("Exception
    ignored in ..."): a scheduler went on for 30 s after SIGTERM in a full test run. The
    event stops it anyway, before the next job or at the next turn of the waiting loop.
    """
    stopping = threading.Event()

    def stop(*_) -> None:
        stopping.set()
        sys.exit(0)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM,
                                                                    signal.SIGINT)}
    try:
        yield stopping
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _shut_down(scheduler) -> None:
    """Stop a started scheduler without waiting for its jobs. A signal can arrive inside
    ``start()``, once the scheduler counts as running but before its thread is started
    (seen once in CI: SIGTERM right after "Scheduler started"); APScheduler's shutdown then
    fails joining a thread that never ran, and the process ended with a traceback and exit
    code 1 instead of stopping cleanly. Such a scheduler has no thread to wait for."""
    from apscheduler.schedulers.base import BaseScheduler

    thread = getattr(scheduler, "_thread", None)
    if thread is not None and thread.ident is None:  # made, never started
        BaseScheduler.shutdown(scheduler, wait=False)
    else:
        scheduler.shutdown(wait=False)


def register_cli(app: Flask) -> None:
    import click
    from flask.cli import AppGroup

    group = AppGroup("scheduler", help="Background jobs (run ONE scheduler process).")

    @group.command("run")
    def run_command() -> None:
        """Run the jobs on their intervals until stopped (Ctrl+C or SIGTERM).

        Start one per server if you like: only the one holding the scheduler lock works,
        the others wait and take over when it ends.
        """
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        try:
            scheduler = build_scheduler(app)
        except JobUnavailable as error:
            raise click.ClickException(f"The scheduler does not start: {error}") from error
        for job in scheduler.get_jobs():
            click.echo(f"  {job.id:<20} every {job.trigger.interval}  {job.name}")
        retry_seconds = app.config.get("SCHEDULER_LOCK_RETRY_SECONDS", 10)
        lock = scheduler_lock(app)
        lost_lock = []

        def check_lock() -> None:
            if not lock.still_held():
                log.error("The scheduler lock is lost; stopping so that only one works")
                lost_lock.append(True)
                scheduler.shutdown(wait=False)

        scheduler.add_job(check_lock, "interval", seconds=retry_seconds, id="scheduler_lock",
                          name="Check that this scheduler still holds the lock")
        outer = _cv_app.get(None)
        with stop_on_signals() as stopping:
            try:
                wait_for_lock(lock, retry_seconds, click.echo, stopping)
                click.echo(f"Scheduler lock taken by process {os.getpid()}: this one works. "
                           "Running; stop with Ctrl+C.")
                # Run everything once at start, so a restart does not wait a full interval.
                tick(app, stopping)
                _exit_if(stopping)
                scheduler.start()
                # Until stopped, or the lock check shuts the scheduler down.
                while scheduler.running and not stopping.wait(0.2):
                    pass
                _exit_if(stopping)
            except (KeyboardInterrupt, SystemExit):  # KeyboardInterrupt: one raised by code
                click.echo("Scheduler stopped.")
            finally:
                if scheduler.running:
                    _shut_down(scheduler)
                lock.release()
                pop_app_contexts_above(outer)
        if lost_lock:
            raise click.ClickException("The scheduler lock was lost; restart this process.")

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
