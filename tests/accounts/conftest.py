"""Fixtures for the account tests.

``client`` is replaced by one that runs every request in its own application context, as
in production. The shared ``app`` fixture keeps one app context pushed for the whole
test, so without this ``flask.g`` (and with it Flask-Login's cached ``g._login_user`` and
the API's ``g.api_user``) and the database session would leak from one request, or one
client, to the next: an anonymous client would be served as whoever signed in before.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from buyergroup.extensions import db


class RequestIsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def new_client(app):
    """Make another browser: ``new_client()``; each has its own cookies."""

    def factory(**kwargs) -> FlaskClient:
        app.test_client_class = RequestIsolatedClient
        try:
            return app.test_client(**kwargs)
        finally:
            app.test_client_class = None

    return factory


@pytest.fixture
def client(new_client):
    return new_client()


@pytest.fixture
def reload():
    """Read an object again from the database (requests commit in their own session)."""

    def reload(instance):
        db.session.expire_all()
        return db.session.get(type(instance), instance.id)

    return reload


LINK = re.compile(r"https?://\S+")


def link_in(body: str) -> str:
    links = LINK.findall(body)
    assert links, f"no link in:\n{body}"
    return links[0]
