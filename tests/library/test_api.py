"""The library in API v1: the same visibility and rules as the pages, as JSON."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import select

from buyergroup.accounts.service import create_api_token
from buyergroup.api.openapi import build_openapi
from buyergroup.extensions import db
from buyergroup.library.models import ItemStatus, LibraryItem, TranslationKind


def bearer(user) -> dict:
    _, secret = create_api_token(user, "script")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def schema_validator(name: str) -> Draft202012Validator:
    """Validate against a component schema of our own OpenAPI document."""
    document = build_openapi()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.fixture
def library(make_item):
    public = make_item(title="Public clause", body="Child labour is excluded.",
                       product_groups=["laptops"])
    members = make_item(title="Members report", kind="report", visibility="members",
                        body="Child labour audits compared.")
    return public, members


class TestReading:
    def test_visitors_get_public_items_with_facets(self, client, library):
        body = client.get("/api/v1/library?q=child").get_json()
        assert [i["title"] for i in body["items"]] == ["Public clause"]
        assert body["total"] == 1 and body["query"] == "child"
        assert body["facets"]["kind"] == [
            {"code": "clause", "label": "Contract clause", "count": 1, "selected": False}]
        assert "<mark>" in body["items"][0]["snippet"]
        schema_validator("LibraryPage").validate(body)

    def test_a_token_shows_members_items(self, client, member, library):
        body = client.get("/api/v1/library?sort=title", headers=bearer(member)).get_json()
        assert [i["title"] for i in body["items"]] == ["Members report", "Public clause"]
        assert {o["code"]: o["count"] for o in body["facets"]["kind"]} == {
            "clause": 1, "report": 1}

    def test_filters_and_pages(self, client, member, library):
        body = client.get("/api/v1/library?kind=report&per_page=1",
                          headers=bearer(member)).get_json()
        assert (body["total"], body["per_page"], body["pages"]) == (1, 1, 1)
        assert body["filters"] == {"kind": ["report"]}

    def test_a_query_error_is_reported_not_raised(self, client, library):
        response = client.get('/api/v1/library?q="open')
        assert response.status_code == 200
        assert response.get_json()["error"]

    def test_one_item_or_a_json_404(self, client, member, library):
        public, members = library
        body = client.get(f"/api/v1/library/{public.id}").get_json()
        assert body["title"] == "Public clause" and body["status"] == "published"
        assert body["url"] == f"http://buyergroup.test/library/{public.id}"
        schema_validator("LibraryItem").validate(body)
        hidden = client.get(f"/api/v1/library/{members.id}")
        assert hidden.status_code == 404 and hidden.mimetype == "application/json"
        assert hidden.get_json()["error"]["status"] == 404
        assert client.get(f"/api/v1/library/{members.id}",
                          headers=bearer(member)).status_code == 200


class TestCreating:
    def test_needs_a_token(self, client, member):
        response = client.post("/api/v1/library", json={"kind": "report", "title": "x",
                                                        "language": "en"})
        assert response.status_code == 401

    def test_a_member_creates_a_draft(self, client, member):
        payload = {
            "kind": "case_study", "title": "Fair mice in Leuven", "language": "en",
            "approach": "Market consultation.", "product_groups": ["peripherals"],
            "authors": ["Mia Member", "Luc Leuven"], "year": 2019, "visibility": "public",
        }
        response = client.post("/api/v1/library", json=payload, headers=bearer(member))
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["status"] == "draft" and body["authors"] == ["Mia Member", "Luc Leuven"]
        assert response.headers["Location"].endswith(f"/api/v1/library/{body['id']}")
        schema_validator("LibraryItem").validate(body)
        item = db.session.get(LibraryItem, body["id"])
        assert item.created_by_id == member.id and item.approach == "Market consultation."
        assert item.authors[0].user_id == member.id  # linked: she may edit it
        # A draft is not public yet.
        assert client.get(f"/api/v1/library/{body['id']}").status_code == 404

    def test_a_member_cannot_publish_an_organiser_can(self, client, member, organiser):
        payload = {"kind": "report", "title": "Report", "language": "en", "status": "published",
                   "visibility": "public"}
        refused = client.post("/api/v1/library", json=payload, headers=bearer(member))
        assert refused.status_code == 403
        assert db.session.scalar(select(LibraryItem)) is None
        created = client.post("/api/v1/library", json=payload, headers=bearer(organiser))
        assert created.status_code == 201
        assert created.get_json()["status"] == "published"
        assert client.get(f"/api/v1/library/{created.get_json()['id']}").status_code == 200

    @pytest.mark.parametrize(("payload", "fields"), [
        ({"kind": "report", "language": "en"}, {"title"}),
        ({"kind": "poem", "title": "x", "language": "en"}, {"kind"}),
        ({"kind": "report", "title": "x", "language": "xx"}, {"language"}),
        ({"kind": "report", "title": "x", "language": "en", "year": 1066}, {"year"}),
        ({"kind": "report", "title": "x", "language": "en", "themes": ["nonsense"]}, {"themes"}),
        ({"kind": "report", "title": "x", "language": "en", "themes": "labour"}, {"themes"}),
        ({"kind": "report", "title": "x", "language": "en", "source_url": "ftp://x"},
         {"source_url"}),
        ({"kind": "report", "title": "x", "language": "en", "visibility": "group"}, {"group"}),
        ({"kind": "report", "title": {"en": "x"}, "language": "en"}, {"title"}),
        ({"kind": "report", "title": "x", "language": "en", "colour": "red"}, {"colour"}),
        ({"kind": "report", "title": "x", "language": "en", "status": "archived"}, {"status"}),
    ], ids=["no title", "kind", "language", "year", "theme", "themes not a list", "url",
            "group missing", "title not text", "unknown field", "status"])
    def test_invalid_fields_are_a_400_with_a_message_each(self, client, member, payload, fields):
        response = client.post("/api/v1/library", json=payload, headers=bearer(member))
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert set(error["fields"]) == fields
        assert all(messages and all(messages) for messages in error["fields"].values())
        schema_validator("ValidationError").validate(response.get_json())

    def test_not_json_is_a_400(self, client, member):
        response = client.post("/api/v1/library", data="title=x", headers=bearer(member))
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "BadRequest"

    def test_a_translation_through_the_api(self, client, member, make_item):
        original = make_item(title="ILO core conventions", language="en")
        response = client.post("/api/v1/library", headers=bearer(member), json={
            "translation_of": original.id, "kind": "clause", "title": "Conventions de l'OIT",
            "language": "fr", "status": "submitted"})
        assert response.status_code == 201, response.get_json()
        item = db.session.get(LibraryItem, response.get_json()["id"])
        assert item.translation_key == original.translation_key
        assert item.translation_kind is TranslationKind.member
        assert item.status is ItemStatus.submitted


def test_the_openapi_document_describes_the_library_and_stays_valid(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate_spec(document)
    assert set(document["paths"]["/api/v1/library"]) == {"get", "post"}
    assert "/api/v1/library/{item_id}" in document["paths"]
    for name in ("LibraryItem", "LibraryItemInput", "LibraryPage", "ValidationError"):
        assert name in document["components"]["schemas"]
