"""Discussion fixtures: a private and a public group with their people, threads made
through the service, and a fresh search index per test (as the library's tests have)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from buyergroup.discussions import service
from buyergroup.extensions import db
from buyergroup.network.models import GroupRole
from buyergroup.network.service import add_member
from buyergroup.search.expansion import invalidate_expansions
from buyergroup.search.service import init_app as init_search
from tests.search.conftest import (  # noqa: F401 - fixtures for the search tests
    _fresh,
    search_app,
    search_apps,
    sqlite_search_url,
)


@pytest.fixture(autouse=True)
def fresh_search_index(request, tmp_path):
    """Each test searches an index of its own (the database is emptied between tests)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    init_search(app)
    previous = app.config["INDEX_FOLDER"]
    app.config["INDEX_FOLDER"] = str(tmp_path / "index")
    app.config["SEARCH_APPLY_ON_COMMIT"] = True
    app.extensions.pop("buyergroup.search", None)
    invalidate_expansions()
    yield
    app.extensions.pop("buyergroup.search", None)
    app.config["INDEX_FOLDER"] = previous
    invalidate_expansions()


@dataclass
class People:
    organiser: object  # the group's organiser
    member: object  # an active member
    outsider: object  # signed in, not in the group
    other: object  # another member of the group


def people_in(group, make_user, prefix: str) -> People:
    organiser = make_user(f"{prefix}-org@example.org", name=f"{prefix.title()} Organiser")
    member = make_user(f"{prefix}-member@example.org", name=f"{prefix.title()} Member")
    other = make_user(f"{prefix}-other@example.org", name=f"{prefix.title()} Other")
    outsider = make_user(f"{prefix}-out@example.org", name=f"{prefix.title()} Outsider")
    add_member(group, organiser, GroupRole.organiser)
    add_member(group, member)
    add_member(group, other)
    db.session.commit()
    return People(organiser, member, outsider, other)


@pytest.fixture
def private_group(make_group):
    return make_group("Servers buyers", is_public=False)


@pytest.fixture
def public_group(make_group):
    return make_group("Open laptops", is_public=True)


@pytest.fixture
def private_people(private_group, make_user) -> People:
    return people_in(private_group, make_user, "priv")


@pytest.fixture
def public_people(public_group, make_user) -> People:
    return people_in(public_group, make_user, "pub")


@pytest.fixture
def make_thread(app):
    def factory(group, author, *, title="How did you verify the due diligence clause?",
                body="We asked for a supply chain map. What did others accept?", **fields):
        thread = service.start_thread(author, group, title=title, body=body, **fields)
        db.session.commit()
        return thread

    return factory
