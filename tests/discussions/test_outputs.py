"""Outputs linked both ways: a library item names the events whose agenda or minutes link it,
each only to who may see the event (and its minutes)."""

from __future__ import annotations

from datetime import timedelta

from buyergroup.events import service as events
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemKind, ItemStatus, Visibility
from tests.events.conftest import event_data, local_days_ahead


def _item(author):
    item = library.create_item(None, created_by=author, kind=ItemKind.clause,
                               title="Living wage clause", language="en", body="x",
                               status=ItemStatus.published, visibility=Visibility.public)
    db.session.commit()
    return item


def _workshop_discussing(item, group, organiser, title: str, days_ahead: int):
    """An event in ``group`` with ``item`` on its agenda."""
    starts = local_days_ahead(days_ahead)
    workshop = events.create_event(organiser, group, event_data(title=title, starts_local=starts))
    events.save_agenda_item(organiser, workshop, starts_local=starts + timedelta(minutes=30),
                            title="Wages in assembly plants", library_item_ids=[item.id])
    return workshop


def test_the_item_page_names_the_workshop_that_discussed_it(client, auth, public_group,
                                                             public_people):
    item = _item(public_people.member)
    _workshop_discussing(item, public_group, public_people.organiser, "Workshop 4", 3)
    db.session.commit()
    page = client.get(f"/library/{item.id}")
    assert "Discussed at" in page.text and "Workshop 4" in page.text
    assert "on the agenda" in page.text


def test_minutes_link_only_for_who_may_read_them(client, auth, private_group, private_people,
                                                 public_group, public_people):
    item = _item(public_people.member)
    meeting = events.create_event(private_people.organiser, private_group,
                                  event_data(title="Closed meeting"))
    events.add_material(private_people.organiser, meeting, title="Minutes",
                        note=f"We agreed to use [the clause](/library/{item.id}).",
                        visibility="members", is_minutes=True, notify=False)
    events.add_material(private_people.organiser, meeting, title="Other minutes",
                        note=f"See /library/{item.id}0 for another item.",
                        visibility="members", is_minutes=True, notify=False)
    db.session.commit()
    # The private group's event is not named to a visitor.
    assert "Closed meeting" not in client.get(f"/library/{item.id}").text
    auth.login(private_people.outsider)
    page = client.get(f"/library/{item.id}")
    assert "Closed meeting" in page.text and "in the minutes" in page.text
    assert page.text.count("Closed meeting") == 1


def test_an_event_on_both_ways_is_named_once_and_a_near_miss_not_at_all(
        client, public_group, public_people):
    item = _item(public_people.member)
    workshop = _workshop_discussing(item, public_group, public_people.organiser, "Workshop 5", 5)
    for title in ("Minutes", "Minutes, part two"):
        events.add_material(public_people.organiser, workshop, title=title,
                            note=f"We used /library/{item.id} again.", visibility="public",
                            is_minutes=True, notify=False)
    elsewhere = events.create_event(public_people.organiser, public_group,
                                    event_data(title="Workshop 6"))
    events.add_material(public_people.organiser, elsewhere, title="Minutes",
                        note=f"Only /library/{item.id}1 was discussed.", visibility="public",
                        is_minutes=True, notify=False)
    db.session.commit()
    page = client.get(f"/library/{item.id}").text
    assert page.count("Workshop 5") == 1 and "on the agenda" in page
    assert "in the minutes" not in page
    assert "Workshop 6" not in page
