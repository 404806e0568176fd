"""Fixtures for the account tests: more browsers, reloading objects, quick sign-in."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from buyergroup.extensions import db
from tests.conftest import RequestIsolatedClient


@pytest.fixture
def new_client(app):
    """Another browser, with its own cookies: ``new_client()``."""

    def factory(**kwargs) -> FlaskClient:
        return RequestIsolatedClient(app, app.response_class, use_cookies=True, **kwargs)

    return factory


@pytest.fixture
def reload():
    """Read an object again: requests commit in their own session, not the test's."""

    def reload(instance):
        db.session.rollback()
        db.session.expire_all()
        return db.session.get(type(instance), instance.id)

    return reload


@pytest.fixture
def sign_in_as():
    """Sign a client in without a password check, for tests about something else.

    Hashing and checking a password costs tens of milliseconds each; signing in through
    the form is tested in test_auth_views.py.
    """

    def sign_in_as(client, user):
        from buyergroup.accounts import sessions

        sessions.start(user)  # a server-side session, as signing in creates
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return sign_in_as
