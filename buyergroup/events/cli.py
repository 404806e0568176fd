"""``flask events ...``: event jobs by hand."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register_cli(app: Flask) -> None:
    group = AppGroup("events", help="Events and their reminders.")

    @group.command("reminders")
    def reminders() -> None:
        """Queue the reminders that are due now (the scheduler does this every minute)."""
        from buyergroup.events.service import send_due_reminders

        click.echo(f"Queued {send_due_reminders()} reminder(s).")

    app.cli.add_command(group)
