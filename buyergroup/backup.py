"""Backups: ``flask --app buyergroup backup create DIR`` and ``backup restore DIR``.

A backup is a directory:

* ``database.sqlite`` (SQLite: a copy made with SQLite's online backup API, consistent and
  safe while the site runs) or ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``);
* ``uploads/``: a copy of the ``UPLOAD_FOLDER`` tree (library attachments, event material);
* ``manifest.json``, written last: the format, the time, the application's version, the
  database kind, its migration revision (``alembic_version``) and the SHA-256 of every
  file. A directory without a manifest is an unfinished or foreign backup.

``restore`` checks everything before it touches anything: the manifest is there, every
file matches its checksum and no file was added, the database kind is the configured one,
and the revision is one this code knows (a backup made by newer code is refused). Only then
does it replace the database (SQLite: the backup API copies into a new file beside the
database, which then replaces it; PostgreSQL: ``pg_restore --clean --if-exists --no-owner``
in a single transaction), replace the uploads folder, and rebuild the search index with
``buyergroup.search.service.reindex`` (what ``flask search reindex`` runs).

The search index is not in the backup: it is derived from the database and rebuilt.
Stop the web workers and the scheduler before a restore (see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from buyergroup.extensions import db

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite"
POSTGRES_FILE = "database.dump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why, for the operator."""


@dataclass(frozen=True)
class RestoreReport:
    revision: str | None
    files: int
    documents: int | None  # None when the index was not rebuilt (schema behind the code)
    behind_head: bool


# --- Helpers ----------------------------------------------------------------------------------


def _database_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")
    return backend


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("The SQLite database must be a file to be backed up or restored.")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A URL that pg_dump and pg_restore read, and the environment holding the password
    (kept off the command line, where ``ps`` would show it to every user of the machine)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; it is needed to {what}.")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({what}): {result.stderr.strip()}")


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection: making or restoring a backup never writes to its source."""
    return sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True)


def _copy_if_present(source: str, target: str) -> None:
    # A file deleted by the site while the tree is copied is simply not in the backup.
    try:
        shutil.copy2(source, target)
    except FileNotFoundError:
        pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_under(directory: Path) -> dict[str, Path]:
    """Every file below ``directory`` by its POSIX path relative to it (the manifest's keys)."""
    return {
        path.relative_to(directory).as_posix(): path
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory)


def code_head() -> str | None:
    """The newest migration revision this code knows."""
    return _scripts().get_current_head()


def _revision_of(connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def app_version() -> str:
    try:
        return metadata.version("buyergroup")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- Create -----------------------------------------------------------------------------------


def create_backup(directory: Path) -> dict:
    """Write a backup of the database and the uploads into ``directory``; returns the manifest.

    ``directory`` must not exist yet or be empty: a backup never mixes with another.
    """
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; give a new directory for the backup.")
    directory.mkdir(parents=True, exist_ok=True)
    url = _database_url()
    kind = _kind(url)
    if kind == "sqlite":
        database_file = SQLITE_FILE
        revision = _backup_sqlite(_sqlite_path(url), directory / SQLITE_FILE)
    else:
        database_file = POSTGRES_FILE
        with db.engine.connect() as connection:
            revision = _revision_of(connection)
        address, env = _libpq(url)
        _run(["pg_dump", "--format=custom", f"--file={directory / POSTGRES_FILE}",
              f"--dbname={address}"], env, "dump the database")
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.is_dir():
        # After the database: every file its copy names was written before it (uploads are
        # stored before their row is committed). Half-written ".name.part" files are not
        # files of the site yet.
        shutil.copytree(uploads, directory / UPLOADS, copy_function=_copy_if_present,
                        ignore=shutil.ignore_patterns(".*.part"))
    else:
        (directory / UPLOADS).mkdir()
    files = _files_under(directory)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": app_version(),
        "database": {"kind": kind, "file": database_file, "revision": revision},
        "uploads": UPLOADS,
        "files": {name: _sha256(path) for name, path in files.items()},
    }
    # Written last, through a temporary name: a manifest means the backup is complete.
    partial = directory / (MANIFEST + ".part")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    partial.replace(directory / MANIFEST)
    return manifest


def _backup_sqlite(source: Path, target: Path) -> str | None:
    if not source.exists():
        raise BackupError(f"The database file {source} does not exist.")
    # Read-only: the backup API copies page by page and restarts when the site writes
    # meanwhile, so the copy is one consistent state of the database.
    reader = _read_only(source)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        reader.close()
    try:
        has_table = writer.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        row = writer.execute("SELECT version_num FROM alembic_version").fetchone() if (
            has_table) else None
    finally:
        writer.close()
    return row[0] if row else None


# --- Verify -----------------------------------------------------------------------------------


def verify_backup(directory: Path) -> dict:
    """The manifest of a complete, untouched backup this code can restore; else BackupError."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            f"{directory} has no {MANIFEST}: it is not a backup, or its creation did not finish."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed: dict[str, str] = manifest["files"]
        database = manifest["database"]
        kind, database_file = database["kind"], database["file"]
        revision = database["revision"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{MANIFEST} in {directory} cannot be read.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"This backup has format {manifest.get('format')!r}; "
                          f"this version reads format {FORMAT}.")
    present = _files_under(directory)
    present.pop(MANIFEST)
    missing = sorted(set(listed) - set(present))
    added = sorted(set(present) - set(listed))
    changed = sorted(name for name in set(listed) & set(present)
                     if _sha256(present[name]) != listed[name])
    if missing or added or changed:
        problems = []
        if missing:
            problems.append("missing: " + ", ".join(missing[:5]))
        if changed:
            problems.append("checksum does not match: " + ", ".join(changed[:5]))
        if added:
            problems.append("not in the manifest: " + ", ".join(added[:5]))
        raise BackupError("The backup has been changed or is incomplete ("
                          + "; ".join(problems) + "). Nothing was restored.")
    if database_file not in listed:
        raise BackupError(f"The backup's database file {database_file} is missing.")
    configured = _kind(_database_url())
    if kind != configured:
        raise BackupError(f"This is a {kind} backup; the configured database is {configured}.")
    if revision is not None:
        from alembic.util import CommandError

        try:
            known = _scripts().get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise BackupError(
                f"The backup's database is at migration {revision}, which this code does not "
                f"know (its newest is {code_head()}): it was made by a newer version. "
                "Install that version (or newer) to restore it."
            )
    return manifest


# --- Restore ----------------------------------------------------------------------------------


def restore_backup(directory: Path) -> RestoreReport:
    """Replace the database and the uploads with the backup's, then rebuild the search index.

    Checks the whole backup first (``verify_backup``): a refused backup changes nothing.
    """
    directory = Path(directory)
    manifest = verify_backup(directory)
    database = manifest["database"]
    url = _database_url()
    db.session.remove()
    db.engine.dispose()
    if database["kind"] == "sqlite":
        _restore_sqlite(directory / database["file"], _sqlite_path(url))
    else:
        address, env = _libpq(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", f"--dbname={address}", str(directory / database["file"])],
             env, "restore the database")
    files = _restore_uploads(directory / manifest["uploads"],
                             Path(current_app.config["UPLOAD_FOLDER"]))
    db.engine.dispose()  # connections opened before the restore saw the old database
    revision = database["revision"]
    head = code_head()
    behind = revision is not None and revision != head
    documents = None
    if not behind:
        # The public entry point of ``flask search reindex``.
        from buyergroup.search.service import reindex

        documents = reindex()
    return RestoreReport(revision=revision, files=files, documents=documents,
                         behind_head=behind)


def _restore_sqlite(copy: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".restoring")
    incoming.unlink(missing_ok=True)
    reader = _read_only(copy)
    writer = sqlite3.connect(incoming)
    try:
        reader.backup(writer)
        if writer.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("The backup's SQLite database fails its integrity check.")
    finally:
        reader.close()
        writer.close()
    # The old database's journal files belong to the old file: gone with it.
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    incoming.replace(target)


def _restore_uploads(source: Path, target: Path) -> int:
    """Put the backup's uploads in place of the folder's; returns the number of files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = target.with_name(target.name + ".restoring")
    previous = target.with_name(target.name + ".before-restore")
    shutil.rmtree(incoming, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
    shutil.copytree(source, incoming)
    try:
        if target.exists():
            target.rename(previous)
        incoming.rename(target)
    except OSError:
        # The folder is a mount point (a share of several servers): it cannot be renamed,
        # so empty it and copy the backup's files into it instead.
        target.mkdir(parents=True, exist_ok=True)
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        shutil.copytree(incoming, target, dirs_exist_ok=True)
        shutil.rmtree(incoming, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
    return len(_files_under(target))


# --- Commands ---------------------------------------------------------------------------------


def register_backup_cli(app: Flask) -> None:
    """Add the ``backup`` command group (call from ``buyergroup.cli.register_cli``)."""
    backup = AppGroup("backup", help="Back up and restore the database and the uploads.")

    @backup.command("create")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def backup_create(directory: Path) -> None:
        """Write a backup into DIRECTORY (new or empty); safe while the site runs."""
        try:
            manifest = create_backup(directory)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"Backup written to {directory}: {manifest['database']['kind']} database at "
            f"revision {manifest['database']['revision'] or '(none)'}, "
            f"{len(manifest['files']) - 1} uploaded file(s)."
        )

    @backup.command("restore")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def backup_restore(directory: Path, yes: bool) -> None:
        """Replace the database and the uploads with the backup in DIRECTORY, then reindex.

        Stop the web workers and the scheduler first.
        """
        try:
            verify_backup(directory)
            if not yes:
                click.confirm("This replaces the configured database and the uploads folder. "
                              "Continue?", abort=True)
            report = restore_backup(directory)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Restored the database (revision {report.revision or '(none)'}) and "
                   f"{report.files} uploaded file(s).")
        if report.behind_head:
            click.echo(f"The database is older than the code (head {code_head()}): run "
                       "'flask --app buyergroup db upgrade', then "
                       "'flask --app buyergroup search reindex'.")
        else:
            click.echo(f"Indexed {report.documents} document(s).")

    app.cli.add_command(backup)
