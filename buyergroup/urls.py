"""Absolute links for emails, feeds and the API. Imports no domain, so the template helpers
and every domain can use it without an import cycle."""

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """An absolute link for emails, built on BASE_URL (requests may come via a proxy)."""
    # Built from the URL map, so it also works in CLI commands and jobs with no request.
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path
