"""Shared fixtures: an app per database backend, a real SMTP server, factories, sign-in.

Every test that uses ``app`` runs on SQLite, and also on PostgreSQL when
``TEST_DATABASE_URL`` is set (a fresh database is created for the run and dropped after).

Each test runs inside one database transaction that is rolled back at its end (SQLAlchemy's
"joining a session into an external transaction"): every ``db.session``, the test's and
each request's, is bound to that one connection and works in savepoints, so what a request
commits is seen by the next request and by the test, and is gone after the test. A test
whose commits must be seen by another connection (threads, processes, the scheduler, the
search index's own readers) is marked ``@pytest.mark.committing``: it commits for real and
the tables are emptied after it.
"""

from __future__ import annotations

import email
import email.policy
import gc
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.message import Message
from functools import partial
from pathlib import Path

import pytest
from flask import Flask, appcontext_pushed
from flask.globals import app_ctx
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from buyergroup import create_app
from buyergroup.extensions import db, limiter

ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORD = "correct horse battery"

#: Argon2 at its cheapest sensible cost: the production cost (about 50 ms a hash here) in
#: every ``make_user`` and sign-in made up most of the suite's time. One test,
#: ``tests/accounts/test_security.py::test_production_config_hashes_at_the_library_cost``,
#: checks the production cost. Set in the environment too, for apps built outside
#: ``app_factory`` and for the CLI run in subprocesses.
CHEAP_PASSWORD_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 64, "ARGON2_PARALLELISM": 1}
for _key, _value in CHEAP_PASSWORD_HASHING.items():
    os.environ.setdefault(_key, str(_value))

#: The garbage collector's thresholds for the suite's processes (and the forks they make).
#: They hold dozens of apps, two seeded databases' objects and Whoosh indexes, and with
#: Python's default (700, 10, 10) the collector ran about 3,000 times per 430 tests, 13 of
#: them over the whole heap: 4 s of 60. With these, 80 and 3: 2.4 s, and the same 430
#: tests ran 6 % faster (two alternating runs each). Production keeps the default.
gc.set_threshold(20_000, 20, 50)

#: Test files in memory: SQLite databases, Whoosh indexes, uploads and the instance folders
#: live under pytest's temporary folder, and on this machine's disk every SQLite commit
#: waits about 8 ms for fsync (0.1 ms in tmpfs). Set before pytest picks its temporary
#: folder, and inherited by the processes tests start. ``TMPDIR`` set by the caller wins.
if "TMPDIR" not in os.environ and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    os.environ["TMPDIR"] = "/dev/shm"
    tempfile.tempdir = None  # forget a folder chosen before


def pytest_configure(config):
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the main process compiled the catalogues already
    # The interface is tested in every language: compile the catalogues once per run, when
    # one is newer than its compiled copy (``make test`` compiles them first).
    translations = ROOT / "buyergroup" / "translations"
    catalogues = list(translations.glob("*/LC_MESSAGES/messages.po"))
    if any(not po.with_suffix(".mo").exists()
           or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime for po in catalogues):
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run(
            [str(pybabel), "compile", "-d", str(translations)],
            check=True,
            capture_output=True,
        )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (``make test`` runs two workers, ``--dist loadgroup``): tests that
    share an expensive fixture run in one worker, so it is built once, not once per worker.

    A test marked ``one_database`` is about what the site shows and sends (its pages and
    forms, the HTML a validator reads, the headers a mail client reads), not about how it
    stores: it runs on SQLite alone. The queries behind those pages run on both databases
    in the domains' service tests, the authorisation matrix (every route, every role, reads
    and writes), the no-5xx walk and the API contract."""
    on_another_database = [item for item in items if item.get_closest_marker("one_database")
                           and _database_kind(item) not in (None, "sqlite")]
    if on_another_database:
        config.hook.pytest_deselected(items=on_another_database)
        items[:] = [item for item in items if item not in on_another_database]
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "demo_seed" in names:
            # The demo seed, loaded once per database kind and copied: one group per kind,
            # so the two kinds' seeded tests (two minutes of work) run in parallel.
            kind = _database_kind(item)
            group = f"seed-{kind}" if kind else "seed"
        elif "page" in names:
            group = "browser"  # one Chromium
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))


def _database_kind(item) -> str | None:
    """The database a parametrised test runs on, "sqlite" or "postgresql": the ``backend``
    fixture's parameter, or the first of a tuple parameter such as ``("sqlite", "whoosh")``."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for value in callspec.params.values():
        first = value[0] if isinstance(value, tuple) and value else value
        if first in ("sqlite", "postgresql"):
            return first
    return None


def pytest_collection_finish(session):
    """A group reaches pytest-xdist's scheduler only as a suffix of the test's id (which
    pytest 9.2 no longer lets it add): fail loudly rather than build a group's fixture in
    every worker."""
    config = session.config
    if hasattr(config, "workerinput") and config.getvalue("loadgroup"):
        lost = [item.nodeid for item in session.items
                if (mark := item.get_closest_marker("xdist_group"))
                and not item.nodeid.endswith(f"@{mark.args[0]}")]
        if lost:
            raise pytest.UsageError(
                f"pytest-xdist's --dist loadgroup does not group with this pytest: {lost[0]}")


# --- A real SMTP server ---------------------------------------------------------------------


class Mailbox:
    """Messages received by the aiosmtpd server, parsed with the standard library."""

    def __init__(self):
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            # The default policy decodes headers ("=?utf-8?q?...?=" subjects) as a reader sees them.
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message.envelope_recipients = list(envelope.rcpt_tos)  # type: ignore[attr-defined]
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m.envelope_recipients]

    def last_to(self, address: str) -> Message:
        found = self.to(address)
        assert found, f"no mail to {address}; got mail to {[m['To'] for m in self.messages]}"
        return found[-1]


def body_of(message: Message) -> str:
    """The text/plain body of a message, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("message has no text body")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    mailbox.port = _free_port()  # type: ignore[attr-defined]
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    smtp_server.clear()
    return smtp_server


class RequestIsolatedClient(FlaskClient):
    """A test client whose requests each get a fresh app context (own ``g``, own session).

    The ``app`` fixture keeps an app context pushed for the whole test, and Flask reuses a
    pushed context for requests: without this, ``g`` (Flask-Login's cached user) and the
    database session would carry over from one request, and one client, to the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


# --- Databases --------------------------------------------------------------------------------


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


#: Test databases to drop when the run ends: (server URL, name).
_databases_to_drop: list[tuple[str, str]] = []

_DROP_DATABASES = """
import sys
from sqlalchemy import create_engine, text
server = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with server.connect() as connection:
    for name in sys.argv[2:]:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
"""


@contextmanager
def new_postgres_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database on TEST_DATABASE_URL's server (a copy of
    the database named ``template`` if given: nobody may be connected to that one).

    Its connections are closed when the block ends; the database itself is dropped when
    the run ends (see ``pytest_sessionfinish``): each DROP DATABASE makes the server take
    a checkpoint, seconds on a busy machine, and no test should wait for that.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set")
    url = make_url(base)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            copy_of = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
            # A test database need not survive a server crash: commits return without
            # waiting for the WAL flush (other sessions see them at once, as before).
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        admin.dispose()
    _databases_to_drop.append((url.render_as_string(hide_password=False), name))
    database_url = url.set(database=name).render_as_string(hide_password=False)
    try:
        yield database_url
    finally:
        # Nothing of the test may keep it open (a left-over connection is a test's bug
        # elsewhere too): terminate what is left, as DROP DATABASE ... WITH (FORCE) would.
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        admin.dispose()


def pytest_sessionfinish(session, exitstatus):
    """Drop this run's PostgreSQL databases in a process of their own, not waited for."""
    by_server: dict[str, list[str]] = {}
    for server, name in _databases_to_drop:
        by_server.setdefault(server, []).append(name)
    _databases_to_drop.clear()
    for server, names in by_server.items():
        subprocess.Popen([sys.executable, "-c", _DROP_DATABASES, server, *names],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this run, dropped at the end."""
    with new_postgres_database("buyergroup_test") as url:
        yield url


@pytest.fixture(scope="session", params=_backends())
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app_factory(tmp_path_factory, smtp_server):
    """Build an app with test settings; keyword arguments override them."""

    def factory(database_url: str, **overrides):
        instance = tmp_path_factory.mktemp("instance")
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance),
            "MAIL_FOLDER": str(instance / "mail"),
            "UPLOAD_FOLDER": str(instance / "uploads"),
            "INDEX_FOLDER": str(instance / "index"),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "http://buyergroup.test",
            "SERVER_NAME": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            # Off: a test's rolled-back transaction takes the content generation back with
            # it, and the next test's pages would meet the last one's under the same key.
            # tests/core/test_page_cache.py turns it on, on committing apps.
            "PAGE_CACHE_SECONDS": 0,
            **CHEAP_PASSWORD_HASHING,
        }
        config.update(overrides)
        return create_app(config)

    return factory


@pytest.fixture(scope="session")
def _session_app(backend, app_factory, tmp_path_factory, request):
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    app = app_factory(url)
    app.test_client_class = RequestIsolatedClient
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def empty_all_tables(*extra_tables: str) -> None:
    """Delete every row (of the models' tables and ``extra_tables``) and restart the ids.

    On PostgreSQL by ``DELETE`` with the triggers off for the transaction (the foreign keys'
    and the audit log's append-only guard): ``TRUNCATE`` of the 51 tables took 0.6-1.4 s
    per test, as it gives every table new files; deleting the few rows a test wrote takes
    milliseconds.
    """
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            db.session.execute(table.delete())
        for name in extra_tables:
            db.session.execute(text(f"DELETE FROM {name}"))
        # The ids' sequences (those a column owns, as RESTART IDENTITY would); not a free
        # sequence such as the search index's generation, which caches key on.
        db.session.execute(text(
            "SELECT setval(s.oid, 1, false) FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
            "AND d.deptype IN ('a', 'i') WHERE s.relkind = 'S'"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
        for name in extra_tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


#: The scope key (app context id) of the test's own session while a test runs in a
#: rolled-back transaction (see ``_rolled_back``).
_rolled_back_test_scope: int | None = None


@contextmanager
def _rolled_back(app) -> Iterator[None]:
    """Run the test in one transaction on one connection, rolled back at the end.

    Every ``db.session`` (the test's, and each request's in its own app context) is bound to
    that connection with ``join_transaction_mode="create_savepoint"``: the sessions'
    commits (the request boundary's, the factories') release savepoints instead.
    """
    connection = db.engine.connect()
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        # pysqlite opens a transaction only before a write, so a SAVEPOINT would start (and
        # its RELEASE end) a real one: begin the outer transaction on the database now.
        connection.exec_driver_sql("BEGIN")
    factory = db.session.session_factory
    session_class = factory.class_
    saved_mode = factory.kw.get("join_transaction_mode")
    db.session.remove()
    # Flask-SQLAlchemy's Session.get_bind picks the engine and ignores ``bind=``: bind here.
    session_class.get_bind = lambda self, *args, **kwargs: connection
    factory.configure(join_transaction_mode="create_savepoint")
    global _rolled_back_test_scope
    _rolled_back_test_scope = id(app_ctx._get_current_object())
    try:
        yield
    finally:
        _rolled_back_test_scope = None
        db.session.rollback()
        db.session.remove()
        del session_class.get_bind
        if saved_mode is None:
            factory.kw.pop("join_transaction_mode", None)
        else:
            factory.configure(join_transaction_mode=saved_mode)
        outer.rollback()
        connection.close()


@appcontext_pushed.connect
def _hand_over_to_next_session(sender, **extra) -> None:
    """When a request (or command) gets an app context, so a session, of its own: end the
    test's savepoint first.

    Sessions sharing one connection nest their savepoints. Were the test's session still in
    a savepoint opened before the request, its next ``rollback()`` (as in ``reload``) would
    roll back what the request committed. So its savepoint is released first, keeping its
    objects loaded, as a test expects that committed before making the request.
    """
    if _rolled_back_test_scope is None or threading.current_thread() is not threading.main_thread():
        return
    session = db.session.registry.registry.get(_rolled_back_test_scope)
    transaction = session.get_transaction() if session is not None else None
    # Not while it commits (its after_commit hooks open app contexts of their own).
    if transaction is None or not transaction.is_active:
        return
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


@pytest.fixture
def app(_session_app, backend, request):
    """The app inside an app context: empty tables, in a transaction rolled back after the
    test; with ``@pytest.mark.committing``, real commits and tables emptied after it."""
    limiter.reset()
    with _session_app.app_context():
        # A PostgreSQL test must never run on SQLite unnoticed (a cached session app of
        # another backend would do that).
        assert db.engine.dialect.name == backend, (db.engine.dialect.name, backend)
        if request.node.get_closest_marker("committing"):
            try:
                yield _session_app
            finally:
                db.session.rollback()
                db.session.remove()
                empty_all_tables()
        else:
            with _rolled_back(_session_app):
                yield _session_app


# --- The demo seed, loaded once per run and database kind, copied for each user ------------

SEED_DIR = ROOT / "seed"
SEED_PASSWORD = "buyergroup-demo"  # load_seed's default, as in the demo


@dataclass
class DemoSeed:
    """The demo seed as loaded once: its database (nobody connects to it afterwards), the
    upload and Whoosh index folders the load filled, and what the loader reported."""

    url: str
    database_name: str
    upload_folder: str
    index_folder: str
    report: object
    commits: int  # how many commits the loader made itself (it should leave them to us)


def _load_demo_seed(database: str, app_factory, tmp_path_factory, cleanup: ExitStack):
    from buyergroup.search.service import apply_pending
    from buyergroup.seeding import load_seed

    if database == "postgresql":
        url = cleanup.enter_context(new_postgres_database("buyergroup_seed"))
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'seed.sqlite'}"
    app = app_factory(url)
    with app.app_context():
        db.create_all()
        commits = []
        # The loader flushes and leaves the commit to its caller (the CLI command).
        counting = partial(_count_commit, commits)
        event.listen(db.session, "before_commit", counting)
        try:
            report = load_seed(SEED_DIR, password=SEED_PASSWORD)
        finally:
            event.remove(db.session, "before_commit", counting)
        db.session.commit()  # the index updates are applied after it, as in the demo
        while apply_pending():
            pass
        db.session.remove()
        db.engine.dispose()  # nobody stays connected: PostgreSQL copies only such a database
    return DemoSeed(url=url, database_name=make_url(url).database, report=report,
                    commits=len(commits), upload_folder=app.config["UPLOAD_FOLDER"],
                    index_folder=app.config["INDEX_FOLDER"])


def _count_commit(commits: list, session) -> None:
    commits.append(session)


@pytest.fixture(scope="session")
def demo_seed(app_factory, tmp_path_factory) -> Iterator:
    """``demo_seed("sqlite" | "postgresql")``: the demo seed, loaded the first time it is
    asked for and never again in this run (loading takes seconds: attachments are read in a
    subprocess). Use ``seeded_copy`` to get an app on a copy of it."""
    seeds: dict[str, DemoSeed] = {}
    with ExitStack() as cleanup:

        def get(database: str) -> DemoSeed:
            if database not in seeds:
                seeds[database] = _load_demo_seed(database, app_factory, tmp_path_factory,
                                                  cleanup)
            return seeds[database]

        yield get


@pytest.fixture(scope="session")
def seeded_copy(demo_seed, app_factory, tmp_path_factory) -> Iterator:
    """``seeded_copy(database, **config)``: an app (settings as ``app_factory``'s, with
    ``config`` on top) on a copy of the demo seed: the database (a file copy on SQLite,
    ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), its uploads and its Whoosh index.

    ``app.seed_report`` is what loading it reported, ``app.seed_commits`` how many commits
    the loader made itself."""
    apps = []
    with ExitStack() as cleanup:

        def copy(database: str, **config) -> Flask:
            seed = demo_seed(database)
            if database == "postgresql":
                url = cleanup.enter_context(
                    new_postgres_database("buyergroup_seeded", template=seed.database_name))
            else:
                target = tmp_path_factory.mktemp("seeded") / "seeded.sqlite"
                shutil.copyfile(make_url(seed.url).database, target)
                url = f"sqlite:///{target}"
            app = app_factory(url, **config)
            app.test_client_class = RequestIsolatedClient
            shutil.copytree(seed.upload_folder, app.config["UPLOAD_FOLDER"], dirs_exist_ok=True)
            shutil.copytree(seed.index_folder, app.config["INDEX_FOLDER"], dirs_exist_ok=True)
            app.seed_report, app.seed_commits = seed.report, seed.commits
            apps.append(app)
            return app

        try:
            yield copy
        finally:
            for app in apps:
                with app.app_context():
                    db.engine.dispose()


@pytest.fixture(scope="session")
def _seeded_session_app(backend, seeded_copy):
    """An app on a database of its own holding the demo seed, one per backend."""
    return seeded_copy(backend)


@pytest.fixture
def seeded_app(_seeded_session_app):
    """The app on a database holding the demo seed, inside an app context.

    ``seeded_app.seed_report`` is what loading it reported, ``seeded_app.seed_commits`` how
    many commits the loader made itself. The test runs in a transaction rolled back at its
    end, so every test sees the seed as loaded. (Files the test writes, uploads or the search
    index, are not rolled back: the seed's tests only read them.)
    """
    limiter.reset()
    with _seeded_session_app.app_context(), _rolled_back(_seeded_session_app):
        yield _seeded_session_app


@pytest.fixture
def client(app):
    return app.test_client()


# --- Factories (through the services, so test data is always valid data) -------------------


@pytest.fixture
def make_organisation(app):
    from buyergroup.network.service import save_organisation

    counter = iter(range(1, 10_000))

    def factory(name: str | None = None, **fields):
        fields.setdefault("kind", "regional_authority")
        fields.setdefault("country", "BE")
        organisation = save_organisation(None, name=name or f"Authority {next(counter)}", **fields)
        db.session.commit()
        return organisation

    return factory


@pytest.fixture
def make_user(app):
    from buyergroup.accounts.models import Role
    from buyergroup.accounts.service import create_user

    counter = iter(range(1, 10_000))

    def factory(email: str | None = None, *, role: str = "member", password=TEST_PASSWORD,
                **fields):
        n = next(counter)
        fields.setdefault("name", f"Member {n}")
        user = create_user(email=email or f"member{n}@example.org", password=password,
                           role=Role(role), **fields)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_group(app):
    from buyergroup.network.service import save_group

    counter = iter(range(1, 10_000))

    def factory(name: str | None = None, *, organiser=None, **fields):
        fields.setdefault("languages", ["en"])
        fields.setdefault("join_policy", "open")
        group = save_group(organiser, name=name or f"Working group {next(counter)}", **fields)
        db.session.commit()
        return group

    return factory


@dataclass
class Auth:
    client: object

    def login(self, user_or_email, password: str = TEST_PASSWORD, remember: bool = False):
        address = getattr(user_or_email, "email", user_or_email)
        return self.client.post(
            "/login",
            data={"email": address, "password": password, "remember": "y" if remember else ""},
        )

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def member(make_user, make_organisation):
    return make_user("member@example.org", name="Mia Member", organisation=make_organisation())


@pytest.fixture
def organiser(make_user):
    return make_user("organiser@example.org", role="organiser", name="Oscar Organiser")


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.org", role="admin", name="Ada Admin")
