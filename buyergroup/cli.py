"""Command-line tools: ``flask --app buyergroup <group> <command>``."""

from __future__ import annotations

import getpass
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from buyergroup.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def register_cli(app: Flask) -> None:
    seed = AppGroup("seed", help="Demo content.")
    users = AppGroup("users", help="Accounts and roles.")
    translate = AppGroup("translate", help="Interface translations.")
    mail = AppGroup("mail", help="The outgoing mail queue.")

    @seed.command("load")
    @click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
                  default=PROJECT_ROOT / "seed", show_default=True)
    @click.option("--password", default="buyergroup-demo", show_default=True,
                  help="Password given to every demo account.")
    def seed_load(path: Path, password: str) -> None:
        """Load the demo content; running it twice creates no duplicates."""
        from buyergroup.seeding import SeedError, load_seed

        try:
            report = load_seed(path, password=password)
        except SeedError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(report.summary())

    @users.command("create")
    @click.argument("email")
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(["member", "organiser", "admin"]), default="member")
    @click.option("--organisation", default="", help="Name of an existing organisation.")
    @click.option("--password", default=None, help="Asked for when not given.")
    def users_create(email: str, name: str, role: str, organisation: str, password: str | None):
        """Create an account."""
        from buyergroup.accounts.models import Role
        from buyergroup.accounts.service import create_user
        from buyergroup.errors import DomainError
        from buyergroup.network.service import get_organisation_by_name

        org = get_organisation_by_name(organisation) if organisation else None
        if organisation and org is None:
            raise click.ClickException(f"No organisation named {organisation!r}.")
        if password is None:
            password = getpass.getpass("Password: ")
        try:
            user = create_user(email=email, name=name, password=password, role=Role(role),
                               organisation=org)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None
        db.session.commit()
        click.echo(f"Created {user.email} ({user.role.value}).")

    @users.command("set-role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(["member", "organiser", "admin"]))
    def users_set_role(email: str, role: str) -> None:
        """Change an account's role."""
        from buyergroup.accounts.models import Role
        from buyergroup.accounts.service import get_user_by_email

        user = get_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No account for {email}.")
        user.role = Role(role)
        db.session.commit()
        click.echo(f"{user.email} is now {role}.")

    @translate.command("extract")
    def translate_extract() -> None:
        """Extract strings into messages.pot and update every catalogue."""
        pot = TRANSLATIONS / "messages.pot"
        _run(["pybabel", "extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "_l",
              "--no-location", "--sort-output",
              # Babel skips folders starting with "_" by default: templates/_macros has strings.
              "--ignore-dirs", ".*",
              "-o", str(pot), str(PROJECT_ROOT)])
        _run(["pybabel", "update", "-i", str(pot), "-d", str(TRANSLATIONS), "--no-fuzzy-matching"])

    @translate.command("compile")
    def translate_compile() -> None:
        """Compile the .po catalogues into the .mo files the app reads."""
        _run(["pybabel", "compile", "-d", str(TRANSLATIONS), "--statistics"])

    @mail.command("deliver")
    def mail_deliver() -> None:
        """Send every due message in the outbox now."""
        from buyergroup.mail.service import deliver_due

        click.echo(f"Sent {deliver_due(limit=1000)} message(s).")

    from buyergroup.accounts.cli import register_account_commands

    register_account_commands(users)

    for group in (seed, users, translate, mail):
        app.cli.add_command(group)

    from buyergroup.search.cli import register_search_cli

    register_search_cli(app)

    from buyergroup.events.cli import register_cli as register_events_cli
    from buyergroup.scheduler import register_cli as register_scheduler_cli

    register_events_cli(app)
    register_scheduler_cli(app)

    from buyergroup.community.cli import register_cli as register_community_cli

    register_community_cli(app)

    from buyergroup.backup import register_backup_cli

    register_backup_cli(app)


def _run(command: list[str]) -> None:
    executable = Path(sys.executable).with_name(command[0])
    if executable.exists():
        command = [str(executable), *command[1:]]
    subprocess.run(command, check=True)
