"""Community fixtures: a working group with a member and an organiser, items through the
library service, and a shorthand for publishing as an organiser."""

from __future__ import annotations

import pytest

from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemStatus, Visibility


@pytest.fixture
def group(make_group, organiser, member):
    from buyergroup.network.service import add_member

    group = make_group("Fair servers", organiser=organiser)
    add_member(group, member)
    db.session.commit()
    return group


@pytest.fixture
def make_item(app, make_user):
    """A draft by ``author`` (a new member unless given), through the library service."""

    def factory(author=None, *, visibility="members", group=None, **fields):
        fields.setdefault("kind", "clause")
        fields.setdefault("title", "Respect for ILO core conventions")
        fields.setdefault("language", "en")
        fields.setdefault("body", "The contractor ensures the goods are made without child labour.")
        author = author or make_user(name="Ada Author")
        item = library.create_item(None, created_by=author, authors=[author],
                                   visibility=Visibility(visibility), group=group,
                                   **fields)
        db.session.commit()
        return item

    return factory


@pytest.fixture
def publish(organiser):
    def run(item, actor=None):
        library.publish(actor or organiser, item)
        db.session.commit()
        return item

    return run


def unread(user) -> int:
    from buyergroup.community import service

    return service.unread_count(user)


__all__ = ["ItemStatus", "unread"]
