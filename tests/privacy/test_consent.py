"""Each member's choices hold on every list that names people, for every role."""

from __future__ import annotations

import pytest

from buyergroup.events import service as events
from buyergroup.extensions import db
from buyergroup.network.service import add_member


def _hide(user, **choices):
    for name, value in choices.items():
        setattr(user, name, value)
    db.session.commit()


@pytest.fixture
def hidden(make_member, member):
    """A member of the group who chose not to be listed, with a findable job title."""
    user = make_member("hidden@example.org", name="Hilde Hidden", job_title="Laptop buyer")
    _hide(user, listed_in_directory=False)
    return user


@pytest.fixture
def outsider(make_user):
    return make_user("outsider@example.org", name="Otto Outsider")


def test_directory_leaves_out_unlisted_members_in_names_counts_and_search(
        client, auth, member, hidden, outsider):
    auth.login(outsider)
    page = client.get("/members").get_data(as_text=True)
    assert "Mia Member" in page and "Hilde Hidden" not in page
    assert "3 members found" in page  # Mia, Oscar and Otto: Hilde not counted
    searched = client.get("/members?q=laptop").get_data(as_text=True)
    assert "Hilde" not in searched and "0 members found" in searched
    assert client.get(f"/members/{hidden.id}").status_code == 404


def test_an_unlisted_member_is_seen_by_themselves_admins_and_their_group_organisers(
        client, auth, hidden, admin, organiser, outsider):
    for viewer, status in ((hidden, 200), (admin, 200), (organiser, 200), (outsider, 404)):
        auth.login(viewer)
        assert client.get(f"/members/{hidden.id}").status_code == status, viewer.email
        auth.logout()


def test_email_is_shown_only_with_consent(client, auth, member, outsider, admin):
    auth.login(outsider)
    assert "member@example.org" not in client.get(f"/members/{member.id}").get_data(as_text=True)
    _hide(member, email_visible=True)
    assert "member@example.org" in client.get(f"/members/{member.id}").get_data(as_text=True)
    _hide(member, email_visible=False)
    auth.logout()
    for viewer in (member, admin):
        auth.login(viewer)
        assert "member@example.org" in client.get(
            f"/members/{member.id}").get_data(as_text=True)
        auth.logout()


def test_group_and_organisation_member_lists(client, auth, group, hidden, member, organiser,
                                             outsider, make_organisation):
    org = make_organisation("City of Ghent")
    hidden.organisation = org
    db.session.commit()
    auth.login(outsider)
    page = client.get(f"/groups/{group.slug}").get_data(as_text=True)
    assert "Mia Member" in page and "Hilde Hidden" not in page
    assert "Hilde Hidden" not in client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    auth.logout()
    auth.login(member)  # a fellow member of the group
    assert "Hilde Hidden" not in client.get(f"/groups/{group.slug}").get_data(as_text=True)
    auth.logout()
    auth.login(organiser)  # the group's organiser runs it: sees every member
    assert "Hilde Hidden" in client.get(f"/groups/{group.slug}").get_data(as_text=True)
    auth.logout()
    auth.login(hidden)
    assert "Hilde Hidden" in client.get(f"/organisations/{org.slug}").get_data(as_text=True)


def test_api_members_respects_directory_and_email_choices(client, member, hidden, outsider,
                                                          token_of):
    _hide(outsider, email_visible=True)
    body = client.get("/api/v1/members", headers=token_of(member)).get_json()
    by_name = {m["name"]: m for m in body["items"]}
    assert "Hilde Hidden" not in by_name and body["total"] == 3
    assert by_name["Otto Outsider"]["email"] == "outsider@example.org"
    assert by_name["Mia Member"]["email"] == "member@example.org"  # one's own
    other = client.get("/api/v1/members", headers=token_of(outsider)).get_json()
    assert "email" not in {m["name"]: m for m in other["items"]}["Mia Member"]


# --- Participant lists ------------------------------------------------------------------------


def _register(client, auth, user, event, *, show: bool):
    auth.login(user)
    data = {"show_name": "y"} if show else {}
    assert client.post(f"/events/{event.id}/register", data=data).status_code == 302
    auth.logout()


def _who_is_coming(page: str) -> str:
    start = page.find('id="participants"')
    return page[start:page.find("</section>", start)] if start >= 0 else ""


def test_registration_asks_and_defaults_to_not_showing_the_name(client, auth, member,
                                                                make_event):
    event = make_event(title="Fair laptops workshop")
    auth.login(member)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Show my name on the participant list" in page
    box = page[page.find('name="show_name"') - 80:page.find('name="show_name"') + 80]
    assert "checked" not in box


def test_participants_see_only_who_consented_organisers_see_everyone(
        client, auth, member, make_member, organiser, outsider, admin, make_event):
    event = make_event(title="Fair laptops workshop")
    shy = make_member("shy@example.org", name="Sam Shy")
    open_ = make_member("open@example.org", name="Olga Open")
    bystander = make_member("by@example.org", name="Bea Bystander")
    _register(client, auth, shy, event, show=False)
    _register(client, auth, open_, event, show=True)
    _register(client, auth, member, event, show=False)

    for viewer in (member, open_, organiser, admin):  # participants and those who run it
        auth.login(viewer)
        listed = _who_is_coming(client.get(f"/events/{event.id}").get_data(as_text=True))
        assert "Olga Open" in listed and "Sam Shy" not in listed, viewer.email
        assert "shy@example.org" not in listed
        auth.logout()
    for viewer in (bystander, outsider):  # not registered: no list at all
        auth.login(viewer)
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
        assert "Olga Open" not in page and "Sam Shy" not in page, viewer.email
        auth.logout()
    assert "Olga Open" not in client.get(f"/events/{event.id}").get_data(as_text=True)

    auth.login(organiser)  # the organiser's own page and CSV: every registration
    full = client.get(f"/events/{event.id}/participants").get_data(as_text=True)
    assert "Sam Shy" in full and "Olga Open" in full
    csv_text = client.get(f"/events/{event.id}/participants.csv").get_data(as_text=True)
    rows = {line.split(",")[0]: line for line in csv_text.splitlines()[1:]}
    assert rows["Olga Open"].endswith(",yes") and rows["Sam Shy"].endswith(",no")
    auth.logout()
    for viewer in (member, outsider):
        auth.login(viewer)
        assert client.get(f"/events/{event.id}/participants").status_code in (403, 404)
        assert client.get(f"/events/{event.id}/participants.csv").status_code in (403, 404)
        auth.logout()


def test_withdrawing_consent_removes_the_name_at_once(client, auth, make_member, member,
                                                     make_event):
    event = make_event()
    open_ = make_member("open@example.org", name="Olga Open")
    _register(client, auth, open_, event, show=True)
    _register(client, auth, member, event, show=False)
    auth.login(open_)
    client.post("/profile/privacy", data={"listed_in_directory": "y"})
    auth.logout()
    auth.login(member)
    assert "Olga Open" not in _who_is_coming(
        client.get(f"/events/{event.id}").get_data(as_text=True))
    auth.logout()
    # ... and it can be given again for one event from the event page.
    auth.login(open_)
    client.post(f"/events/{event.id}/show-name", data={"show_name": "y"})
    auth.logout()
    auth.login(member)
    assert "Olga Open" in _who_is_coming(
        client.get(f"/events/{event.id}").get_data(as_text=True))


def test_an_organiser_adding_someone_never_consents_for_them(make_member, organiser,
                                                             make_event):
    event = make_event()
    added = make_member("added@example.org", name="Ada Added")
    events.register(added, event, actor=organiser, show_name=True)
    db.session.commit()
    assert events.listed_participants(event) == []


def test_comment_header_does_not_link_an_unlisted_member(client, auth, hidden, outsider,
                                                         make_item):
    from buyergroup.library import service as library

    item = make_item(outsider, title="Servers clause")
    library.add_comment(hidden, item, "We used this in 2024.")
    db.session.commit()
    auth.login(outsider)
    page = client.get(f"/library/{item.id}").get_data(as_text=True)
    assert "Hilde Hidden" in page  # the byline of what she wrote
    assert f'href="/members/{hidden.id}"' not in page
    assert "hidden@example.org" not in page


def test_group_membership_is_visible_to_its_organiser_for_a_join_request(
        client, auth, make_user, make_group, organiser):
    group = make_group("Approval group", organiser=organiser, join_policy="approval")
    asker = make_user("asker@example.org", name="Asa Asker")
    _hide(asker, listed_in_directory=False)
    add_member(group, asker)
    db.session.commit()
    auth.login(organiser)
    assert client.get(f"/members/{asker.id}").status_code == 200


def test_api_registration_asks_too(client, make_member, make_event, token_of):
    event = make_event()
    quiet, loud = make_member("q@example.org", name="Quinn Quiet"), make_member(
        "l@example.org", name="Lou Loud")
    assert client.post(f"/api/v1/events/{event.id}/registration",
                       headers=token_of(quiet)).get_json()["show_name"] is False
    response = client.post(f"/api/v1/events/{event.id}/registration", json={"show_name": True},
                           headers=token_of(loud))
    assert response.status_code == 201 and response.get_json()["show_name"] is True
    db.session.expire_all()
    assert [r.user.name for r in events.listed_participants(event)] == ["Lou Loud"]


def test_member_counts_count_only_who_the_lists_show(client, auth, group, hidden, member,
                                                     organiser, outsider, token_of):
    """A count larger than the list would tell that someone unlisted is in the group."""
    listed = len(group.active_memberships) - 1  # everyone but Hilde
    for reader in (None, outsider, member):
        if reader is not None:
            auth.login(reader)
        for url in (f"/groups/{group.slug}", "/groups"):
            page = client.get(url).get_data(as_text=True)
            assert f"{listed} members" in page or f"<dd>{listed}</dd>" in page, (reader, url)
            assert f"{listed + 1} members" not in page and f"<dd>{listed + 1}</dd>" not in page
        if reader is not None:
            auth.logout()
    groups = client.get("/api/v1/groups", headers=token_of(member)).get_json()["items"]
    assert {g["slug"]: g["member_count"] for g in groups}[group.slug] == listed
    auth.login(organiser)  # who runs the group sees how many are really in it
    assert f"<dd>{listed + 1}</dd>" in client.get(f"/groups/{group.slug}").get_data(
        as_text=True)
