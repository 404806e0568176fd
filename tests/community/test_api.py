"""The community endpoints of API v1: same rules as the pages, documented responses."""

from __future__ import annotations

import pytest

from buyergroup.accounts.models import TokenScope
from buyergroup.accounts.service import create_api_token
from buyergroup.extensions import db
from tests.api.test_api import response_validator


def bearer(user, scope="write") -> dict:
    _, secret = create_api_token(user, "script", scope=TokenScope(scope))
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def _check(document, path, method, status, body):
    schema = document["paths"][path][method]["responses"][str(status)]["content"][
        "application/json"]["schema"]
    response_validator(document, schema).validate(body)


def test_follow_list_and_unfollow(client, document, group, member, make_user):
    headers = bearer(member)
    created = client.post("/api/v1/follows", json={"target": "theme", "code": "circularity"},
                          headers=headers)
    assert created.status_code == 201, created.get_json()
    _check(document, "/api/v1/follows", "post", 201, created.get_json())
    assert created.get_json()["label"] == "Circularity"
    listed = client.get("/api/v1/follows", headers=headers).get_json()
    _check(document, "/api/v1/follows", "get", 200, listed)
    # The joined group is followed automatically.
    assert {(f["target"], f.get("target_id"), f.get("code")) for f in listed["items"]} == {
        ("group", group.id, None), ("theme", None, "circularity")
    }
    follow_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/follows/{follow_id}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/follows/{follow_id}", headers=headers).status_code == 404
    # Someone else's follow is not found either.
    other = make_user(name="Other")
    theirs = client.post("/api/v1/follows", json={"target": "group", "id": group.id},
                         headers=bearer(other)).get_json()["id"]
    assert client.delete(f"/api/v1/follows/{theirs}", headers=headers).status_code == 404


@pytest.mark.parametrize("body, status, field", [
    ({"target": "galaxy", "id": 1}, 400, "target"),
    ({"target": "group"}, 400, "id"),
    ({"target": "group", "id": True}, 400, "id"),
    ({"target": "group", "id": [1]}, 400, "id"),
    ({"target": "group", "id": 99999999999999999999}, 404, None),
    ({"target": "group", "id": "abc"}, 404, None),
    ({"target": "theme", "code": "nope"}, 404, None),
    ({"target": "item", "id": 424242}, 404, None),
])
def test_bad_follow_requests(client, member, body, status, field):
    response = client.post("/api/v1/follows", json=body, headers=bearer(member))
    assert response.status_code == status
    if field:
        assert field in response.get_json()["error"]["fields"]


def test_following_a_draft_of_someone_else_is_404(client, member, make_item):
    draft = make_item()
    response = client.post("/api/v1/follows", json={"target": "item", "id": draft.id},
                           headers=bearer(member))
    assert response.status_code == 404


def test_notifications_and_read(client, document, group, member, make_item, publish):
    publish(make_item(group=group, title="A new clause"))
    headers = bearer(member)
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    _check(document, "/api/v1/notifications", "get", 200, body)
    assert body["unread"] == 1
    assert body["items"][0]["message"] == "New in the library: A new clause"
    read = client.post("/api/v1/notifications/read", json={"ids": [body["items"][0]["id"]]},
                       headers=headers)
    assert read.get_json() == {"marked": 1, "unread": 0}
    assert client.get("/api/v1/notifications?unread=true",
                      headers=headers).get_json()["items"] == []
    assert client.post("/api/v1/notifications/read", json={"ids": "x"},
                       headers=headers).status_code == 400
    assert client.post("/api/v1/notifications/read", headers=headers).status_code == 200


def test_preferences(client, document, member, organiser):
    headers = bearer(member)
    body = client.get("/api/v1/me/preferences", headers=headers).get_json()
    _check(document, "/api/v1/me/preferences", "get", 200, body)
    assert body["preferences"]["new_item"] == "daily"
    assert "review" not in body["preferences"]  # organisers' kinds for organisers
    changed = client.put("/api/v1/me/preferences", json={"preferences": {"new_item": "weekly"}},
                         headers=headers)
    assert changed.status_code == 200
    assert changed.get_json()["preferences"]["new_item"] == "weekly"
    bad = client.put("/api/v1/me/preferences", json={"new_item": "hourly"}, headers=headers)
    assert bad.status_code == 400 and "new_item" in bad.get_json()["error"]["fields"]
    assert client.put("/api/v1/me/preferences", json={"review": "never"},
                      headers=headers).status_code == 400
    assert client.put("/api/v1/me/preferences", json={"review": "never"},
                      headers=bearer(organiser)).status_code == 200
    assert client.put("/api/v1/me/preferences", json={"new_item": "never"},
                      headers=bearer(member, scope="read")).status_code == 403


def test_library_review_as_on_the_pages(client, member, organiser, make_item):
    item = make_item(member, title="Mine")
    assert client.post(f"/api/v1/library/{item.id}/publish",
                       headers=bearer(member)).status_code == 403
    submitted = client.post(f"/api/v1/library/{item.id}/submit", headers=bearer(member))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    organiser_headers = bearer(organiser)
    no_reason = client.post(f"/api/v1/library/{item.id}/return", json={"reason": " "},
                            headers=organiser_headers)
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["error"]["fields"]
    returned = client.post(f"/api/v1/library/{item.id}/return",
                           json={"reason": "Please add the verification."},
                           headers=organiser_headers)
    assert returned.get_json()["status"] == "returned"
    client.post(f"/api/v1/library/{item.id}/submit", headers=bearer(member))
    published = client.post(f"/api/v1/library/{item.id}/publish", headers=organiser_headers)
    assert published.get_json()["status"] == "published"
    assert client.post("/api/v1/library/999999/submit",
                       headers=bearer(member)).status_code == 404
    assert client.post(f"/api/v1/library/{item.id}/submit").status_code == 401


@pytest.mark.parametrize("method, path", [
    ("delete", "/api/v1/follows/99999999999999999999"),
    ("post", "/api/v1/library/99999999999999999999/submit"),
    ("post", "/api/v1/library/99999999999999999999/return"),
])
def test_huge_ids_are_not_found(client, member, method, path):
    response = getattr(client, method)(path, json={"reason": "x"}, headers=bearer(member))
    assert response.status_code == 404


def test_read_ids_out_of_range_change_nothing(client, member):
    response = client.post("/api/v1/notifications/read",
                           json={"ids": [99999999999999999999, -1]}, headers=bearer(member))
    assert response.get_json() == {"marked": 0, "unread": 0}
