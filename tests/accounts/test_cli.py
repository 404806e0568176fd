"""Creating accounts from the command line (no request: messages in the default language)."""

from __future__ import annotations

from buyergroup.accounts import service
from tests.conftest import TEST_PASSWORD


def create_from_command_line(app, *args):
    return app.test_cli_runner().invoke(args=["users", "create", *args])


def test_command_line_creates_an_account(app):
    result = create_from_command_line(
        app, "Ops@Example.org", "--name", "Olga Ops", "--role", "admin",
        "--password", TEST_PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "Created ops@example.org (admin)." in result.output
    assert service.authenticate("ops@example.org", TEST_PASSWORD).is_admin


def test_command_line_refuses_a_short_password_with_a_clear_message(app):
    result = create_from_command_line(app, "cli@example.org", "--name", "Cli",
                                      "--password", "short")
    assert result.exit_code == 1
    assert "Use at least 10 characters." in result.output
    assert service.get_user_by_email("cli@example.org") is None
