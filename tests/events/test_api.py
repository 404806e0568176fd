"""Events in API v1: listing with filters and pages, one event, registering with a token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from buyergroup.accounts.service import create_api_token
from buyergroup.events import service
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from tests.events.conftest import ZONE, event_data, local_days_ahead


def bearer(user) -> dict:
    _, secret = create_api_token(user, "script")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def schema_validator(client, name: str) -> Draft202012Validator:
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema)


def test_the_openapi_document_describes_the_event_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate_spec(document)
    assert {"get"} == set(document["paths"]["/api/v1/events"])
    assert {"post", "delete"} == set(document["paths"]["/api/v1/events/{event_id}/registration"])


def test_list_filters_and_pages(client, make_event, make_group, organiser):
    other = make_group("Servers group", organiser=organiser)
    for day in range(1, 4):
        make_event(title=f"Workshop {day}", starts_local=local_days_ahead(day))
    make_event(other, title="Dutch meeting", kind="meeting", language="nl")
    make_event(title="Last year", starts_local=local_days_ahead(-300))

    body = client.get("/api/v1/events?per_page=2").get_json()
    assert [e["title"] for e in body["items"]] == ["Workshop 1", "Workshop 2"]
    assert (body["total"], body["pages"]) == (4, 2)
    schema_validator(client, "EventPage").validate(body)

    def titles(query):
        return [e["title"] for e in client.get("/api/v1/events" + query).get_json()["items"]]

    assert titles("?language=nl") == ["Dutch meeting"]
    assert titles("?kind=meeting") == ["Dutch meeting"]
    assert titles(f"?group={other.slug}") == ["Dutch meeting"]
    assert titles(f"?group={other.id}") == ["Dutch meeting"]
    assert titles("?group=unknown") == []
    assert titles("?when=past") == ["Last year"]


def test_one_event_with_times_in_utc_and_local(client, make_event, organiser):
    event = make_event(capacity=3)
    service.save_agenda_item(organiser, event, starts_local=event_data().starts_local,
                             title="Welcome")
    db.session.commit()
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    schema_validator(client, "EventDetail").validate(body)
    assert body["timezone"] == ZONE
    assert body["starts_at"].endswith("+00:00")
    assert body["local_starts_at"].startswith(
        wall_clock(event.starts_at, ZONE).strftime("%Y-%m-%dT%H:%M"))
    assert body["video_url"] is None  # visitors never get the link
    assert body["seats_left"] == 3
    assert [a["title"] for a in body["agenda"]] == ["Welcome"]
    assert client.get("/api/v1/events/999").status_code == 404


def test_register_and_cancel_with_a_token(client, make_event, member, make_member):
    event = make_event(capacity=1)
    headers = bearer(member)
    response = client.post(f"/api/v1/events/{event.id}/registration", headers=headers)
    assert response.status_code == 201
    assert response.get_json()["state"] == "registered"
    schema_validator(client, "EventRegistration").validate(response.get_json())

    again = client.post(f"/api/v1/events/{event.id}/registration", headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "You are already registered for this event."

    mine = client.get(f"/api/v1/events/{event.id}", headers=headers).get_json()
    assert mine["my_registration"]["state"] == "registered"
    assert mine["video_url"] == "https://meet.example.org/fair-laptops"

    other = make_member()
    waiting = client.post(f"/api/v1/events/{event.id}/registration", headers=bearer(other))
    assert waiting.status_code == 201
    assert waiting.get_json() == {"state": "waiting", "waiting_position": 1,
                                  "registered_at": None, "show_name": False}

    cancelled = client.delete(f"/api/v1/events/{event.id}/registration", headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert service.counts(event) == (1, 0)  # the waiting member was promoted
    gone = client.delete(f"/api/v1/events/{event.id}/registration", headers=headers)
    assert gone.status_code == 404


@pytest.mark.parametrize("method", ["post", "delete"])
def test_writes_need_a_token(client, make_event, method):
    event = make_event()
    response = getattr(client, method)(f"/api/v1/events/{event.id}/registration")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_same_rules_as_the_site(client, make_event, make_user, member, organiser):
    outsider = make_user("outsider@example.org")
    event = make_event()
    refused = client.post(f"/api/v1/events/{event.id}/registration", headers=bearer(outsider))
    assert refused.status_code == 403
    closed = make_event(registration_closes_local=wall_clock(
        event.created_at - timedelta(hours=1), ZONE))
    response = client.post(f"/api/v1/events/{closed.id}/registration", headers=bearer(member))
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("Registration closed on")
