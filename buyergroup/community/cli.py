"""``flask digests send --frequency daily|weekly``: every member's digest, right away."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register_cli(app: Flask) -> None:
    group = AppGroup("digests", help="Notification digests by email.")

    @group.command("send")
    @click.option("--frequency", type=click.Choice(["daily", "weekly"]), required=True)
    @click.option("--deliver/--no-deliver", default=True, show_default=True,
                  help="Send the queued digests from the outbox right away.")
    def send(frequency: str, deliver: bool) -> None:
        """Send each member's digest of what is pending for FREQUENCY (whatever the local
        time; the scheduler sends at 07:00 local). A second run for the same period sends
        nothing."""
        from buyergroup.community.digests import send_digests
        from buyergroup.mail.service import deliver_due

        report = send_digests(frequency)
        click.echo(report.summary())
        if deliver and report.sent:
            click.echo(f"Delivered {deliver_due(limit=max(report.sent, 100))} message(s).")

    app.cli.add_command(group)
