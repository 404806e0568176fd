"""List pages cost a constant number of SQL statements, whatever the number of rows.

Counted with SQLAlchemy's ``before_cursor_execute`` over one whole request: a page that loads
something per row (a group, the viewer's registration, a participant's organisation) shows
up as a count that grows with the rows.
"""

from __future__ import annotations

import pytest

from buyergroup.events import service
from buyergroup.extensions import db
from tests.events.conftest import local_days_ahead
from tests.queries import statements, statements_for


@pytest.fixture
def other_group(make_group, organiser, member):
    """A second group, so the events of one page belong to several groups."""
    from buyergroup.network.service import add_member

    group = make_group("Open source buyers", organiser=organiser, languages=["en"])
    add_member(group, member)
    db.session.commit()
    return group


def make_events(count, make_event, group, other_group, member, make_member, start=0):
    """``count`` events in two groups; the member registered for each, others for some."""
    from buyergroup.network.service import add_member

    for index in range(start, start + count):
        event = make_event(target_group=group if index % 2 else other_group,
                           title=f"Session {index}", capacity=3,
                           starts_local=local_days_ahead(3 + index))
        service.register(member, event)
        if index % 3 == 0:
            other = make_member()  # a member of ``group``, and of the other group too
            add_member(other_group, other)
            service.register(other, event)
    db.session.commit()


@pytest.mark.parametrize("viewer", ["visitor", "member"])
def test_the_calendar_page_costs_the_same_for_2_and_20_events(
    client, auth, make_event, group, other_group, member, make_member, viewer
):
    if viewer == "member":
        auth.login(member)
    make_events(2, make_event, group, other_group, member, make_member)
    few = statements_for(client, "/events")
    make_events(18, make_event, group, other_group, member, make_member, start=2)
    many = statements_for(client, "/events")
    page = client.get("/events").get_data(as_text=True)
    assert "20 events" in page and "Session 19" in page
    assert len(many) == len(few), "\n".join(many)


def test_the_participant_list_costs_the_same_for_2_and_20_participants(
    client, auth, make_event, make_user, make_organisation, organiser
):
    from buyergroup.network.service import add_member

    event = make_event(capacity=3)
    auth.login(organiser)

    def add_people(count):
        people = []
        for _ in range(count):
            user = make_user(organisation=make_organisation())
            add_member(event.group, user)
            service.register(user, event)
            people.append(user)
        db.session.commit()
        return people

    # Every list of the page has someone: registered, waiting and cancelled.
    first = add_people(5)
    service.cancel_registration(first[0], event)
    db.session.commit()
    few = statements_for(client, f"/events/{event.id}/participants")
    later = add_people(18)
    service.cancel_registration(later[0], event)
    db.session.commit()
    many = statements_for(client, f"/events/{event.id}/participants")
    page = client.get(f"/events/{event.id}/participants").get_data(as_text=True)
    assert later[-1].name in page
    assert len(many) == len(few), "\n".join(many)


def test_my_calendar_costs_the_same_for_2_and_20_registrations(
    client, auth, make_event, group, other_group, member, make_member
):
    auth.login(member)
    make_events(2, make_event, group, other_group, member, make_member)
    few = statements_for(client, "/events/mine")
    make_events(18, make_event, group, other_group, member, make_member, start=2)
    many = statements_for(client, "/events/mine")
    assert "Session 19" in client.get("/events/mine").get_data(as_text=True)
    assert len(many) == len(few), "\n".join(many)


def test_the_api_list_costs_the_same_for_2_and_20_events(
    client, make_event, group, other_group, member, make_member
):
    from tests.events.test_api import bearer

    headers = bearer(member)
    make_events(2, make_event, group, other_group, member, make_member)
    client.get("/api/v1/events", headers=headers)
    with statements() as few:
        assert client.get("/api/v1/events", headers=headers).status_code == 200
    make_events(18, make_event, group, other_group, member, make_member, start=2)
    with statements() as many:
        listed = client.get("/api/v1/events", headers=headers).get_json()
    assert listed["total"] == 20
    assert all(item["my_registration"]["state"] == "registered" for item in listed["items"])
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("viewer", ["organiser", "participant", "waiting"])
def test_an_events_page_costs_the_same_for_2_and_20_participants(
    client, auth, make_event, make_user, make_organisation, organiser, viewer
):
    """The reader's own registration, the counts, the waiting position and the listed
    participants (with their organisations): the same statements for 2 people as for 20,
    and within issue 12's eight."""
    from buyergroup.network.service import add_member

    event = make_event(capacity=1 if viewer == "waiting" else None)

    def add_people(count):
        people = []
        for _ in range(count):
            user = make_user(organisation=make_organisation())
            add_member(event.group, user)
            service.register(user, event, show_name=True)
            people.append(user)
        db.session.commit()
        return people

    reader = organiser
    if viewer != "organiser":
        if viewer == "waiting":
            add_people(3)  # one seat: the first takes it, two wait
        reader = add_people(1)[0]
    auth.login(reader)
    add_people(2)
    few = statements_for(client, f"/events/{event.id}")
    later = add_people(18)
    many = statements_for(client, f"/events/{event.id}")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    if viewer == "waiting":
        assert "You are number 3 on the waiting list." in page
    else:
        assert later[-1].name in page
    assert len(many) == len(few) <= 8, "\n".join(many)
