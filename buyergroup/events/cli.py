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

    @group.command("extract")
    @click.option("--limit", default=500, show_default=True, help="Files to read at most.")
    def extract(limit: int) -> None:
        """Read the text of event files still waiting for it (then the search finds them)."""
        from buyergroup.events.extraction import extract_pending

        read, failed = extract_pending(limit=limit)
        click.echo(f"Read {read} file(s); {failed} could not be read.")

    app.cli.add_command(group)
