"""``flask backup create`` and ``backup restore``: a backup restored into an empty instance
holds everything (rows, file bytes, search results); a tampered one is refused untouched.

The source is the test's ``app`` (SQLite, and PostgreSQL when TEST_DATABASE_URL is set);
the target is a new instance with its own database, upload folder and search index, built
by the same factory, as an operator would set up a replacement server.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from buyergroup.accounts.models import User
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.backup import code_head
from buyergroup.events import service as events
from buyergroup.events.models import Event, Registration, RegistrationState
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library import uploads
from buyergroup.library.models import Attachment, ItemStatus, LibraryItem, Visibility
from buyergroup.network.service import add_member
from tests.conftest import new_postgres_database
from tests.events.conftest import event_data

# Other connections (threads, processes, the index) must see what these tests commit.
pytestmark = pytest.mark.committing

ROOT = Path(__file__).resolve().parent.parent
PDF = (ROOT / "seed" / "files" / "ew-contract-conditions-en.pdf").read_bytes()
TITLE = "Repairable laptops with replaceable batteries"


@pytest.fixture
def stamped(app):
    """The source database records the code's migration head, as a migrated one does
    (``create_all`` built exactly that schema). Removed again after the test."""
    with db.engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES (:head)"),
                           {"head": code_head()})
    yield code_head()
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


@pytest.fixture
def empty_instance(app, app_factory, tmp_path):
    """A new instance on the same kind of database: no tables, no uploads, no index."""
    with ExitStack() as databases:

        def factory():
            if db.engine.dialect.name == "sqlite":
                url = f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.sqlite'}"
            else:
                url = databases.enter_context(new_postgres_database("buyergroup_restore"))
            return app_factory(url)

        yield factory


@pytest.fixture
def content(app, make_user, make_group, make_organisation, stamped):
    """Members, a public library item with a PDF attachment, an event registration and an
    audit entry: each made through its service."""
    organisation = make_organisation("Ville de Liège")
    member = make_user("mia@example.org", name="Mia Member", organisation=organisation)
    organiser = make_user("oscar@example.org", name="Oscar Organiser", role="organiser")
    group = make_group("Fair ICT buyers", organiser=organiser)
    add_member(group, member)
    item = library.create_item(
        None, created_by=member, authors=[member], status=ItemStatus.published,
        visibility=Visibility.public, kind="clause", title=TITLE, language="en",
        body="The laptop's battery can be replaced by the user with common tools.",
    )
    stored = uploads.store_bytes(PDF, "contract-conditions.pdf", "application/pdf")
    library.add_attachment(None, item, stored)
    event = events.create_event(organiser, group, event_data(title="Repair workshop"))
    events.register(member, event, notify=False)
    audit.record(AuditAction.role_changed, actor=organiser, target=member)
    db.session.commit()
    return {"item_id": item.id, "stored_name": stored.stored_name, "event_id": event.id}


def run(flask_app, *args: str):
    """Run a command of ``flask_app``. Its app context is pushed here because Flask's
    ``with_appcontext`` reuses any app context already pushed (the ``app`` fixture's)."""
    with flask_app.app_context():
        result = flask_app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def test_a_backup_restored_into_an_empty_instance_holds_everything(
    app, content, empty_instance, tmp_path
):
    backup_dir = tmp_path / "backup"
    created = run(app, "backup", "create", str(backup_dir))
    assert created.exit_code == 0, created.output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["database"]["kind"] == db.engine.dialect.name
    assert manifest["database"]["revision"] == code_head()
    assert f"uploads/library/{content['stored_name']}" in manifest["files"]

    target = empty_instance()
    restored = run(target, "backup", "restore", str(backup_dir), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "Indexed" in restored.output

    with target.app_context():
        assert db.session.scalar(select(User.name).where(User.email == "mia@example.org")) == (
            "Mia Member")
        item = db.session.get(LibraryItem, content["item_id"])
        assert item.title == TITLE
        attachment = db.session.scalar(select(Attachment).where(Attachment.item_id == item.id))
        assert attachment.original_name == "contract-conditions.pdf"
        on_disk = Path(target.config["UPLOAD_FOLDER"]) / "library" / attachment.stored_name
        assert on_disk.read_bytes() == PDF
        registration = db.session.scalar(
            select(Registration).where(Registration.event_id == content["event_id"]))
        assert registration.user.email == "mia@example.org"
        assert registration.state == RegistrationState.registered
        assert db.session.get(Event, content["event_id"]).title == "Repair workshop"
        entry = db.session.scalar(select(AuditEntry))
        assert (entry.action, entry.actor_name) == (AuditAction.role_changed, "Oscar Organiser")
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == code_head()
        if db.engine.dialect.name == "postgresql":  # the append-only trigger came back too
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text("DELETE FROM audit_entries"))
            db.session.rollback()
        db.session.remove()

    page = target.test_client().get("/library?q=replaceable+batteries").get_data(as_text=True)
    assert TITLE in page


def _marked_instance(empty_instance):
    """An instance in use: one account and one uploaded file, to show they are left alone."""
    target = empty_instance()
    with target.app_context():
        db.create_all()
        db.session.add(User(email="keep@example.org", name="Kept"))
        db.session.commit()
        db.session.remove()
    marker = Path(target.config["UPLOAD_FOLDER"]) / "library" / "kept.pdf"
    marker.parent.mkdir(parents=True)
    marker.write_bytes(b"%PDF-kept")
    return target, marker


def _left_alone(target, marker) -> bool:
    with target.app_context():
        emails = list(db.session.scalars(select(User.email)))
        db.session.remove()
    return emails == ["keep@example.org"] and marker.read_bytes() == b"%PDF-kept"


@pytest.mark.parametrize("tamper, message", [
    ("upload", "checksum does not match: uploads/library/"),
    ("database", "checksum does not match: database."),
    ("added", "not in the manifest: uploads/extra.txt"),
    ("removed", "missing: uploads/library/"),
    ("manifest", "has no manifest.json"),
    ("newer", "which this code does not know"),
])
def test_a_tampered_backup_is_refused_and_changes_nothing(
    app, content, empty_instance, tmp_path, tamper, message
):
    backup_dir = tmp_path / "backup"
    assert run(app, "backup", "create", str(backup_dir)).exit_code == 0
    upload = backup_dir / "uploads" / "library" / content["stored_name"]
    database = next(backup_dir.glob("database.*"))
    if tamper == "upload":
        upload.write_bytes(upload.read_bytes()[:-1] + b"X")
    elif tamper == "database":
        with database.open("r+b") as stream:
            stream.seek(200)
            stream.write(b"\x00\x01")
    elif tamper == "added":
        (backup_dir / "uploads" / "extra.txt").write_text("surprise")
    elif tamper == "removed":
        upload.unlink()
    elif tamper == "manifest":
        (backup_dir / "manifest.json").unlink()
    elif tamper == "newer":
        manifest = json.loads((backup_dir / "manifest.json").read_text())
        manifest["database"]["revision"] = "ffffffffffff"
        (backup_dir / "manifest.json").write_text(json.dumps(manifest))

    target, marker = _marked_instance(empty_instance)
    result = run(target, "backup", "restore", str(backup_dir), "--yes")
    assert result.exit_code != 0
    assert message in result.output
    assert _left_alone(target, marker)


def test_create_refuses_a_directory_in_use(app, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "notes.txt").write_text("mine")
    result = run(app, "backup", "create", str(tmp_path / "old"))
    assert result.exit_code != 0 and "not empty" in result.output
    assert (tmp_path / "old" / "notes.txt").read_text() == "mine"


def test_a_sqlite_backup_is_consistent_while_the_site_writes(app, tmp_path):
    """Another connection keeps committing while the backup runs: it is never refused, and
    the copy is one intact state of the database holding what was committed before it."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's pg_dump takes a snapshot of its own")
    path = db.engine.url.database
    stop, errors, written = threading.Event(), [], [0]

    def writer():
        connection = sqlite3.connect(path, timeout=10)
        try:
            while not stop.is_set():
                with connection:  # one transaction per entry, as requests commit
                    connection.execute(
                        "INSERT INTO audit_entries (created_at, action, actor_name, actor_email,"
                        " target_type, target_label, details) VALUES"
                        " (CURRENT_TIMESTAMP, 'token_created', '', '', '', ?, '{}')",
                        ("x" * 150,),
                    )
                written[0] += 1
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 200 and thread.is_alive():
            time.sleep(0.01)
        before = written[0]
        result = run(app, "backup", "create", str(tmp_path / "backup"))
        time.sleep(0.1)  # and the writer goes on after it
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert not errors
    copy = sqlite3.connect(tmp_path / "backup" / "database.sqlite")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = copy.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    finally:
        copy.close()
    assert before <= copied < written[0]
