"""Erasing an account: the person goes everywhere, what they published stays."""

from __future__ import annotations

import pytest
from sqlalchemy import func, or_, select

from buyergroup.accounts.models import ApiToken, User, UserSession
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.community.models import Notification
from buyergroup.events import service as events
from buyergroup.events.models import CalendarFeed, Registration, RegistrationState
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.network.models import GroupMembership, Organisation
from tests.conftest import TEST_PASSWORD
from tests.privacy.conftest import reload


def _count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def contributions(member, group, organiser, make_member, make_event, make_item):
    """Mia published an item and commented on it, holds the last seat of a full event
    (Wim waits), has a calendar feed, and appears on the participant list."""
    item = make_item(member, title="Clause on conflict minerals",
                     body="Suppliers trace tin, tantalum, tungsten and gold.")
    library.add_comment(member, item, "We used this clause in Ghent.")
    event = make_event(title="Fair laptops workshop", capacity=1)
    events.register(member, event, show_name=True)
    waiter = make_member("wim@example.org", name="Wim Waiter")
    events.register(waiter, event)
    events.create_feed(member)
    db.session.commit()
    return item, event, waiter


def _erase(client, auth, user, confirm):
    auth.login(user)
    return client.post("/profile/erase", data={"confirm": confirm})


def test_a_wrong_confirmation_keeps_everything(client, auth, member, contributions):
    page = client.get("/profile/erase") if auth.login(member) else None
    assert "Erase my account" in page.get_data(as_text=True)
    response = client.post("/profile/erase", data={"confirm": "someone@example.org"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "This is not the email address of the account." in text
    assert 'value="someone@example.org"' in text  # what was typed is kept
    assert _count(User, User.id == member.id) == 1


def test_erasure_removes_the_person_and_keeps_what_they_published(
        app, client, auth, member, organiser, contributions, new_client):
    item, event, waiter = contributions
    member_id, organisation_id = member.id, member.organisation_id
    elsewhere = new_client()
    elsewhere.post("/login", data={"email": member.email, "password": TEST_PASSWORD})
    assert elsewhere.get("/profile").status_code == 200

    response = _erase(client, auth, member, " Member@Example.org ")
    assert response.status_code == 302
    assert "Your account has been erased." in client.get("/").get_data(as_text=True)
    assert client.get("/profile").status_code == 302  # signed out here...
    assert elsewhere.get("/profile").status_code == 302  # ...and everywhere

    assert _count(User, User.id == member_id) == 0
    for model, column in ((UserSession, UserSession.user_id), (ApiToken, ApiToken.user_id),
                          (CalendarFeed, CalendarFeed.user_id),
                          (Registration, Registration.user_id),
                          (GroupMembership, GroupMembership.user_id)):
        assert _count(model, column == member_id) == 0, model.__name__
    assert _count(Organisation, Organisation.id == organisation_id) == 1  # the organisation stays
    # The seat went to the waiting list.
    promoted = db.session.scalar(select(Registration).where(Registration.user_id == waiter.id))
    assert promoted.state is RegistrationState.registered

    # The published item and the comment stay, by a former member.
    page = client.get(f"/library/{item.id}").get_data(as_text=True)
    assert "Clause on conflict minerals" in page and "We used this clause in Ghent." in page
    assert "Former member" in page and "Mia Member" not in page
    for number in (v.number for v in reload(item).versions):
        version = client.get(f"/library/{item.id}/versions/{number}").get_data(as_text=True)
        assert "Mia Member" not in version
    # Search finds the item by its words, and nobody by her name.
    assert "Clause on conflict minerals" in client.get("/library?q=tantalum").get_data(
        as_text=True)
    assert "Mia Member" not in client.get("/library?q=Mia").get_data(as_text=True)

    # Nowhere a name is listed.
    auth.login(organiser)
    for path in ("/members", "/members?q=Mia", f"/events/{event.id}",
                 f"/events/{event.id}/participants", f"/events/{event.id}/participants.csv"):
        text = client.get(path).get_data(as_text=True)
        assert "Mia Member" not in text and "member@example.org" not in text, path
    assert client.get(f"/members/{member_id}").status_code == 404

    # The audit log keeps the erasure, not the person.
    db.session.rollback()
    erased = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == AuditAction.account_erased))
    assert erased.actor_id == member_id and erased.actor_erased
    assert not db.session.scalar(select(func.count()).select_from(AuditEntry).where(or_(
        AuditEntry.actor_email == "member@example.org",
        AuditEntry.target_label.in_(["member@example.org", "Mia Member"]),
        AuditEntry.actor_name == "Mia Member")))


def test_the_last_organiser_of_a_group_hands_over_first(client, auth, organiser, group):
    response = _erase(client, auth, organiser, organiser.email)
    assert response.status_code == 409
    assert "only organiser of Fair ICT buyers" in response.get_data(as_text=True)
    assert _count(User, User.id == organiser.id) == 1


def test_the_last_administrator_hands_over_first(client, auth, admin, make_user):
    response = _erase(client, auth, admin, admin.email)
    assert response.status_code == 409
    assert "only administrator" in response.get_data(as_text=True)
    make_user("second@example.org", role="admin")
    auth.logout()
    assert _erase(client, auth, admin, admin.email).status_code == 302
    assert _count(User, User.id == admin.id) == 0


def test_an_administrator_erases_a_member_on_request(client, auth, admin, member, organiser,
                                                     contributions):
    auth.login(organiser)  # a site organiser is not an administrator
    assert client.get(f"/manage/users/{member.id}/erase").status_code == 403
    assert client.post(f"/manage/users/{member.id}/erase",
                       data={"confirm": member.email}).status_code == 403
    auth.logout()
    auth.login(admin)
    users = client.get("/manage/users").get_data(as_text=True)
    assert f'href="/manage/users/{member.id}/erase"' in users
    page = client.get(f"/manage/users/{member.id}/erase").get_data(as_text=True)
    assert "Kept: 1 published library item" in page
    response = client.post(f"/manage/users/{member.id}/erase", data={"confirm": member.email})
    assert response.status_code == 302
    assert _count(User, User.id == member.id) == 0
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == AuditAction.account_erased))
    assert entry.actor_id == admin.id and entry.details == {"by": "administrator"}
    assert client.get("/manage/users").status_code == 200  # the admin is still signed in


def test_erasure_tells_other_domains(member, admin):
    from buyergroup.privacy import service
    from buyergroup.signals import member_erased

    told = []

    def receiver(user, **payload):
        told.append(payload)

    member_erased.connect(receiver)
    try:
        service.erase_member(admin, member, confirm=member.email)
    finally:
        member_erased.disconnect(receiver)
    assert told[0]["email"] == "member@example.org" and told[0]["actor"] is admin


# --- The API ------------------------------------------------------------------------------------


def test_api_erasure(client, member, token_of, contributions):
    headers = token_of(member)
    refused = client.delete("/api/v1/me", json={"confirm": "other@example.org"},
                            headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "ConfirmationMismatch"
    assert client.delete("/api/v1/me", data="{not json", headers={
        **headers, "Content-Type": "application/json"}).status_code == 400
    assert client.delete("/api/v1/me", json={"confirm": 5}, headers=headers).status_code == 400
    read_only = client.delete("/api/v1/me", json={"confirm": member.email},
                              headers=token_of(member, "read"))
    assert read_only.status_code == 403
    assert _count(User, User.id == member.id) == 1
    done = client.delete("/api/v1/me", json={"confirm": member.email}, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["erased"] is True
    assert _count(User, User.id == member.id) == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_erasure_of_the_last_organiser_is_a_409(client, organiser, group, token_of):
    response = client.delete("/api/v1/me", json={"confirm": organiser.email},
                             headers=token_of(organiser))
    assert response.status_code == 409
    assert "only organiser" in response.get_json()["error"]["message"]


def test_what_others_were_told_about_an_erased_member_goes_with_them(
        client, auth, member, organiser, make_item):
    item = make_item(organiser, title="Take-back clause")  # its author follows it
    library.add_comment(member, item, "Mia Member: we used this in Ghent.")
    db.session.commit()
    assert _count(Notification, Notification.user_id == organiser.id,
                  Notification.actor_id == member.id) == 1
    assert _erase(client, auth, member, member.email).status_code == 302
    assert _count(Notification, Notification.actor_id == member.id) == 0
    assert _count(Notification, Notification.user_id == organiser.id) == 0
