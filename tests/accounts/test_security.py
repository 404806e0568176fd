"""Security settings a member relies on without seeing them: headers, cookies, CSRF,
password storage and a production configuration that refuses unsafe defaults."""

from __future__ import annotations

import base64
import hashlib
import re

import argon2
import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from sqlalchemy import select

from buyergroup import create_app
from buyergroup.accounts import service
from buyergroup.accounts.models import ApiToken, Invitation
from buyergroup.config import DEV_SECRET_KEY, ConfigError, check_production_ready, from_environment
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from buyergroup.security import EARLY_SCRIPT
from tests.conftest import CHEAP_PASSWORD_HASHING, TEST_PASSWORD, RequestIsolatedClient

# Headers, cookies, CSRF and password hashing: the same whatever the database.
pytestmark = pytest.mark.one_database

CSRF_PAGE = "The form has expired"


def script_hash(body: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


# --- Headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/login", 200), ("/password/forgot", 200), ("/no-such-page", 404)],
)
def test_html_responses_carry_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"

    csp = csp_directives(response)
    script_sources = csp.get("script-src", csp.get("default-src"))
    # Files of the site, and the one early line by its hash: nothing else may run.
    assert script_sources == ["'self'", script_hash(str(EARLY_SCRIPT))]
    assert "'unsafe-inline'" not in " ".join(csp.get("default-src", []))
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/", False), ("/login", False), ("/password/forgot", False), ("/", True),
     ("/profile", True), ("/members", True), ("/profile/tokens", True)],
)
def test_pages_need_no_inline_script_so_they_work_under_the_policy(
    client, make_user, sign_in_as, path, signed_in
):
    if signed_in:
        sign_in_as(client, make_user(password=None))
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "expected the site script"
    # Every inline script is one the policy names by its hash (the browser's own rule).
    allowed = csp_directives(response)["script-src"]
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert inline and all(script_hash(body) in allowed for body in inline), inline
    assert all(" src=" in tag for tag in scripts if tag != "<script>"), scripts
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "javascript:" not in html


def test_api_responses_carry_the_security_headers(client):
    response = client.get("/api/v1/me")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert csp_directives(response)["frame-ancestors"] == ["'none'"]


# --- Cookies --------------------------------------------------------------------------------


def cookie_attributes(response, name: str) -> list[str]:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return [part.strip().lower() for part in header.split(";")[1:]]
    raise AssertionError(f"no {name} cookie set")


def test_session_cookie_is_http_only_and_same_site_lax(client, member):
    response = client.post("/login", data={"email": member.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    attributes = cookie_attributes(response, "session")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


@pytest.mark.parametrize(("base_url", "secure"), [
    ("https://buyergroup.example.eu", True),
    ("http://127.0.0.1:5000", False),
])
def test_cookies_are_secure_when_the_site_is_served_over_https(base_url, secure):
    config = from_environment({"BASE_URL": base_url})
    assert config["SESSION_COOKIE_SECURE"] is secure
    assert config["REMEMBER_COOKIE_SECURE"] is secure
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_https_site_sends_secure_cookies_and_hsts(app_factory, app, member):
    secure_app = app_factory(app.config["SQLALCHEMY_DATABASE_URI"],
                             SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True,
                             BASE_URL="https://buyergroup.test")
    try:
        browser = secure_app.test_client()
        response = browser.post("/login", base_url="https://buyergroup.test", data={
            "email": member.email, "password": TEST_PASSWORD, "remember": "y",
        })
        assert response.status_code == 302
        assert "secure" in cookie_attributes(response, "session")
        assert "secure" in cookie_attributes(response, "remember_token")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        with secure_app.app_context():
            db.engine.dispose()


# --- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def strict_app(app, app_factory):
    """The app with CSRF protection on, as in production, on the same database."""
    strict = app_factory(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    yield strict
    with strict.app_context():
        db.engine.dispose()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def nothing_written() -> dict:
    db.session.rollback()
    return {
        "outbox": db.session.scalars(select(OutboxMessage)).all(),
        "tokens": db.session.scalars(select(ApiToken)).all(),
        "invitations": db.session.scalars(select(Invitation)).all(),
    }


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/password/forgot", {"email": "admin@example.org"}),
        ("/profile", {"name": "Changed by another site", "timezone": "Europe/Paris"}),
        ("/profile/tokens", {"name": "Planted token"}),
        ("/manage/invite", {"email": "intruder@example.org", "organisation_id": "1",
                            "role": "admin", "locale": "en"}),
        ("/language", {"language": "de"}),
        ("/logout", {}),
    ],
)
def test_post_without_csrf_token_is_refused_and_writes_nothing(
    strict_app, admin, sign_in_as, reload, path, data
):
    browser = sign_in_as(strict_app.test_client(), admin)
    before = nothing_written()

    response = browser.post(path, data=data)

    assert response.status_code == 400
    assert CSRF_PAGE in response.get_data(as_text=True)
    assert nothing_written() == before
    user = reload(admin)
    assert (user.name, user.timezone, user.locale) == ("Ada Admin", "Europe/Brussels", None)
    assert "Signed in as admin@example.org" in browser.get("/profile").get_data(as_text=True)


def test_sign_in_without_csrf_token_is_refused(strict_app, member):
    browser = strict_app.test_client()
    response = browser.post("/login", data={"email": member.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert CSRF_PAGE in response.get_data(as_text=True)
    assert browser.get("/profile").status_code == 302  # not signed in


def test_forms_with_their_csrf_token_are_accepted(strict_app, member, reload):
    browser = strict_app.test_client()
    token = csrf_token_from(browser.get("/login").get_data(as_text=True))
    response = browser.post("/login", data={
        "email": member.email, "password": TEST_PASSWORD, "csrf_token": token,
    })
    assert response.status_code == 302

    profile = browser.get("/profile").get_data(as_text=True)
    response = browser.post("/profile", data={
        "name": "Mia Renamed", "timezone": "Europe/Paris", "csrf_token": csrf_token_from(profile),
    })
    assert response.status_code == 302
    assert reload(member).name == "Mia Renamed"


def test_a_token_from_another_session_is_refused(strict_app, member, make_user, sign_in_as):
    attacker = sign_in_as(strict_app.test_client(), make_user(password=None))
    stolen = csrf_token_from(attacker.get("/profile").get_data(as_text=True))
    victim = sign_in_as(strict_app.test_client(), member)
    response = victim.post("/profile/tokens", data={"name": "Planted", "csrf_token": stolen})
    assert response.status_code == 400
    assert nothing_written()["tokens"] == []


# --- Password storage -----------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(app, member):
    stored = member.password_hash
    assert TEST_PASSWORD not in stored
    assert stored.startswith("$argon2id$")
    assert extract_parameters(stored).type is Type.ID
    assert PasswordHasher().verify(stored, TEST_PASSWORD)


def test_same_password_gives_different_hashes(app):
    assert service.hash_password(TEST_PASSWORD) != service.hash_password(TEST_PASSWORD)


def test_weak_old_hash_is_upgraded_at_sign_in(app, make_user):
    user = make_user("old@example.org", password=None)
    # Weaker than the configured cost (the suite's cheap one is 64 KiB of memory).
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    assert app.config["ARGON2_MEMORY_COST"] > 8
    user.password_hash = weak.hash(TEST_PASSWORD)
    db.session.commit()
    assert service.authenticate(user.email, TEST_PASSWORD) is user
    upgraded = extract_parameters(user.password_hash)
    current = extract_parameters(service.hash_password(TEST_PASSWORD))
    assert (upgraded.time_cost, upgraded.memory_cost) == (current.time_cost, current.memory_cost)
    assert upgraded.memory_cost > 8
    assert service.authenticate(user.email, TEST_PASSWORD) is user


def test_production_config_hashes_at_the_library_cost(app_factory, tmp_path):
    """The suite hashes cheaply (tests/conftest.py); a site configured from an environment
    that says nothing about Argon2 hashes at the library's recommended cost, and signs in."""
    production = from_environment({})
    cost = {key: production[key] for key in CHEAP_PASSWORD_HASHING}
    assert cost == {
        "ARGON2_TIME_COST": argon2.DEFAULT_TIME_COST,
        "ARGON2_MEMORY_COST": argon2.DEFAULT_MEMORY_COST,
        "ARGON2_PARALLELISM": argon2.DEFAULT_PARALLELISM,
    }
    site = app_factory(f"sqlite:///{tmp_path / 'production-cost.sqlite'}", **cost)
    site.test_client_class = RequestIsolatedClient
    with site.app_context():
        db.create_all()
        user = service.create_user(email="prod@example.org", name="Pia Prod",
                                   password=TEST_PASSWORD)
        db.session.commit()
        first_hash = user.password_hash
        stored = extract_parameters(first_hash)
        # The m=, t= and p= of the stored "$argon2id$v=19$m=...,t=...,p=..." prefix.
        assert (stored.memory_cost, stored.time_cost, stored.parallelism) == (
            argon2.DEFAULT_MEMORY_COST, argon2.DEFAULT_TIME_COST, argon2.DEFAULT_PARALLELISM,
        )
        browser = site.test_client()
        response = browser.post("/login", data={"email": "prod@example.org",
                                                "password": TEST_PASSWORD})
        assert response.status_code == 302
        assert browser.get("/profile").status_code == 200
        # Signing in left the production-cost hash alone (no "upgrade" to a cheaper one).
        db.session.expire_all()
        assert db.session.get(type(user), user.id).password_hash == first_hash
        db.session.remove()
        db.engine.dispose()


# --- Production configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    "secret_key",
    [None, "", DEV_SECRET_KEY, "x" * 23],
    ids=["missing", "empty", "development-default", "too-short"],
)
def test_production_refuses_an_unsafe_secret_key(secret_key):
    config = {"ENV_NAME": "production"}
    if secret_key is not None:
        config["SECRET_KEY"] = secret_key
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_production_ready(config)


def test_production_accepts_a_long_random_secret_key():
    check_production_ready({"ENV_NAME": "production", "SECRET_KEY": "k" * 24})


def test_development_runs_with_the_default_secret_key():
    check_production_ready(from_environment({}))


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("BUYERGROUP_ENV", "production")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite'}")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    return monkeypatch


def test_create_app_in_production_without_secret_key_fails(production_env, tmp_path):
    with pytest.raises(ConfigError):
        create_app()
    assert not (tmp_path / "instance").exists()  # refused before touching anything


def test_create_app_in_production_with_a_secret_key_starts(production_env):
    production_env.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    assert create_app().config["ENV_NAME"] == "production"
