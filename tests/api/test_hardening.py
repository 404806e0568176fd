"""The API and signed-in pages from a hostile or careless client's side: what caches may
keep, what the Server header gives away, and JSON bodies that the API cannot read."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db

PRIVATE = "private, no-store"


@pytest.fixture
def token(member):
    _, secret = create_api_token(member, "My script")
    db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


# --- Cache-Control ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/profile", "/members", "/", "/library", "/profile/tokens"])
def test_signed_in_pages_are_never_stored_by_a_cache(client, auth, member, path):
    auth.login(member)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == PRIVATE


@pytest.mark.parametrize("path", ["/api/v1/groups", "/api/v1/me", "/api/v1/openapi.json",
                                  "/api/v1/no-such-thing"])
def test_every_api_answer_is_private(client, token, path):
    for headers in ({}, bearer(token)):
        response = client.get(path, headers=headers)
        assert response.headers["Cache-Control"] == PRIVATE, (path, response.status_code)


def test_a_visitors_public_page_may_still_be_cached(client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


# --- The Server header ------------------------------------------------------------------------


def test_the_server_header_names_no_software_version(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        for path in ("/", "/api/v1/groups", "/no-such-page"):
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}")
            except urllib.error.HTTPError as error:
                response = error
            servers = response.headers.get_all("Server") or []
            assert servers == ["Buyergroup"], servers
    finally:
        server.shutdown()
        thread.join(5)


# --- JSON the API cannot read -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        # A lone surrogate in a body that is otherwise a valid new item.
        b'{"kind": "report", "title": "Fair mice \\ud800", "language": "en"}',
        b'{"kind": "report", "title": "Fair mice", "language": "en", "\\udfff": "x"}',
        b"[" * 100_000 + b"]" * 100_000,  # nested too deeply for the parser
        b'{"title": ',  # cut short
        b"\xff\xfe not utf-8",
    ],
    ids=["surrogate", "surrogate-key", "deep-nesting", "truncated", "not-utf8"],
)
def test_a_json_body_the_api_cannot_read_is_a_400_json_error(client, token, body):
    response = client.post(
        "/api/v1/library", data=body, headers={**bearer(token),
                                               "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.is_json
    assert response.get_json()["error"]["status"] == 400
