"""Toolkit fixtures: the library's item factory and fresh search index, and API tokens."""

from __future__ import annotations

from datetime import date

import pytest

from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db
from buyergroup.labels import service as labels
from tests.library.conftest import (  # noqa: F401  (fixtures)
    fresh_search_index,
    group_with_member,
    make_item,
)


@pytest.fixture
def bearer():
    def headers(user) -> dict:
        _, secret = create_api_token(user, "script")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return headers


def superseded_generation(organiser, name: str):
    """A new label's first edition, superseded by a second: what a stale-label notice names
    (with the label's current generation)."""
    label = labels.save_label(organiser, name=name, issuer="Issuer", scope="environmental",
                              product_groups=["laptops"])
    old = labels.save_generation(organiser, label, name="edition 1",
                                 published_on=date(2020, 1, 1))
    labels.save_generation(organiser, label, name="edition 2", published_on=date(2023, 1, 1))
    labels.set_status(organiser, old, "superseded")
    return old
