"""The main pages, as the demo seed fills them, checked by the Nu Html Checker (vnu.jar,
the W3C's validator): no errors, for a visitor, a signed-in member and an organiser."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from buyergroup.events.models import Event
from buyergroup.extensions import db
from buyergroup.library.models import ItemStatus, LibraryItem, Visibility
from buyergroup.network.models import WorkingGroup
from tests.conftest import SEED_PASSWORD

# What the validator reads is the same whatever the database.
pytestmark = pytest.mark.one_database


def main_pages(client) -> dict[str, str]:
    item = db.session.scalar(select(LibraryItem).where(
        LibraryItem.status == ItemStatus.published, LibraryItem.visibility == Visibility.public)
        .order_by(LibraryItem.id).limit(1))
    event = db.session.scalar(select(Event).where(Event.is_public.is_(True))
                              .order_by(Event.id).limit(1))
    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.is_public.is_(True))
                              .order_by(WorkingGroup.id).limit(1))
    return {
        "home": "/",
        "library": "/library",
        "item": f"/library/{item.id}",
        "search": "/library?q=laptop",
        "events": "/events",
        "event": f"/events/{event.id}",
        "groups": "/groups",
        "group": f"/groups/{group.slug}",
        "glossary": "/library/glossary",
        "sign-in": "/login",
    }


def fetch(client, pages: dict[str, str], prefix: str) -> dict[str, str]:
    fetched = {}
    for name, path in pages.items():
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, (name, path, response.status_code)
        fetched[f"{prefix}{name}"] = response.get_data(as_text=True)
    return fetched


def sign_in(client, email: str) -> None:
    """Through the form, CSRF token and all."""
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    response = client.post("/login", data={"email": email, "password": SEED_PASSWORD,
                                            "csrf_token": token.group(1) if token else ""})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


@pytest.fixture
def csrf_on(seeded_app):
    """Pages as served: with their CSRF fields (the suite turns them off elsewhere)."""
    before = seeded_app.config["WTF_CSRF_ENABLED"]
    seeded_app.config["WTF_CSRF_ENABLED"] = True
    yield
    seeded_app.config["WTF_CSRF_ENABLED"] = before


def test_the_main_pages_have_no_html_errors(seeded_app, csrf_on, vnu, tmp_path):
    visitor = seeded_app.test_client()
    pages = main_pages(visitor)
    documents = fetch(visitor, pages, "visitor-")

    member = seeded_app.test_client()
    sign_in(member, "member@example.org")
    documents.update(fetch(member, {**pages, "profile": "/profile", "my-events": "/events/mine"},
                           "member-"))

    organiser = seeded_app.test_client()
    sign_in(organiser, "organiser@example.org")
    documents.update(fetch(organiser, {name: pages[name] for name in (
        "item", "event", "group", "events", "library")}, "organiser-"))

    errors = vnu(documents, tmp_path)
    assert not errors, "\n".join(f"{name}: {e}" for name, es in errors.items() for e in es)

