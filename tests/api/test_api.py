"""The JSON API v1: public lists, bearer tokens, JSON errors and the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec

from buyergroup.accounts.service import create_api_token, revoke_api_token
from buyergroup.extensions import db
from buyergroup.network import service

# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def token(member):
    """A valid personal token of ``member``, committed as the profile page would."""
    _, secret = create_api_token(member, "My script")
    db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def network(make_organisation, make_group, organiser, member):
    """Public and hidden organisations and groups; ``member`` brings "Authority 1" (BE)."""
    ghent = make_organisation("Stad Gent", country="BE", kind="local_authority")
    service.add_affiliation(None, ghent, name="Electronics Watch", since=date(2020, 3, 1))
    make_organisation("Région Wallonne", country="BE")
    make_organisation("Ville de Lyon", country="FR", website="https://www.lyon.fr")
    make_organisation("Hidden Buyer", country="BE", is_public=False)
    make_group("Fair laptops", organiser=organiser, summary="Laptops made fairly")
    make_group("Fair servers", organiser=organiser, join_policy="approval")
    make_group("Secret pilots", organiser=organiser, is_public=False)
    db.session.commit()


def names(body: dict) -> list[str]:
    return [item["name"] for item in body["items"]]


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


# --- Public lists -----------------------------------------------------------------------------


class TestPublicLists:
    def test_organisations_without_a_token_are_the_public_ones(self, client, network):
        response = client.get("/api/v1/organisations")
        assert response.status_code == 200
        body = response.get_json()
        assert names(body) == ["Authority 1", "Région Wallonne", "Stad Gent", "Ville de Lyon"]
        assert body["total"] == len(body["items"]) == 4
        assert body["page"] == 1 and body["per_page"] == 20 and body["pages"] == 1
        ghent = next(item for item in body["items"] if item["name"] == "Stad Gent")
        assert ghent["kind"] == "local_authority"
        assert ghent["country"] == "BE"
        assert ghent["affiliations"] == [
            {"name": "Electronics Watch", "since": "2020-03-01", "until": None, "note": None}
        ]
        # Public addresses are built on BASE_URL, not on whatever host the request came to.
        assert ghent["url"] == f"http://buyergroup.test/organisations/{ghent['slug']}"

    def test_organisations_with_a_token_include_hidden_ones(self, client, network, token):
        body = client.get("/api/v1/organisations", headers=bearer(token)).get_json()
        assert "Hidden Buyer" in names(body)
        assert body["total"] == 5

    def test_organisations_filter_by_country(self, client, network):
        body = client.get("/api/v1/organisations?country=be").get_json()
        assert names(body) == ["Authority 1", "Région Wallonne", "Stad Gent"]
        assert body["total"] == 3
        assert client.get("/api/v1/organisations?country=PL").get_json()["items"] == []

    def test_organisations_are_paginated(self, client, network):
        first = client.get("/api/v1/organisations?per_page=3").get_json()
        second = client.get("/api/v1/organisations?per_page=3&page=2").get_json()
        assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 3, 4, 2)
        assert (second["page"], second["total"]) == (2, 4)
        assert len(first["items"]) == 3 and len(second["items"]) == 1
        assert not set(names(first)) & set(names(second))
        beyond = client.get("/api/v1/organisations?per_page=3&page=9").get_json()
        assert beyond["items"] == [] and beyond["total"] == 4

    @pytest.mark.parametrize("query", ["per_page=1000", "per_page=0", "per_page=-5",
                                       "per_page=abc"])
    def test_per_page_out_of_bounds_is_a_400_naming_it(self, client, network, query):
        response = client.get(f"/api/v1/organisations?{query}")
        assert response.status_code == 400
        assert response.get_json()["error"]["parameter"] == "per_page"
        assert client.get("/api/v1/organisations?per_page=100").get_json()["per_page"] == 100

    def test_page_below_one_is_a_400(self, client, network):
        response = client.get("/api/v1/organisations?page=-3")
        assert response.status_code == 400
        assert response.get_json()["error"]["parameter"] == "page"

    def test_groups_without_a_token_are_the_public_ones(self, client, network):
        body = client.get("/api/v1/groups?per_page=1").get_json()
        assert (body["total"], body["pages"]) == (2, 2)
        assert names(body) == ["Fair laptops"]
        laptops = body["items"][0]
        assert laptops["summary"] == "Laptops made fairly"
        assert laptops["join_policy"] == "open"
        assert laptops["languages"] == ["en"]
        assert laptops["member_count"] == 1
        assert laptops["url"] == "http://buyergroup.test/groups/fair-laptops"
        second = client.get("/api/v1/groups?per_page=1&page=2").get_json()
        assert names(second) == ["Fair servers"]

    def test_groups_with_a_token_include_hidden_ones(self, client, network, token):
        body = client.get("/api/v1/groups", headers=bearer(token)).get_json()
        assert names(body) == ["Fair laptops", "Fair servers", "Secret pilots"]

    def test_a_bad_token_on_a_public_list_gives_the_public_view(self, client, network):
        # An unknown token is not an error on public data, but it is not a key either.
        body = client.get("/api/v1/groups", headers=bearer("bg_not-a-token")).get_json()
        assert "Secret pilots" not in names(body)


# --- Tokens -----------------------------------------------------------------------------------


class TestAuthentication:
    @pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/members"])
    def test_no_token_is_401_json(self, client, member, path):
        response = client.get(path)
        error = assert_json_error(response, 401)
        assert error["code"] == "Unauthorized"
        assert "Bearer" in error["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "header",
        ["Bearer bg_wrong", "Bearer ", "Basic dXNlcjpwYXNz", "bg_missing-scheme"],
    )
    @pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/members"])
    def test_a_bad_token_is_401(self, client, member, token, path, header):
        response = client.get(path, headers={"Authorization": header})
        assert_json_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_a_revoked_token_is_401(self, client, member, token):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        for stored in member.api_tokens:
            revoke_api_token(member, stored)
        db.session.commit()
        error = assert_json_error(client.get("/api/v1/me", headers=bearer(token)), 401)
        assert "invalid or revoked" in error["message"]

    def test_a_deactivated_members_token_is_401(self, client, member, token, admin):
        from buyergroup.accounts.service import set_active

        set_active(admin, member, False)
        db.session.commit()
        assert_json_error(client.get("/api/v1/me", headers=bearer(token)), 401)

    def test_me_with_a_valid_token(self, client, member, token):
        response = client.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 200
        body = response.get_json()
        assert body["id"] == member.id
        assert body["name"] == "Mia Member"
        assert body["email"] == "member@example.org"
        assert body["role"] == "member"
        assert body["organisation"] == {
            "id": member.organisation.id, "name": member.organisation.name
        }
        db.session.expire_all()
        assert member.api_tokens[0].last_used_at is not None

    def test_the_token_is_not_remembered_by_the_next_request(self, client, member, token):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        assert client.get("/api/v1/me").status_code == 401

    def test_members_list_with_a_token(self, client, member, make_user, token):
        bert = make_user("bert@example.org", name="Bert Buyer", country="NL", job_title="Buyer")
        make_user("cleo@example.org", name="Cleo Clerk", country="FR")
        bert.email_visible = True  # Cleo keeps the default: members do not see her email
        db.session.commit()
        response = client.get("/api/v1/members", headers=bearer(token))
        assert response.status_code == 200
        body = response.get_json()
        assert names(body) == ["Bert Buyer", "Cleo Clerk", "Mia Member"]
        assert body["total"] == 3
        emails = {item["name"]: item.get("email") for item in body["items"]}
        assert emails["Bert Buyer"] == "bert@example.org"
        assert emails["Cleo Clerk"] is None
        bert = body["items"][0]
        assert bert["country"] == "NL" and bert["job_title"] == "Buyer"

        filtered = client.get("/api/v1/members?country=nl", headers=bearer(token)).get_json()
        assert names(filtered) == ["Bert Buyer"]
        searched = client.get("/api/v1/members?q=clerk", headers=bearer(token)).get_json()
        assert names(searched) == ["Cleo Clerk"]

    def test_a_signed_in_browser_can_read_its_own_data(self, client, auth, member):
        auth.login(member)
        assert client.get("/api/v1/me").get_json()["email"] == "member@example.org"

    def test_the_api_needs_no_csrf_token(self, app_factory, app, token):
        # Token clients cannot send a CSRF token; the blueprint is exempt.
        url = db.engine.url.render_as_string(hide_password=False)
        strict = app_factory(url, WTF_CSRF_ENABLED=True)
        try:
            response = strict.test_client().get("/api/v1/me", headers=bearer(token))
            assert response.status_code == 200
        finally:
            with strict.app_context():
                db.engine.dispose()


# --- Errors -----------------------------------------------------------------------------------


class TestErrors:
    def test_unknown_api_path_is_404_json(self, client):
        response = client.get("/api/v1/nothing")
        error = assert_json_error(response, 404)
        assert error["code"] == "NotFound"
        assert "<html" not in response.get_data(as_text=True).lower()

    def test_wrong_method_is_405_json(self, client):
        error = assert_json_error(client.post("/api/v1/organisations"), 405)
        assert error["code"] == "MethodNotAllowed"


# --- The OpenAPI document ---------------------------------------------------------------------


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/x/<int:id>`` -> ``/x/{id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def response_validator(document: dict, schema: dict) -> Draft202012Validator:
    """A JSON Schema validator for ``schema`` whose ``#/components/...`` refs resolve.

    The document's components are carried inside the root schema, so the OpenAPI-style
    local references point at them as they would in the document.
    """
    root = {**schema, "components": document["components"]}
    return Draft202012Validator(root, format_checker=FormatChecker())


class TestOpenAPI:
    @pytest.fixture
    def document(self, client):
        response = client.get("/api/v1/openapi.json")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        return response.get_json()

    def test_is_a_valid_openapi_3_1_document(self, document):
        assert document["openapi"].startswith("3.1")
        validate_spec(document)  # raises on any problem

    def test_every_api_route_is_documented(self, app, document):
        routes = {
            (openapi_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/v1/")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
        assert routes, "no API routes found"
        documented = {
            (path, method)
            for path, operations in document["paths"].items()
            for method in operations
            if method in {"get", "post", "put", "patch", "delete"}
        }
        assert routes - documented == set(), "routes missing from the OpenAPI document"
        assert documented - routes == set(), "documented paths the app does not serve"

    def test_protected_operations_declare_the_token_and_the_401(self, document):
        for path in ("/api/v1/me", "/api/v1/members"):
            operation = document["paths"][path]["get"]
            assert operation["security"] == [{"bearerAuth": []}]
            assert "401" in operation["responses"]
        scheme = document["components"]["securitySchemes"]["bearerAuth"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        assert "scope" in scheme["description"]

    def test_responses_match_their_documented_schemas(
        self, client, document, network, member, token, make_user
    ):
        make_user("bert@example.org", name="Bert Buyer", country="NL", languages=["nl"],
                  expertise=["laptops"])
        checked = 0
        for path, operations in document["paths"].items():
            operation = operations.get("get")
            if operation is None or "{" in path:
                continue
            for status, spec in operation["responses"].items():
                schema = spec.get("content", {}).get("application/json", {}).get("schema")
                if schema is None and "$ref" in spec:
                    name = spec["$ref"].rsplit("/", 1)[-1]
                    schema = document["components"]["responses"][name]["content"][
                        "application/json"]["schema"]
                if schema is None:
                    continue
                if status == "200" and operation.get("x-required-role") == "admin":
                    admin = make_user(f"admin-{checked}@example.org", role="admin")
                    secret = create_api_token(admin, "Admin script")[1]
                    db.session.commit()
                    response = client.get(path, headers=bearer(secret))
                elif status == "200":
                    response = client.get(path, headers=bearer(token))
                elif status == "401":
                    response = client.get(path)
                else:
                    continue
                assert response.status_code == int(status), (path, status)
                body = response.get_json()
                errors = sorted(
                    response_validator(document, schema).iter_errors(body), key=str
                )
                assert not errors, f"{path} {status}: {[e.message for e in errors]}"
                checked += 1
        assert checked >= 6

    def test_a_wrong_response_would_be_caught(self, document):
        # The check above is only worth something if it can fail.
        schema = document["paths"]["/api/v1/organisations"]["get"]["responses"]["200"][
            "content"]["application/json"]["schema"]
        validator = response_validator(document, schema)
        good = {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}
        assert validator.is_valid(good)
        assert not validator.is_valid({**good, "total": "0"})
        bad_item = {"id": 1, "slug": "x", "name": "X", "kind": "spaceship"}
        assert not validator.is_valid({**good, "items": [bad_item]})


# --- Lists: a constant number of statements ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/organisations", "/api/v1/groups", "/api/v1/members"])
def test_lists_ask_as_much_for_2_rows_as_for_8(client, token, make_organisation, make_group,
                                               make_user, organiser, path):
    # Each organisation's affiliations, each group's listed members, each member's
    # organisation: one lookup per row (or per member of each group) before.
    from tests.queries import statements

    counter = iter(range(100))

    def add(how_many: int) -> None:
        for _ in range(how_many):
            n = next(counter)
            body = make_organisation(f"Listed body {n:02d}")
            service.add_affiliation(None, body, name="Procura+", since=date(2020, 1, 1))
            group = make_group(f"Listed group {n:02d}", organiser=organiser)
            for m in range(2):
                service.add_member(group, make_user(f"p{n}-{m}@example.org",
                                                    name=f"Listed person {n:02d}-{m}",
                                                    organisation=body))
        db.session.commit()

    def count() -> tuple[int, dict]:
        client.get(path, headers=bearer(token))
        db.session.expire_all()
        with statements() as sent:
            body = client.get(path, headers=bearer(token)).get_json()
        return len(sent), body

    add(2)
    with_2, _ = count()
    add(6)
    with_8, body = count()
    assert with_8 == with_2
    items = {item.get("name"): item for item in body["items"]}
    if path.endswith("organisations"):
        assert items["Listed body 07"]["affiliations"][0]["name"] == "Procura+"
    elif path.endswith("groups"):
        assert items["Listed group 07"]["member_count"] == 3  # two members and the organiser
    else:
        assert items["Listed person 07-1"]["organisation"]["name"] == "Listed body 07"
