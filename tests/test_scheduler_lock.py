"""Two scheduler processes on one database: only one works; when it is killed (SIGKILL),
the other takes over within the retry interval. Real ``flask scheduler run`` processes,
real SMTP server; SQLite (a file lock) and PostgreSQL (an advisory lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import text

from buyergroup.extensions import db
from buyergroup.scheduler import FileLock, scheduler_lock
from tests.mail.support import (
    FLASK,
    Lines,
    kill,
    outbox_rows,
    process_env,
    queue_messages,
    recipients,
    running_smtp_server,
    start_interpreter,
    wait_until_nothing_pending,
)

# Other connections (threads, processes, the index) must see what these tests commit.
pytestmark = pytest.mark.committing

RETRY_SECONDS = 0.5
WORKING = "Scheduler lock taken by process"
WAITING = "Another scheduler is working; waiting"


def scheduler_run(env) -> Lines:
    return Lines(start_interpreter([FLASK, "--app", "buyergroup", "scheduler", "run"], env))


def sent_by() -> dict[str, int]:
    """How many messages each process (by pid) sent."""
    senders: dict[str, int] = {}
    for row in outbox_rows():
        if row.sent_at is not None:
            pid = row.claimed_by.split(":")[1]
            senders[pid] = senders.get(pid, 0) + 1
    return senders


def test_only_one_scheduler_works_and_another_takes_over_when_it_is_killed(app):
    with running_smtp_server() as smtp:
        env = process_env(app, smtp, SCHEDULER_LOCK_RETRY_SECONDS=str(RETRY_SECONDS))
        queue_messages(recipients(5))
        first = scheduler_run(env)
        first.wait_for(WORKING, timeout=90)
        second = scheduler_run(env)
        try:
            second.wait_for(WAITING, timeout=90)
            smtp.wait_for(5)  # the first one's start-up run sent what was due
            wait_until_nothing_pending()
            first.wait_for("Job housekeeping done")
            # The second one waits through several retries and runs nothing.
            time.sleep(4 * RETRY_SECONDS)
            assert second.having(WORKING) == [] and second.having("Job ") == []
            assert sent_by() == {str(first.process.pid): 5}

            queue_messages(recipients(5, start=5))
            killed_at = time.monotonic()
            kill(first.process)
            second.wait_for(WORKING, timeout=60)
            took_over_in = time.monotonic() - killed_at
            smtp.wait_for(10)
            wait_until_nothing_pending()
            assert sent_by() == {str(first.process.pid): 5, str(second.process.pid): 5}
            assert took_over_in < 5 * RETRY_SECONDS + 5, took_over_in
            assert smtp.counts() == dict.fromkeys(recipients(10), 1)
        finally:
            if first.process.poll() is None:  # the test failed before the kill
                kill(first.process)
            if second.process.poll() is None:
                os.kill(second.process.pid, signal.SIGTERM)
                try:
                    second.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    # Never leave a scheduler holding the lock for the next test; the
                    # assertion below says what it was doing.
                    kill(second.process)
        assert second.process.returncode == 0, second.text()[-4000:]
        assert second.having("Scheduler stopped.")


def test_the_lock_admits_one_holder_at_a_time(app):
    first, second = scheduler_lock(app), scheduler_lock(app)
    try:
        # A scheduler process of the previous test may still be ending on the server side.
        deadline = time.monotonic() + 10
        while not first.try_acquire():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert first.still_held()
        assert not second.try_acquire()
        first.release()
        # Ending the lock's session returns before the server has ended it (PostgreSQL):
        # the lock is free a moment later, not necessarily at once.
        deadline = time.monotonic() + 10
        while not second.try_acquire():
            assert time.monotonic() < deadline, "the released lock was never free"
            time.sleep(0.05)
        assert second.still_held()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def break_the_lock(app, lock) -> None:
    """What a database restart, or an operator removing the lock file, does."""
    if isinstance(lock, FileLock):
        lock.path.unlink()
        return
    db.session.execute(text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = 'buyergroup-scheduler' AND datname = current_database()"
    ))
    db.session.commit()


def test_a_scheduler_that_loses_its_lock_stops_with_an_error(app):
    with running_smtp_server() as smtp:
        env = process_env(app, smtp, SCHEDULER_LOCK_RETRY_SECONDS=str(RETRY_SECONDS))
        working = scheduler_run(env)
        working.wait_for(WORKING, timeout=90)
        working.wait_for("Job housekeeping done")
        break_the_lock(app, scheduler_lock(app))
        try:
            working.process.wait(timeout=30)
        finally:
            if working.process.poll() is None:
                kill(working.process)
        assert working.process.returncode == 1
        working.wait_for("The scheduler lock was lost; restart this process.", timeout=5)
