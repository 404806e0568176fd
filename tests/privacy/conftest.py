"""Privacy fixtures: a working group with an organiser and members, events in it, library
items, and a search index of the test's own (the library's fixture)."""

from __future__ import annotations

import pytest

from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemStatus, Visibility
from tests.events.conftest import event_data, local_days_ahead, new_client, reload  # noqa: F401
from tests.library.conftest import fresh_search_index  # noqa: F401 - autouse


@pytest.fixture
def group(make_group, organiser, member):
    from buyergroup.network.service import add_member

    group = make_group("Fair ICT buyers", organiser=organiser)
    add_member(group, member)
    db.session.commit()
    return group


@pytest.fixture
def make_member(make_user, group):
    from buyergroup.network.service import add_member

    def factory(email=None, **fields):
        user = make_user(email, **fields)
        add_member(group, user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_event(group, organiser):
    from buyergroup.events import service

    def factory(**overrides):
        event = service.create_event(organiser, group, event_data(**overrides))
        db.session.commit()
        return event

    return factory


@pytest.fixture
def make_item(app):
    def factory(author, *, status="published", **fields):
        fields.setdefault("kind", "clause")
        fields.setdefault("title", "Respect for ILO core conventions")
        fields.setdefault("language", "en")
        fields.setdefault("body", "The contractor ensures the goods are made without child "
                                  "labour.")
        item = library.create_item(
            None, created_by=author, authors=[author], status=ItemStatus(status),
            visibility=Visibility.public, **fields,
        )
        db.session.commit()
        return item

    return factory


@pytest.fixture
def token_of(app):
    def factory(user, scope="write"):
        from buyergroup.accounts.models import TokenScope

        _, secret = create_api_token(user, "privacy test", scope=TokenScope(scope))
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return factory
