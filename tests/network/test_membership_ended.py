"""Ending a membership (removed by an organiser, or leaving) is announced to the domains
above the network, once the change is flushed; what the group keeps for its members is no
longer shown to the former member."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.network import service
from buyergroup.network.errors import LastOrganiser
from buyergroup.network.models import GroupMembership
from buyergroup.signals import membership_ended
from tests.conftest import Auth
from tests.library.conftest import fresh_search_index, make_item  # noqa: F401 - fixtures
from tests.network.pages import main_text


@pytest.fixture
def announcements():
    """What ``membership_ended`` receivers were told, with whether the row was still there."""
    heard = []

    def receiver(group, *, user, actor):
        row = db.session.scalar(
            select(GroupMembership).where(
                GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
            )
        )
        heard.append((group.slug, user.email, actor.email if actor else None, row is None))

    with membership_ended.connected_to(receiver):
        yield heard


def test_removing_a_member_is_announced_after_the_flush(
    announcements, organiser, member, make_group
):
    group = make_group("Fair laptops", organiser=organiser)
    membership = service.join_group(group, member)
    db.session.commit()
    service.remove_member(organiser, membership)
    assert announcements == [
        ("fair-laptops", "member@example.org", "organiser@example.org", True)
    ]


def test_leaving_is_announced_with_the_member_as_actor(
    announcements, organiser, member, make_group
):
    group = make_group("Fair laptops", organiser=organiser)
    service.join_group(group, member)
    db.session.commit()
    service.leave_group(group, member)
    assert announcements == [("fair-laptops", "member@example.org", "member@example.org", True)]


def test_a_request_to_join_that_ends_gave_nothing_and_is_not_announced(
    announcements, organiser, member, make_user, make_group
):
    group = make_group("Fair servers", organiser=organiser, join_policy="approval")
    service.join_group(group, member)
    service.leave_group(group, member)  # withdrawn
    applicant = make_user("applicant@example.org")
    service.decide_membership(organiser, service.join_group(group, applicant), approve=False)
    with pytest.raises(LastOrganiser):
        service.remove_member(organiser, group.membership_of(organiser))
    assert announcements == []


def test_removal_from_the_group_page_is_announced_once(
    announcements, client, auth, organiser, member, make_group
):
    group = make_group("Fair laptops", organiser=organiser)
    membership = service.join_group(group, member)
    db.session.commit()
    auth.login(organiser)
    response = client.post(f"/groups/{group.slug}/members/{membership.id}/remove")
    assert response.status_code == 302
    assert announcements == [
        ("fair-laptops", "member@example.org", "organiser@example.org", True)
    ]


def test_a_removed_member_no_longer_sees_the_groups_own_items(
    new_client, organiser, member, make_group, make_item  # noqa: F811 - the library's fixture
):
    group = make_group("Private X", organiser=organiser, is_public=False,
                       join_policy="approval")
    membership = service.add_member(group, member)
    db.session.commit()
    item = make_item(author=member, title="Group pilot notes", visibility="group",
                     group=group)
    reader = new_client()
    Auth(reader).login(member)
    assert "Group pilot notes" in main_text(reader.get(f"/groups/{group.slug}"))
    assert reader.get(f"/library/{item.id}").status_code == 200

    desk = new_client()
    Auth(desk).login(organiser)
    desk.post(f"/groups/{group.slug}/members/{membership.id}/remove")

    page = main_text(reader.get(f"/groups/{group.slug}"))
    assert "Group pilot notes" not in page
    assert "You are a member of this group" not in page
    assert reader.get(f"/library/{item.id}").status_code in (403, 404)
