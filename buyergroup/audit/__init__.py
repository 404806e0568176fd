"""The audit log: an append-only record of the decisions that touch members and their data.

Other domains call ``buyergroup.audit.service.record(...)`` inside the service that makes
the change; administrators read the log at ``/manage/audit`` and ``GET /api/v1/audit``.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register_audit(app: Flask) -> None:
    """Register the page, the API endpoint and ``flask audit purge`` (before the boundary)."""
    from buyergroup.audit.api import bp as api_bp
    from buyergroup.audit.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)

    audit = AppGroup("audit", help="The audit log.")

    @audit.command("purge")
    def audit_purge() -> None:
        """Delete the entries older than AUDIT_RETENTION_DAYS (what the scheduler runs)."""
        from buyergroup.audit.service import purge_expired, retention_days

        count = purge_expired()
        click.echo(f"Deleted {count} audit entr{'y' if count == 1 else 'ies'} older than "
                   f"{retention_days()} days.")

    app.cli.add_command(audit)
