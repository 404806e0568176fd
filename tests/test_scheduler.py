"""The scheduler process itself: only it runs jobs (never a web worker), and it refuses to
start without all its jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from flask.globals import _cv_app

from buyergroup import scheduler
from tests.conftest import ROOT

BROKEN_MODULE = """
import a_dependency_nobody_installed  # noqa: F401

def run():
    return "never"
"""


WEB_WORKER = """
import gc, json, sys, threading
from buyergroup import create_app
from buyergroup.extensions import db

app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
with app.app_context():
    db.create_all()
client = app.test_client()
statuses = [client.get(path).status_code for path in ("/", "/events", "/library", "/login")]
statuses.append(client.post("/password/forgot", data={"email": "x@example.org"}).status_code)
schedulers = []
if "apscheduler.schedulers.base" in sys.modules:
    base = sys.modules["apscheduler.schedulers.base"].BaseScheduler
    schedulers = [type(o).__name__ for o in gc.get_objects() if isinstance(o, base)]
print(json.dumps({
    "statuses": statuses,
    "threads": sorted(t.name for t in threading.enumerate()),
    "apscheduler_modules": sorted(m for m in sys.modules if m.startswith("apscheduler")),
    "schedulers": schedulers,
}))
"""


def test_the_web_app_starts_no_scheduler(tmp_path):
    """A fresh process, as a gunicorn worker is: create the app, serve requests, and look.

    Checked in its own process because this test process imports APScheduler for the
    scheduler's own tests (the old version of this test looked at a module nothing imports).
    """
    env = {"INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "RATELIMIT_ENABLED": "0"}
    done = subprocess.run([sys.executable, "-c", WEB_WORKER], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(status < 400 for status in seen["statuses"]), seen["statuses"]
    assert [name for name in seen["threads"] if "APScheduler" in name] == []
    assert seen["apscheduler_modules"] == []
    assert seen["schedulers"] == []


@pytest.fixture
def broken_job_module(tmp_path, monkeypatch):
    """An importable name whose module fails while importing (as after a bad deploy)."""
    (tmp_path / "broken_reminders.py").write_text(BROKEN_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "broken_reminders:run"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("buyergroup.nowhere:send", "ModuleNotFoundError: No module named 'buyergroup.nowhere'"),
        ("buyergroup.mail.service:send_everything", "has no function 'send_everything'"),
        ("broken", "No module named 'a_dependency_nobody_installed'"),
    ],
)
def test_a_job_that_cannot_be_imported_stops_the_start(app, monkeypatch, broken_job_module,
                                                       target, reason):
    target = broken_job_module if target == "broken" else target
    monkeypatch.setattr(scheduler, "JOBS", (
        *scheduler.JOBS, scheduler.Job("reminders", target, 60, "Send reminders"),
    ))
    from apscheduler.schedulers.background import BackgroundScheduler

    started = []
    monkeypatch.setattr(BackgroundScheduler, "start", lambda self: started.append(self))

    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 1
    assert "The scheduler does not start" in result.output
    assert "job 'reminders' (Send reminders)" in result.output and reason in result.output
    assert started == []

    result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert result.exit_code == 1 and reason in result.output
    with pytest.raises(scheduler.JobUnavailable, match="reminders"):
        scheduler.tick(app)


def test_flask_scheduler_run_exits_non_zero_at_once_when_a_job_is_missing(tmp_path):
    """The real command in its own process: it ends, with an error, instead of running."""
    launcher = textwrap.dedent("""
        import sys
        from buyergroup import scheduler
        scheduler.JOBS = (*scheduler.JOBS, scheduler.Job(
            "event_reminders_v2", "buyergroup.events.reminders:send", 60, "Reminders"))
        from flask.cli import main
        sys.argv = ["flask", "--app", "buyergroup", "scheduler", "run"]
        main()
    """)
    env = {"INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", launcher], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Error: The scheduler does not start" in done.stderr
    assert "buyergroup.events.reminders:send" in done.stderr
    assert "Scheduler running" not in done.stdout


def test_every_configured_job_can_be_imported():
    assert [job.id for job, _function in scheduler.load_jobs()] == [
        job.id for job in scheduler.JOBS
    ]


class _SlowFinalizer:
    """Work in a finalizer, where a signal's handler often runs while garbage is collected."""

    def __del__(self):
        started = time.perf_counter()
        while time.perf_counter() - started < 0.005:
            pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed one
def test_a_sigterm_that_lands_in_a_finalizer_still_stops_the_scheduler():
    """CPython swallows a SystemExit raised in a finalizer ("Exception ignored in"): the
    scheduler must stop at its next check all the same, as ``tick`` does between jobs."""
    before = signal.getsignal(signal.SIGTERM)
    with scheduler.stop_on_signals() as stopping:
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGTERM)).start()
        deadline = time.monotonic() + 10
        with pytest.raises(SystemExit):
            while time.monotonic() < deadline:
                for _ in range(20):
                    _SlowFinalizer()  # the SystemExit is raised, and swallowed, in here
                scheduler._exit_if(stopping)  # what tick does before each job
        assert stopping.is_set() and time.monotonic() < deadline
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_stop_inside_a_job_starting_still_ends_the_command_cleanly(app, monkeypatch):
    """SIGTERM between a job's app context being pushed and its ``with`` taking it left
    that context on the stack, and ``flask scheduler run`` then failed with "Popped wrong
    app context" (exit status 1) instead of stopping."""
    def interrupted_tick(app_, stopping=None):
        app_.app_context().push()  # the job's context, current, never popped by its with
        raise SystemExit(0)  # what the SIGTERM handler raises there

    monkeypatch.setattr(scheduler, "tick", interrupted_tick)
    before = _cv_app.get(None)
    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 0 and "Scheduler stopped." in result.output
    assert _cv_app.get(None) is before  # the job's context is gone, the caller's is current


def test_a_scheduler_stopped_inside_its_start_shuts_down_cleanly(monkeypatch):
    """SIGTERM can arrive inside ``start()``, once the scheduler counts as running and
    before its thread is started (seen once in CI): stopping it then must not fail on the
    thread that never ran (the command ended with a traceback and exit code 1)."""
    import apscheduler.schedulers.background as background

    from buyergroup.scheduler import _shut_down

    class SignalledBeforeItRuns(background.Thread):
        def start(self):
            raise SystemExit(0)

    monkeypatch.setattr(background, "Thread", SignalledBeforeItRuns)
    scheduler = background.BackgroundScheduler()
    with pytest.raises(SystemExit):
        scheduler.start()
    assert scheduler.running
    _shut_down(scheduler)
    assert not scheduler.running
