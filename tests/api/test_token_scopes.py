"""API tokens have a scope (read, or read and write), an optional expiry and a last-used
date: on the API, on the token page and from the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import func, select

from buyergroup.accounts.models import ApiToken, TokenScope
from buyergroup.accounts.service import create_api_token
from buyergroup.api.openapi import build_openapi
from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.library.models import LibraryItem

NEW_ITEM = {"kind": "report", "title": "Fair mice", "language": "en"}


def new_token(user, scope="write", days=None) -> str:
    _, secret = create_api_token(user, "Script", scope=TokenScope(scope), expires_in_days=days)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def items() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(LibraryItem.id)))


# --- Scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/library", NEW_ITEM),
        ("post", "/api/v1/events/999999/registration", None),
        ("delete", "/api/v1/events/999999/registration", None),
    ],
)
def test_a_read_only_token_cannot_write(client, member, method, path, body):
    secret = new_token(member, "read")
    response = getattr(client, method)(path, json=body, headers=bearer(secret))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "InsufficientScope"
    assert "only read" in error["message"]
    assert items() == 0


def test_a_read_only_token_reads(client, member):
    secret = new_token(member, "read")
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    assert client.get("/api/v1/members", headers=bearer(secret)).status_code == 200


def test_a_write_token_writes(client, member):
    secret = new_token(member, "write")
    response = client.post("/api/v1/library", json=NEW_ITEM, headers=bearer(secret))
    assert response.status_code == 201, response.get_json()
    assert items() == 1
    # Past the scope check, the endpoints answer as before.
    missing = client.post("/api/v1/events/999999/registration", headers=bearer(secret))
    assert missing.status_code == 404


def test_tokens_write_unless_told_otherwise(member):
    token, _ = create_api_token(member, "Old style")
    assert token.scope is TokenScope.write and token.expires_at is None


# --- Expiry and last use ----------------------------------------------------------------------


def test_an_expired_token_is_401(client, member):
    secret = new_token(member, "write", days=7)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    for response in (
        client.get("/api/v1/me", headers=bearer(secret)),
        client.post("/api/v1/library", json=NEW_ITEM, headers=bearer(secret)),
    ):
        assert response.status_code == 401
        assert "expired" in response.get_json()["error"]["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert items() == 0


def test_me_tells_the_token_its_scope_expiry_and_last_use(client, member):
    secret = new_token(member, "read", days=30)
    body = client.get("/api/v1/me", headers=bearer(secret)).get_json()
    token = body["token"]
    assert token["scope"] == "read" and token["name"] == "Script"
    assert token["expires_at"] and token["last_used_at"]
    document = build_openapi()
    Draft202012Validator(
        {"$ref": "#/components/schemas/Me", "components": document["components"]},
        format_checker=FormatChecker(),
    ).validate(body)


def test_last_use_is_written_at_most_once_an_hour(client, member):
    secret = new_token(member)
    client.get("/api/v1/me", headers=bearer(secret))
    first = db.session.scalar(select(ApiToken.last_used_at))
    assert first is not None
    client.get("/api/v1/me", headers=bearer(secret))
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) == first


# --- The token page -------------------------------------------------------------------------


def test_the_token_page_lets_a_member_choose_scope_and_expiry(client, auth, member):
    auth.login(member)
    page = client.get("/profile/tokens").get_data(as_text=True)
    assert 'name="scope"' in page and 'name="expires_in_days"' in page

    response = client.post("/profile/tokens", data={
        "name": "Dashboard", "scope": "read", "expires_in_days": "30",
    })
    assert response.status_code == 200
    db.session.expire_all()
    token = db.session.scalar(select(ApiToken))
    assert token.scope is TokenScope.read
    assert abs(token.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)

    html = client.get("/profile/tokens").get_data(as_text=True)
    assert "Read only" in html
    assert "Last used" in html and "Never" in html


def test_the_token_page_refuses_a_made_up_lifetime(client, auth, member):
    auth.login(member)
    response = client.post("/profile/tokens", data={
        "name": "Forever", "scope": "write", "expires_in_days": "100000",
    })
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


# --- The command line -------------------------------------------------------------------------


def run(app, *args):
    return app.test_cli_runner().invoke(args=["users", "token", *args])


def test_the_command_prints_a_write_token_by_default(app, client, member):
    result = run(app, "Member@Example.org", "--name", "Nightly export")
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("bg_")
    db.session.expire_all()
    token = db.session.scalar(select(ApiToken))
    assert token.name == "Nightly export"
    assert token.scope is TokenScope.write and token.expires_at is None
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_the_command_takes_a_scope_and_an_expiry(app, client, member):
    result = run(app, member.email, "--name", "Reader", "--scope", "read",
                 "--expires-days", "7")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    token = db.session.scalar(select(ApiToken))
    assert token.scope is TokenScope.read
    assert abs(token.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)
    response = client.post("/api/v1/library", json=NEW_ITEM,
                           headers=bearer(result.output.strip()))
    assert response.status_code == 403


def test_the_command_refuses_an_unknown_account(app):
    result = run(app, "nobody@example.org", "--name", "x")
    assert result.exit_code == 1
    assert "No active account for nobody@example.org." in result.output
