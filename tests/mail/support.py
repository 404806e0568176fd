"""Support for the outbox tests: a real SMTP server that can be slow or refuse, outbox
rows, and real sender processes.

The senders run as separate processes (``flask --app buyergroup mail deliver`` and the
scripts in ``tests/mail/worker.py``) on the test's own database, so a test can kill one
with SIGKILL at a chosen moment, as an operator's ``kill -9`` or the OOM killer would.
"""

from __future__ import annotations

import asyncio
import email.parser
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage, OutboxState
from buyergroup.mail.service import queue_email
from tests.forked import ForkedProcess

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
#: A sender, scheduler or web process: forked (``start``) or a new interpreter.
Process = ForkedProcess | subprocess.Popen
WORKER = str(Path(__file__).with_name("worker.py"))

#: Seconds a sender's claim lasts in these tests (production: 300), so that a message
#: left claimed by a killed sender is taken over quickly.
TEST_CLAIM_SECONDS = 2


class TestSMTPServer:
    """Handler for aiosmtpd: records who received what; can answer slowly or refuse.

    ``delay`` is spent before answering MAIL FROM, i.e. before the server has the message.
    ``stall_after(n)``: once ``n`` messages have arrived, the next MAIL FROM gets no answer
    for a long while and ``stalled`` is set; the sender is then known to be in the middle
    of one message (claimed, not delivered), the moment the tests kill it. Aiming by the
    clock instead would land some kills after the server's "250" and before the sender's
    next statement on this busy machine, the window no outbox can close.
    ``refuse`` (e.g. ``"451 4.3.0 Try again later"``) is answered to RCPT TO, for every
    recipient or only for those in ``refuse_only``.
    """

    __test__ = False  # not a test class, despite its name

    def __init__(self) -> None:
        self.delay = 0.0
        self.refuse: str | None = None
        self.refuse_only: set[str] | None = None
        self.received: list[str] = []  # one recipient per accepted message, in order
        self.message_ids: list[str] = []
        self.stalled = threading.Event()
        self._stall_after: int | None = None
        self._lock = threading.Lock()
        self.port = 0

    def stall_after(self, count: int) -> threading.Event:
        self.stalled.clear()
        self._stall_after = count
        return self.stalled

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self._stall_after is not None and self.count() >= self._stall_after:
            self._stall_after = None
            self.stalled.set()
            await asyncio.sleep(30)  # the sender is killed meanwhile
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse and (self.refuse_only is None or address in self.refuse_only):
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.content)
        with self._lock:
            self.received.extend(envelope.rcpt_tos)
            self.message_ids.append(headers["Message-ID"])
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.received)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            assert time.monotonic() < deadline, f"only {self.count()} of {count} messages arrived"
            time.sleep(0.002)


@contextmanager
def running_smtp_server() -> Iterator[TestSMTPServer]:
    from aiosmtpd.controller import Controller

    handler = TestSMTPServer()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def recipients(count: int, start: int = 0) -> list[str]:
    return [f"reader{n:04d}@example.org" for n in range(start, start + count)]


def queue_messages(addresses: list[str]) -> list[int]:
    """One outbox message per address, queued through the service and committed."""
    ids = []
    for address in addresses:
        message = queue_email(address, "password_reset", user=SimpleNamespace(name=address),
                              link="https://buyergroup.test/password/reset/x", hours=2)
        ids.append(message.id)
    db.session.commit()
    return ids


def outbox_rows() -> list[OutboxMessage]:
    """Every outbox row, read in a transaction that ends at once (an open one would hold
    up the sender processes' writes on SQLite)."""
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    db.session.expunge_all()
    db.session.rollback()
    return rows


def pending_count() -> int:
    return sum(row.state is OutboxState.pending for row in outbox_rows())


def process_env(app, smtp: TestSMTPServer, **extra) -> dict[str, str]:
    """The environment a sender process reads its configuration from: the test's database,
    instance folder and SMTP server."""
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "INSTANCE_PATH": app.instance_path,
        "INDEX_FOLDER": app.config["INDEX_FOLDER"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "MAIL_CLAIM_SECONDS": str(TEST_CLAIM_SECONDS),
        "RATELIMIT_ENABLED": "0",
        "WTF_CSRF_ENABLED": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def start(command: list[str], env: dict[str, str]) -> ForkedProcess:
    """``flask ...`` or ``python worker.py ...`` as a process of its own, forked from this
    one (``tests.forked``: a second of CPU less per process than a new interpreter)."""
    return ForkedProcess(command, env=env, cwd=ROOT)


def start_interpreter(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """``command`` in a new interpreter, for what a fork of a threaded pytest worker may
    not reproduce: how a process ends on SIGTERM (``tests.forked`` says what was seen)."""
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def flask_mail_deliver(env: dict[str, str]) -> ForkedProcess:
    return start([FLASK, "--app", "buyergroup", "mail", "deliver"], env)


def worker(env: dict[str, str], *args: str) -> ForkedProcess:
    return start([sys.executable, WORKER, *args], env)


def kill_when_stalled(smtp: TestSMTPServer, process: Process) -> None:
    """kill -9 ``process`` while it waits for the server's answer in the middle of a message."""
    assert smtp.stalled.wait(timeout=90), "the sender never reached the stall"
    kill(process)


def kill(process: Process) -> None:
    """kill -9, and reap it."""
    os.kill(process.pid, signal.SIGKILL)
    output, _ = process.communicate(timeout=30)
    print(output)
    assert process.returncode == -signal.SIGKILL


def finish(process: Process, timeout: float = 120) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


class Lines:
    """A process's output, read line by line in a thread, so a test can wait for a line."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def having(self, text: str) -> list[str]:
        with self._changed:
            return [line for line in self.lines if text in line]

    def wait_for(self, text: str, timeout: float = 60) -> float:
        """Wait for a line containing ``text``; returns the seconds it took."""
        started = time.monotonic()
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines), timeout=timeout
            )
        assert found, f"no line with {text!r} in {timeout} s; output:\n" + "\n".join(self.lines)
        return time.monotonic() - started

    def text(self) -> str:
        with self._changed:
            return "\n".join(self.lines)


def wait_until_nothing_pending(timeout: float = 60) -> None:
    """Until every message is recorded as sent or failed (the server may have the last
    message a moment before its sender has recorded it)."""
    deadline = time.monotonic() + timeout
    while pending_count():
        assert time.monotonic() < deadline, f"{pending_count()} messages still pending"
        time.sleep(0.05)
