"""Every request in its own application context, as in production.

The shared ``app`` fixture (tests/conftest.py) keeps one app context pushed for the whole
test, so with Flask's plain test client ``flask.g`` and the database session carry over
from one request (and one client) to the next: Flask-Login's cached ``g._login_user`` serves
an anonymous client as whoever signed in before, and the API's ``g.api_user`` outlives its
request. This client gives each request a fresh app context (own ``g``, own session).
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


class RequestIsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def new_client(app):
    """Another browser with its own cookies: ``new_client()``."""

    def factory() -> FlaskClient:
        return RequestIsolatedClient(app, app.response_class, use_cookies=True)

    return factory


@pytest.fixture
def client(new_client):
    return new_client()
