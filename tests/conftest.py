"""Shared fixtures: an app per database backend, a real SMTP server, factories, sign-in.

Every test that uses ``app`` runs on SQLite, and also on PostgreSQL when
``TEST_DATABASE_URL`` is set (a fresh database is created for the run and dropped after).
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from buyergroup import create_app
from buyergroup.extensions import db, limiter

ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORD = "correct horse battery"


def pytest_configure(config):
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
    # The interface is tested in every language: compile the catalogues once per run.
    translations = ROOT / "buyergroup" / "translations"
    if any(translations.glob("*/LC_MESSAGES/messages.po")):
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run(
            [str(pybabel), "compile", "-d", str(translations)],
            check=True,
            capture_output=True,
        )


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


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this run, dropped at the end."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set")
    url = make_url(base)
    name = f"buyergroup_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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


def _empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_session_app):
    """The app with empty tables, inside an app context."""
    limiter.reset()
    with _session_app.app_context():
        yield _session_app
        db.session.rollback()
        db.session.remove()
        _empty_all_tables()


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
