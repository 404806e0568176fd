"""Privacy fixtures: a working group with an organiser and members, events in it, library
items, and a search index of the test's own (the library's fixture)."""

from __future__ import annotations

import pytest

from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemStatus, Visibility
from tests.events.conftest import (  # noqa: F401 - fixtures and helpers, shared
    event_data,
    group,
    local_days_ahead,
    make_event,
    make_member,
    new_client,
    reload,
)
from tests.library.conftest import fresh_search_index  # noqa: F401 - autouse


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
