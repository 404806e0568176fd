"""Toolkit fixtures: the library's item factory and fresh search index, and API tokens."""

from __future__ import annotations

import pytest

from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db
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
