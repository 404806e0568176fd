from __future__ import annotations

import pytest


@pytest.fixture
def new_client(app):
    """Another browser with its own cookies: ``new_client()`` (each request isolated, as
    with ``client``: see RequestIsolatedClient in tests/conftest.py)."""
    return app.test_client
