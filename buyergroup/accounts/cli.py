"""Account commands that belong to the accounts domain (``flask users ...``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from buyergroup.extensions import db


def register_account_commands(users: AppGroup) -> None:
    @users.command("token")
    @click.argument("email")
    @click.option("--name", required=True, help="What the token is for, e.g. the script.")
    @click.option("--scope", type=click.Choice(["read", "write"]), default="write",
                  show_default=True, help="read: only reads; write: reads and changes.")
    @click.option("--expires-days", type=click.IntRange(min=1), default=None,
                  help="Days until it stops working; without it, it works until revoked.")
    def users_token(email: str, name: str, scope: str, expires_days: int | None) -> None:
        """Create a personal API token for EMAIL and print it (it is shown only once)."""
        from buyergroup.accounts.models import TokenScope
        from buyergroup.accounts.service import create_api_token, get_user_by_email
        from buyergroup.errors import DomainError

        user = get_user_by_email(email)
        if user is None or not user.is_active:
            raise click.ClickException(f"No active account for {email}.")
        try:
            _, secret = create_api_token(
                user, name, scope=TokenScope(scope), expires_in_days=expires_days
            )
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None
        db.session.commit()
        click.echo(secret)
