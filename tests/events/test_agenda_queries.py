"""The event page costs the same number of queries however many library items its agenda cites."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buyergroup.events import service
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemStatus, Visibility
from tests.conftest import Auth
from tests.queries import count_for


def _library_item(author, title: str, **fields):
    return library.create_item(
        None, created_by=author, authors=[author], status=ItemStatus.published,
        kind="clause", language="en", body="The contractor ...", title=title, **fields,
    )


def add_agenda(event, organiser, group, count: int, start: int = 0) -> None:
    """``count`` agenda items, each citing a public and a group-only library item."""
    for n in range(start, start + count):
        public = _library_item(organiser, f"Public clause {n}", visibility=Visibility.public)
        private = _library_item(organiser, f"Group clause {n}", visibility=Visibility.group,
                                group=group)
        db.session.flush()
        service.save_agenda_item(
            organiser, event, starts_local=event_starts_local(event) + timedelta(minutes=n),
            title=f"Agenda item {n}", library_item_ids=[public.id, private.id],
        )
    db.session.commit()


def event_starts_local(event):
    return wall_clock(event.starts_at, event.timezone)


@pytest.mark.parametrize("viewer", ["visitor", "member", "outsider"])
def test_the_event_page_costs_the_same_for_2_and_12_cited_library_items(
    client, auth: Auth, make_event, make_user, organiser, group, member, viewer
):
    event = make_event(capacity=5)
    if viewer == "member":
        auth.login(member)
    elif viewer == "outsider":
        auth.login(make_user("outsider@example.org"))
    url = f"/events/{event.id}"
    add_agenda(event, organiser, group, 1)
    few = count_for(client, url)
    add_agenda(event, organiser, group, 5, start=1)
    many = count_for(client, url)
    page = client.get(url).get_data(as_text=True)
    assert "Agenda item 5" in page and "Public clause 5" in page
    # Group-only clauses only for the group's members.
    assert ("Group clause 5" in page) is (viewer == "member")
    assert many == few
