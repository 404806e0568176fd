"""Fixtures for the outbox tests; the helpers are in ``tests/mail/support.py``."""

from __future__ import annotations

import pytest

from tests.mail.support import running_smtp_server


@pytest.fixture
def smtp(app):
    """A fresh SMTP server for one test, and the app pointed at it."""
    with running_smtp_server() as handler:
        previous = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", handler.port
        yield handler
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = previous
