"""``make cluster-check``: two web servers, two schedulers, one PostgreSQL, kill -9 mid-way.

Starts on loopback ports, on a fresh PostgreSQL database (dropped at the end):

* two gunicorn instances (A and B) of the site, with the PostgreSQL search backend, rate
  limits in Redis and one uploads folder they share;
* two ``flask scheduler run`` processes: one takes the advisory lock and works, the other
  waits;
* an SMTP server (aiosmtpd, in this process) that counts the messages per ``Message-ID``.

Then it sends a bounded mixed load through both instances from threads, one virtual member
each (sign-ins, event registrations, library uploads, searches; a moderator publishes what
they upload), kills instance A and the working scheduler with SIGKILL half-way, lets the
virtual members carry on through B (a request that A never answered is sent again to B, as
a browser's user would), waits for the waiting scheduler to take over, restarts A (as a
supervisor would) and checks:

* rate limits are shared: failed sign-ins counted across both instances;
* no lost or duplicate registrations: exactly ``seats`` registered and the rest waiting,
  one row per member, the seat counter equal to the rows;
* no lost or duplicate emails: every outbox message sent, each received exactly once
  (counted per Message-ID), nothing received that the outbox does not hold;
* no lost or duplicate index entries: one search document per published item, none for the
  others, the queue empty;
* search results equal to the database, on both instances: each upload's own word finds
  exactly its published items, the load's common word finds every published item;
* every upload stored once in the shared folder and served identically by both instances;
* the waiting scheduler took over within a minute; no response was a 5xx.

It prints a summary with figures and exits 1 if any check fails (2 if the set-up failed).

Needs PostgreSQL (``CLUSTER_DATABASE_URL``, else ``TEST_DATABASE_URL``, else
``postgresql://postgres@127.0.0.1:5432/postgres``: a server where this user may create
databases) and Redis (``CLUSTER_REDIS_URL``, default ``redis://127.0.0.1:6379/0``; its keys
are prefixed with this run's id). ``--small`` is the quick version the test suite runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "cluster-check-password"
COMMON_WORD = "clusterload"
TAKEOVER_LIMIT_SECONDS = 60
SETTLE_LIMIT_SECONDS = 90
REQUEST_TIMEOUT = 30
LOCK_TAKEN = "Scheduler lock taken by process"
LOCK_WAITING = "Another scheduler is working"


@dataclass
class Sizes:
    members: int = 24
    events: int = 2
    seats: int = 7
    searches: int = 3
    defer_to_scheduler: bool = True
    workers: int = 2  # gunicorn workers per instance (4 threads each)

    @classmethod
    def small(cls) -> Sizes:
        return cls(members=8, events=1, seats=3, searches=2, defer_to_scheduler=False,
                   workers=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def say(message: str) -> None:
    print(message, flush=True)


# --- The SMTP server: messages counted per Message-ID ---------------------------------------


class CountingMailbox:
    def __init__(self) -> None:
        self.by_message_id: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        import email
        import email.policy

        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.by_message_id[str(message.get("Message-ID", "")).strip()] += 1
        return "250 Message accepted for delivery"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.by_message_id)


# --- HTTP: one virtual member with cookies, failing over from a dead instance ---------------


class Cluster:
    """The instances' base URLs and which of them are up, shared by every client."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.down: set[str] = set()
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.connection_failures = 0
        self.requests = 0

    def mark_down(self, name: str) -> None:
        with self.lock:
            self.down.add(name)

    def mark_up(self, name: str) -> None:
        with self.lock:
            self.down.discard(name)

    def up(self) -> list[str]:
        with self.lock:
            return [n for n in self.urls if n not in self.down]

    def record(self, status: int, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {what}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    instance: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


CONNECTION_ERRORS = (ConnectionError, http.client.HTTPException, TimeoutError, socket.timeout)


class Browser:
    """A member's browser: cookies, a CSRF token, and a preferred instance."""

    def __init__(self, cluster: Cluster, prefer: str) -> None:
        self.cluster = cluster
        self.prefer = prefer
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""
        self.resent: list[str] = []  # requests sent again after an instance did not answer

    def _order(self) -> list[str]:
        up = self.cluster.up()
        others = [n for n in up if n != self.prefer]
        return ([self.prefer] if self.prefer in up else []) + others

    def request(self, method: str, path: str, data: bytes | None = None,
                content_type: str | None = None) -> Response:
        last_error: Exception | None = None
        for attempt, name in enumerate(self._order()):
            url = self.cluster.urls[name] + path
            request = urllib.request.Request(url, data=data, method=method)
            if content_type:
                request.add_header("Content-Type", content_type)
            if attempt:
                self.resent.append(f"{method} {path}")
            try:
                try:
                    with self.opener.open(request, timeout=REQUEST_TIMEOUT) as answer:
                        response = Response(answer.status, _headers(answer), answer.read(),
                                            name)
                except urllib.error.HTTPError as error:
                    # Its body is read here too: an instance killed half-way through an
                    # error answer raises IncompleteRead, which is the case just below.
                    response = Response(error.code, _headers(error), error.read(), name)
            except (urllib.error.URLError, *CONNECTION_ERRORS) as error:
                # The instance died under us (or before): the next one gets the request.
                last_error = error
                with self.cluster.lock:
                    self.cluster.connection_failures += 1
                self.cluster.mark_down(name)
                continue
            self.cluster.record(response.status, f"{method} {path} on {name}")
            return response
        raise RuntimeError(f"no instance answered {method} {path}: {last_error}")

    def get(self, path: str) -> Response:
        response = self.request("GET", path)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.text) \
            or re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if token:
            self.csrf = token.group(1)
        return response

    def post(self, path: str, fields: dict[str, str | list[str]],
             files: dict[str, tuple[str, bytes, str]] | None = None) -> Response:
        fields = {"csrf_token": self.csrf, **fields}
        if files:
            body, content_type = _multipart(fields, files)
        else:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
            content_type = "application/x-www-form-urlencoded"
        return self.request("POST", path, body, content_type)


def _headers(answer) -> dict[str, str]:
    return {k.lower(): v for k, v in answer.headers.items()}


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{one}\r\n".encode())
    for name, (filename, data, content_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- Processes --------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=handle,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()

    def kill(self) -> None:
        """SIGKILL to the whole process group (gunicorn's master and its workers)."""
        if self.popen and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until(predicate: Callable[[], bool], seconds: float, what: str,
               interval: float = 0.2) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(interval)
    raise SetupFailed(f"timed out after {seconds:.0f} s waiting for {what}")


class SetupFailed(RuntimeError):
    pass


def redis_answers(url: str) -> None:
    """Refuse to start without Redis: the rate-limit check would fail for a set-up reason."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise SetupFailed(f"Redis does not answer at {url} ({error}); set CLUSTER_REDIS_URL"
                          ) from error


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
            return answer.status == 200
    except Exception:  # noqa: BLE001 - not up yet
        return False


# --- The run ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append((name, bool(ok), detail))

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)


class ClusterCheck:
    def __init__(self, sizes: Sizes, database_url: str, redis_url: str, keep: bool) -> None:
        self.sizes = sizes
        self.admin_url = database_url
        self.redis_url = redis_url
        self.keep = keep
        self.run_id = uuid.uuid4().hex[:8]
        self.workdir = Path(tempfile.mkdtemp(prefix=f"buyergroup-cluster-{self.run_id}-"))
        self.processes: list[Process] = []
        self.outcome = Outcome()
        self.database_url = ""
        self.smtp = None
        self.mailbox = CountingMailbox()

    # -- set-up ----------------------------------------------------------------------------

    def create_database(self) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        url = make_url(self.admin_url)
        name = f"buyergroup_cluster_{self.run_id}"
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.database_name = name
        self.database_url = url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self) -> None:
        if not self.database_url:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)'))
        engine.dispose()

    def environment(self, instance: str, port: int | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        env.update({
            "BUYERGROUP_ENV": "production",
            "SECRET_KEY": f"cluster-check-secret-{self.run_id}-0123456789abcdef",
            "DATABASE_URL": self.database_url,
            "BASE_URL": f"http://127.0.0.1:{port or 5000}",
            "INSTANCE_PATH": str(self.workdir / instance),
            "UPLOAD_FOLDER": str(self.workdir / "shared-uploads"),
            "SEARCH_BACKEND": "postgresql",
            "RATELIMIT_STORAGE_URI": self.redis_url,
            "RATELIMIT_KEY_PREFIX": f"buyergroup-cluster-{self.run_id}",
            "LOGIN_RATE_LIMIT_PER_ACCOUNT": "5 per 5 minutes",
            "LOGIN_RATE_LIMIT_PER_ADDRESS": "50 per 5 minutes",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.smtp_port),
            # A killed worker's claim on a message expires after this (300 s in production).
            "MAIL_CLAIM_SECONDS": "10",
            "SCHEDULER_LOCK_RETRY_SECONDS": "3",
            # Hashing at the library's cost is not what this checks; it would only slow it.
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "ARGON2_PARALLELISM": "1",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def app(self):
        from buyergroup import create_app

        env = self.environment("setup")
        os.environ.update({k: env[k] for k in (
            "BUYERGROUP_ENV", "SECRET_KEY", "DATABASE_URL", "INSTANCE_PATH", "UPLOAD_FOLDER",
            "SEARCH_BACKEND", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM",
        )})
        return create_app({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.smtp_port,
                           "BUYERGROUP_SEND_MAIL_ON_COMMIT": False})

    def seed(self) -> None:
        """Migrate the new database and create the people, the group and the events."""
        from datetime import datetime, timedelta

        from flask_migrate import upgrade

        from buyergroup.accounts.models import Role
        from buyergroup.accounts.service import create_user
        from buyergroup.events import service as events
        from buyergroup.extensions import db
        from buyergroup.network.service import add_member, save_group, save_organisation
        from buyergroup.search import service as search

        app = self.app()
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            search.reindex()  # creates the PostgreSQL search schema (empty library)
            organisation = save_organisation(None, name="Cluster city", kind="regional_authority",
                                             country="BE")
            self.moderator = "moderator@cluster.example.org"
            moderator = create_user(email=self.moderator, name="Mo Moderator",
                                    password=PASSWORD, role=Role.organiser)
            group = save_group(moderator, name="Cluster buyers", languages=["en"],
                               join_policy="open")
            self.members = []
            for n in range(self.sizes.members):
                email = f"member{n}@cluster.example.org"
                user = create_user(email=email, name=f"Member {n}", password=PASSWORD,
                                   role=Role.member, organisation=organisation)
                add_member(group, user)
                self.members.append(email)
            self.throttled = "throttled@cluster.example.org"
            create_user(email=self.throttled, name="Tess Throttled", password=PASSWORD,
                        role=Role.member)
            start = datetime.now().replace(microsecond=0, second=0, minute=0) + timedelta(days=9)
            self.events = []
            for n in range(self.sizes.events):
                event = events.create_event(moderator, group, events.EventData(
                    title=f"Cluster workshop {n}", starts_local=start + timedelta(days=n),
                    ends_local=start + timedelta(days=n, hours=2), capacity=self.sizes.seats,
                    video_url="https://meet.example.org/cluster", reminder_minutes=[],
                ))
                db.session.flush()
                self.events.append(event.id)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

    def start_processes(self) -> None:
        self.ports = {"A": free_port(), "B": free_port()}
        python = sys.executable
        for name, port in self.ports.items():
            env = self.environment(f"web-{name}", port)
            if name == "B" and self.sizes.defer_to_scheduler:
                # B leaves its mail and index updates to the scheduler: after the kill the
                # scheduler that took over must do that work, or the checks fail. (Its
                # jobs run every 30 s: this adds up to half a minute, so not in --small.)
                env.update({"SEND_MAIL_ON_COMMIT": "0", "SEARCH_APPLY_ON_COMMIT": "0"})
            self.processes.append(Process(
                f"web-{name}",
                [python, "-m", "gunicorn", "-w", str(self.sizes.workers), "--threads", "4", "-b",
                 f"127.0.0.1:{port}", "--graceful-timeout", "2", "buyergroup:create_app()"],
                env, self.workdir / f"web-{name}.log",
            ))
        for n in (1, 2):
            self.processes.append(Process(
                f"scheduler-{n}",
                [python, "-m", "flask", "--app", "buyergroup", "scheduler", "run"],
                self.environment(f"scheduler-{n}"), self.workdir / f"scheduler-{n}.log",
            ))
        for process in self.processes:
            process.start()
            if process.name == "scheduler-1":
                # The first one started takes the lock; which one does is read from the logs.
                time.sleep(0.5)
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        for name, url in self.urls.items():
            wait_until(lambda url=url: healthy(url), 60, f"instance {name} to answer")
        wait_until(lambda: self.working_scheduler() is not None, 60, "a scheduler to work")

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def working_scheduler(self) -> Process | None:
        alive = [p for p in self.processes if p.name.startswith("scheduler")
                 and p.popen and p.popen.poll() is None]
        working = [p for p in alive if LOCK_TAKEN in p.output()]
        return working[0] if len(working) == 1 else None

    # -- checks made while running ---------------------------------------------------------

    def check_shared_rate_limit(self, cluster: Cluster) -> None:
        """Five wrong passwords spread over A and B; the sixth try is refused on either."""
        statuses = []
        for attempt in range(5):
            browser = Browser(cluster, "AB"[attempt % 2])
            browser.get("/login")
            statuses.append(browser.post("/login", {
                "email": self.throttled, "password": "wrong password", "next": ""}).status)
        sixth = Browser(cluster, "B")
        sixth.get("/login")
        refused = sixth.post("/login", {"email": self.throttled, "password": PASSWORD,
                                        "next": ""}).status
        self.outcome.check(
            "rate limits shared by both instances", statuses == [200] * 5 and refused == 429,
            f"5 failed sign-ins through A, B, A, B, A answered {statuses}; the 6th, through "
            f"B, answered {refused} (429 expected: the count is in Redis)",
        )

    # -- the load --------------------------------------------------------------------------

    def member_session(self, cluster: Cluster, index: int, email: str, progress: Callable,
                       uploads: list, lock: threading.Lock, told: dict) -> None:
        browser = Browser(cluster, "AB"[index % 2])
        browser.get("/login")
        signed_in = browser.post("/login", {"email": email, "password": PASSWORD, "next": ""})
        if signed_in.status != 302:
            raise RuntimeError(f"{email} could not sign in: {signed_in.status}")
        progress()
        for event_id in self.events:
            browser.get(f"/events/{event_id}")
            answer = browser.post(f"/events/{event_id}/register", {})
            if answer.status == 302:
                with lock:
                    told[(email, event_id)] = True
            progress()
        token = f"clu{self.run_id}m{index}"
        browser.get("/library/new?kind=clause")
        text = f"{COMMON_WORD} {token} The contractor pays a living wage.\n".encode()
        saved = browser.post("/library/new", {
            "kind": "clause", "title": f"Living wage {token}", "language": "en",
            "body": f"{COMMON_WORD} {token}: the contractor pays a living wage.",
            "phase": "contract_performance_clause", "authors": f"Member {index}",
            "visibility": "public", "action": "submit",
        }, files={"files": (f"{token}.txt", text, "text/plain")})
        match = re.search(r"/library/(\d+)", saved.location)
        if saved.status != 302 or not match:
            raise RuntimeError(f"{email}'s upload answered {saved.status}: {saved.text[:300]}")
        with lock:
            uploads.append((int(match.group(1)), token, text, saved.instance,
                            any("/library/new" in r for r in browser.resent)))
        progress()
        for n in range(self.sizes.searches):
            word = COMMON_WORD if n % 2 == 0 else token
            answer = browser.get(f"/library?q={word}")
            if answer.status != 200:
                raise RuntimeError(f"a search answered {answer.status}")
            progress()
        self.resent_requests.extend(browser.resent)

    def moderator_session(self, cluster: Cluster, uploads: list, lock: threading.Lock,
                          done: threading.Event, published: set, progress: Callable) -> None:
        browser = Browser(cluster, "B")
        browser.get("/login")
        if browser.post("/login", {"email": self.moderator, "password": PASSWORD,
                                   "next": ""}).status != 302:
            raise RuntimeError("the moderator could not sign in")
        while True:
            with lock:
                waiting = [u[0] for u in uploads if u[0] not in published]
            # Every other upload is published; the rest stays in review (not indexed).
            for item_id in waiting:
                if item_id % 2 == 0:
                    browser.get(f"/library/{item_id}")
                    answer = browser.post(f"/library/{item_id}/publish", {})
                    if answer.status != 302:
                        raise RuntimeError(f"publishing {item_id} answered {answer.status}")
                    progress()
                published.add(item_id)
            if done.is_set() and not waiting:
                with lock:
                    if all(u[0] in published for u in uploads):
                        return
            time.sleep(0.2)

    def run_load(self, cluster: Cluster) -> None:
        per_member = 1 + len(self.events) + 1 + self.sizes.searches
        total = per_member * len(self.members)
        counter = {"done": 0}
        counter_lock = threading.Lock()
        half = threading.Event()

        def progress() -> None:
            with counter_lock:
                counter["done"] += 1
                if counter["done"] >= total // 2:
                    half.set()

        uploads: list = []
        told: dict = {}
        published: set = set()
        lock = threading.Lock()
        errors: list[str] = []
        self.resent_requests: list[str] = []
        members_done = threading.Event()

        def guarded(function, *args):
            try:
                function(*args)
            except Exception as error:  # noqa: BLE001 - reported as a failed check
                errors.append(f"{type(error).__name__}: {error}")

        threads = [threading.Thread(target=guarded, args=(
            self.member_session, cluster, i, email, progress, uploads, lock, told))
            for i, email in enumerate(self.members)]
        moderator = threading.Thread(target=guarded, args=(
            self.moderator_session, cluster, uploads, lock, members_done, published,
            lambda: None))
        started = time.monotonic()
        moderator.start()
        for thread in threads:
            thread.start()
            time.sleep(0.05)  # a ramp, not one burst
        half.wait(120)
        # Half-way: kill -9 instance A (master and workers) and the working scheduler.
        killed = self.working_scheduler()
        schedulers = [p for p in self.processes if p.name.startswith("scheduler")]
        waiting = [p.name for p in schedulers if LOCK_WAITING in p.output()
                   and LOCK_TAKEN not in p.output()]
        self.outcome.check(
            "one scheduler works, the other waits",
            killed is not None and len(waiting) == 1,
            f"{killed.name if killed else 'none'} holds the lock, "
            f"{', '.join(waiting) or 'none'} waiting",
        )
        self.scheduler_pids = {str(p.popen.pid): p.name for p in schedulers}
        self.waiter_pid = next((str(p.popen.pid) for p in schedulers if p.name in waiting), "")
        self.killed_wall = time.time()
        self.process("web-A").kill()
        killed_at = time.monotonic()
        if killed is not None:
            killed.kill()
        self.outcome.figures["killed at"] = (f"{counter['done']}/{total} requests of the "
                                             f"members, {killed_at - started:.1f} s in")
        self.killed_scheduler = killed.name if killed else "none"
        # Watch for the takeover while the load goes on.
        takeover: dict[str, float] = {}

        def watch() -> None:
            deadline = killed_at + TAKEOVER_LIMIT_SECONDS + 30
            while time.monotonic() < deadline:
                if self.working_scheduler() is not None:
                    takeover["seconds"] = time.monotonic() - killed_at
                    return
                time.sleep(0.25)

        watcher = threading.Thread(target=watch)
        watcher.start()
        for thread in threads:
            thread.join(300)
        members_done.set()
        moderator.join(120)
        self.outcome.figures["load"] = (
            f"{len(self.members)} members x (sign-in, {len(self.events)} registrations, "
            f"1 upload, {self.sizes.searches} searches) + a moderator publishing, "
            f"in {time.monotonic() - started:.1f} s")
        self.load_errors = errors
        self.uploads = uploads
        self.told = told
        watcher.join()
        waited = takeover.get("seconds")
        self.outcome.check(
            "the waiting scheduler takes over within a minute",
            waited is not None and waited <= TAKEOVER_LIMIT_SECONDS
            and self.working_scheduler() is not None,
            f"{self.killed_scheduler} killed; "
            + (f"{self.working_scheduler().name} working {waited:.1f} s later"
               if waited is not None else "no scheduler took over"),
        )

    # -- after the load --------------------------------------------------------------------

    def settle(self) -> None:
        """Wait for the outbox and the search queue to empty (the scheduler's work)."""
        from sqlalchemy import func, select

        from buyergroup.extensions import db
        from buyergroup.library.models import Attachment, ExtractionState
        from buyergroup.mail.models import OutboxMessage, OutboxState
        from buyergroup.search.models import PendingIndexUpdate

        app = self.app()

        def settled() -> bool:
            with app.app_context():
                pending = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                            .where(OutboxMessage.state == OutboxState.pending))
                queued = db.session.scalar(select(func.count()).select_from(PendingIndexUpdate))
                # An upload's text is read after the response and then queues its item for
                # the index: settled only once no text is waiting to be read either.
                reading = db.session.scalar(
                    select(func.count()).select_from(Attachment)
                    .where(Attachment.extraction_state == ExtractionState.pending))
                db.session.remove()
                return pending == 0 and queued == 0 and reading == 0

        calm_since: list[float] = []

        def settled_for_a_while() -> bool:
            # Work can still arrive after the queues first empty (a surviving worker ending
            # its after-response work): settled means empty for two seconds running.
            if not settled():
                calm_since.clear()
                return False
            calm_since[:1] = calm_since[:1] or [time.monotonic()]
            return time.monotonic() - calm_since[0] >= 2

        started = time.monotonic()
        try:
            wait_until(settled_for_a_while, SETTLE_LIMIT_SECONDS, "the outbox and search queue",
                       interval=0.5)
        except SetupFailed:
            pass
        self.outcome.figures["settled in"] = f"{time.monotonic() - started:.1f} s"
        with app.app_context():
            db.engine.dispose()

    def verify(self, cluster: Cluster) -> None:
        from sqlalchemy import func, select, text

        from buyergroup.events.models import Event, Registration
        from buyergroup.extensions import db
        from buyergroup.library import uploads as uploads_module
        from buyergroup.library.models import Attachment, ItemStatus, LibraryItem
        from buyergroup.mail.models import OutboxMessage, OutboxState
        from buyergroup.mail.service import message_id_of
        from buyergroup.search.models import PendingIndexUpdate

        outcome = self.outcome
        outcome.check("the load ran to its end", not self.load_errors,
                      "; ".join(self.load_errors[:5]) or
                      f"{cluster.requests} responses, {cluster.connection_failures} requests "
                      f"unanswered by the killed instance and sent again to the other")
        outcome.check("no response was a 5xx", not cluster.server_errors,
                      ", ".join(cluster.server_errors[:5]) or
                      ", ".join(f"{n} x {s}" for s, n in sorted(cluster.statuses.items())))
        app = self.app()
        with app.app_context():
            # Registrations.
            for event_id in self.events:
                event = db.session.get(Event, event_id)
                rows = db.session.scalars(
                    select(Registration).where(Registration.event_id == event_id)).all()
                per_member = Counter(r.user.email for r in rows)
                registered = sum(1 for r in rows if r.is_registered)
                waiting = sum(1 for r in rows if r.is_waiting)
                members = len(self.members)
                expected_registered = min(self.sizes.seats, members)
                told = sum(1 for (_, e) in self.told if e == event_id)
                outcome.check(
                    f"event {event_id}: no lost or duplicate registrations",
                    registered == expected_registered and waiting == members - registered
                    and len(per_member) == members and max(per_member.values()) == 1
                    and event.seats_taken == registered and told == members,
                    f"{members} members registered ({told} told so): {registered} seats of "
                    f"{self.sizes.seats}, {waiting} waiting, {len(rows)} rows for "
                    f"{len(per_member)} members, seat counter {event.seats_taken}",
                )
            # Emails: every outbox row sent, each received exactly once.
            messages = db.session.scalars(select(OutboxMessage)).all()
            states = Counter(m.state for m in messages)
            expected = {message_id_of(m) for m in messages}
            received = self.mailbox.counts()
            twice = {k: n for k, n in received.items() if n > 1}
            stranger = set(received) - expected
            lost = expected - set(received)
            # The outbox's one window (docs: README, production): a sender killed after the
            # SMTP server accepted a message and before it was marked sent; that message is
            # sent again, with its Message-ID. At most one per killed sender (A's workers and
            # the scheduler), each twice; anything more is a duplicate.
            killed_senders = self.sizes.workers + 1
            in_the_window = len(twice) <= killed_senders and all(n == 2 for n in twice.values())
            outcome.check(
                "no lost or duplicate emails",
                states[OutboxState.sent] == len(messages) and in_the_window and not stranger
                and not lost,
                f"{len(messages)} in the outbox ({states[OutboxState.sent]} sent, "
                f"{states[OutboxState.pending]} pending, {states[OutboxState.failed]} failed); "
                f"{sum(received.values())} received for {len(received)} Message-IDs, "
                f"{len(twice)} received twice (at most {killed_senders} may be: the message "
                f"each killed sender had in flight), {len(lost)} never received, "
                f"{len(stranger)} unknown",
            )
            senders = Counter(
                self.scheduler_pids.get((m.claimed_by or "::").split(":")[1], "web workers")
                for m in messages)
            self.outcome.figures["mail sent by"] = ", ".join(
                f"{name} {n}" for name, n in sorted(senders.items()))
            early = [m for m in messages if m.sent_at is not None
                     and (m.claimed_by or "::").split(":")[1] == self.waiter_pid
                     and m.sent_at.timestamp() < self.killed_wall]
            outcome.check("the waiting scheduler sent nothing before it took over", not early,
                          f"{len(early)} messages sent by it before the kill")
            registrants = {r.user.email for r in db.session.scalars(select(Registration))}
            mailed = {m.recipient for m in messages}
            outcome.check("every registered or waiting member was emailed",
                          registrants <= mailed,
                          f"{len(registrants & mailed)} of {len(registrants)} members emailed")
            # Index entries.
            published = set(db.session.scalars(
                select(LibraryItem.id).where(LibraryItem.status == ItemStatus.published)))
            unpublished = set(db.session.scalars(
                select(LibraryItem.id).where(LibraryItem.status != ItemStatus.published)))
            documents = Counter(db.session.execute(
                text("SELECT item_id FROM search.search_documents")).scalars())
            queued = db.session.scalar(select(func.count()).select_from(PendingIndexUpdate))
            outcome.check(
                "no lost or duplicate index entries",
                set(documents) == published and max(documents.values(), default=1) == 1
                and queued == 0,
                f"{len(published)} published items, {sum(documents.values())} search documents "
                f"for {len(documents)} items, {len(set(documents) & unpublished)} for "
                f"unpublished ones, {len(published - set(documents))} missing, {queued} queued",
            )
            # Uploads: one item per upload unless the member had to send it again.
            titles = Counter(db.session.scalars(select(LibraryItem.title)))
            doubled = [t for (_, t, _, _, resent) in self.uploads
                       if titles[f"Living wage {t}"] != 1 and not resent]
            # A form the killed instance saved but never answered for, sent again by its
            # member to the other instance, is saved twice (as it would be from a browser).
            resent = sum(titles[f"Living wage {t}"] - 1 for (_, t, _, _, r) in self.uploads if r)
            attachments = db.session.scalars(select(Attachment)).all()
            missing = [a.stored_name for a in attachments
                       if not uploads_module.path_of(a.stored_name).is_file()]
            extracted = sum(1 for a in attachments if a.extraction_state.value == "done")
            by_item = {a.item_id: a for a in attachments}
            outcome.check(
                "uploads stored once, in the shared folder",
                len(self.uploads) == len(self.members) and not doubled and not missing,
                f"{len(self.uploads)} uploads, {len(attachments)} files in the shared folder "
                f"({len(missing)} missing, text read of {extracted}), {len(doubled)} stored "
                f"twice; {resent} saved by the killed instance unanswered and sent again",
            )
            db.session.remove()
            db.engine.dispose()
        # Both instances again (A restarted, as a supervisor would).
        self.process("web-A").start()
        wait_until(lambda: healthy(self.urls["A"]), 60, "instance A to restart")
        cluster.mark_up("A")
        served_wrong = 0
        for item_id, _token, data, _instance, _ in self.uploads:
            attachment = by_item.get(item_id)
            if attachment is None or item_id not in published:
                continue  # unpublished items are their authors'; checked in the database
            for name in ("A", "B"):
                answer = Browser(cluster, name).request(
                    "GET", f"/library/{item_id}/files/{attachment.id}")
                if answer.status != 200 or answer.body != data or answer.instance != name:
                    served_wrong += 1
        outcome.check("both instances serve every published upload's file",
                      served_wrong == 0,
                      f"{len(published & set(by_item))} files x 2 instances, "
                      f"{served_wrong} missing or different")
        # Search results equal to the database, on both instances (as a visitor).
        wrong = []
        for name in ("A", "B"):
            visitor = Browser(cluster, name)
            for item_id, token, *_ in self.uploads:
                found = self.search_ids(visitor, token)
                expected_ids = {item_id} if item_id in published else set()
                if found != expected_ids:
                    wrong.append(f"{token} on {name}: {sorted(found)} != {sorted(expected_ids)}")
            everything = self.search_ids(visitor, COMMON_WORD)
            if everything != published:
                wrong.append(f"{COMMON_WORD} on {name}: {len(everything)} != {len(published)}")
        outcome.check(
            "search results equal to the database, on both instances",
            not wrong,
            "; ".join(wrong[:4]) or f"{2 * (len(self.uploads) + 1)} searches: each upload's own "
            f"word finds it once it is published, {COMMON_WORD!r} finds all {len(published)} "
            "published items",
        )

    def search_ids(self, browser: Browser, word: str) -> set[int]:
        answer = browser.request("GET", f"/api/v1/library?q={word}&per_page=100")
        if answer.status != 200:
            return {-answer.status}
        return {item["id"] for item in json.loads(answer.body)["items"]}

    # -- the whole run ---------------------------------------------------------------------

    def run(self) -> int:
        from aiosmtpd.controller import Controller

        started = time.monotonic()
        self.smtp_port = free_port()
        self.smtp = Controller(self.mailbox, hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        try:
            try:
                redis_answers(self.redis_url)
                self.create_database()
                self.seed()
                self.start_processes()
            except Exception as error:  # noqa: BLE001 - a set-up failure is reported as such
                say(f"SET-UP FAILED: {type(error).__name__}: {error}")
                self.show_logs()
                return 2
            say(f"Cluster up: web A {self.urls['A']}, web B {self.urls['B']}, "
                f"{self.working_scheduler().name} working, database {self.database_name}, "
                f"{time.monotonic() - started:.1f} s")
            cluster = Cluster(self.urls)
            self.check_shared_rate_limit(cluster)
            self.run_load(cluster)
            say(f"Load done, {time.monotonic() - started:.1f} s")
            self.settle()
            self.verify(cluster)
            say(f"Checks done, {time.monotonic() - started:.1f} s")
        except SetupFailed as error:
            self.outcome.check("the run completed", False, str(error))
        finally:
            for process in self.processes:
                process.kill()  # nothing of theirs is kept: no need to wait for a clean stop
            self.smtp.stop()
            if not self.keep:
                self.drop_database()
        self.outcome.figures["total time"] = f"{time.monotonic() - started:.1f} s"
        self.report()
        if not self.outcome.passed:
            self.show_logs()
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            say(f"Kept: {self.workdir} and database {self.database_name}")
        return 0 if self.outcome.passed else 1

    def report(self) -> None:
        say("")
        say(f"Cluster check: 2 gunicorn instances ({self.sizes.workers} worker(s) x 4 threads "
            "each), 2 schedulers, PostgreSQL search, Redis rate limits, one shared uploads "
            "folder")
        for name, value in self.outcome.figures.items():
            say(f"  {name}: {value}")
        for name, ok, detail in self.outcome.checks:
            say(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")
        passed = sum(1 for _, ok, _ in self.outcome.checks if ok)
        say(f"{'PASSED' if self.outcome.passed else 'FAILED'}: {passed} of "
            f"{len(self.outcome.checks)} checks")

    def show_logs(self) -> None:
        for process in self.processes:
            lines = process.output().splitlines()
            interesting = [line for line in lines if "Traceback" in line or "Error" in line
                           or "error" in line][-8:]
            if interesting:
                say(f"--- {process.name} ({process.log}):")
                for line in interesting:
                    say(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the quick version (tests)")
    parser.add_argument("--members", type=int, help="virtual members (default 24, small 8)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database and the logs for a look afterwards")
    args = parser.parse_args(argv)
    sizes = Sizes.small() if args.small else Sizes()
    if args.members:
        sizes.members = args.members
    database = (os.environ.get("CLUSTER_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
                or "postgresql://postgres@127.0.0.1:5432/postgres")
    redis = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/0")
    random.seed(0)
    return ClusterCheck(sizes, database, redis, args.keep).run()


if __name__ == "__main__":
    sys.exit(main())
