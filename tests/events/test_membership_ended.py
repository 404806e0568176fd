"""A member removed from a working group loses what the membership gave: their seats and
waiting-list places at its members-only upcoming events (and so the meeting link and the
participants-only minutes); the freed seats go to the waiting list, who are emailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from buyergroup import signals
from buyergroup.events import service
from buyergroup.events.models import RegistrationState
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from buyergroup.network.models import GroupMembership
from tests.conftest import body_of
from tests.events.conftest import local_days_ahead, reload

VIDEO_URL = "https://meet.example.org/fair-laptops"


def end_membership_as_the_network_does(group, user, actor) -> None:
    """What ``network.service.remove_member`` does: remove the row, flush, announce."""
    membership = db.session.scalar(
        select(GroupMembership).where(GroupMembership.group_id == group.id,
                                         GroupMembership.user_id == user.id)
    )
    group.memberships.remove(membership)
    db.session.flush()
    signals.membership_ended.send(group, user=user, actor=actor)


@pytest.fixture
def scene(group, make_event, make_member, organiser, mailbox):
    leaver = make_member(email="leaver@example.org", name="Lena Leaver")
    next_in_line = make_member(email="next@example.org", name="Nico Next")
    private = make_event(title="Members-only workshop", capacity=1, video_url=VIDEO_URL)
    waiting_too = make_event(title="Full members meeting", capacity=1,
                             starts_local=local_days_ahead(9))
    public = make_event(title="Open webinar", capacity=5, is_public=True,
                        starts_local=local_days_ahead(10))
    service.register(leaver, private)
    service.register(next_in_line, private)  # waits for the seat
    service.register(make_member(), waiting_too)
    service.register(leaver, waiting_too)  # waits
    service.register(leaver, public)
    service.add_material(organiser, private, title="Minutes", note="We agreed on spare parts.",
                         visibility="participants", is_minutes=True, notify=False)
    db.session.commit()
    deliver_due()
    mailbox.clear()
    return leaver, next_in_line, private, waiting_too, public


def test_removing_a_member_cancels_their_members_only_registrations(
    app, scene, group, organiser, mailbox
):
    leaver, next_in_line, private, waiting_too, public = scene

    end_membership_as_the_network_does(group, leaver, organiser)
    db.session.commit()

    assert reload(private).registration_of(leaver).state is RegistrationState.cancelled
    assert reload(waiting_too).registration_of(leaver).state is RegistrationState.cancelled
    # A public event takes every member: that registration stays.
    assert reload(public).registration_of(leaver).state is RegistrationState.registered
    # The freed seat went to the next in line, and the counter followed.
    private = reload(private)
    assert private.registration_of(next_in_line).state is RegistrationState.registered
    assert private.seats_taken == 1
    assert not service.may_see_private_details(reload(leaver), private)
    minutes = private.materials[0]
    assert not service.can_see_material(reload(leaver), minutes)

    deliver_due()
    promoted = mailbox.last_to(next_in_line.email)
    assert promoted["Subject"].startswith("A seat is yours")
    assert VIDEO_URL in promoted.as_string()
    told = mailbox.to(leaver.email)
    assert sorted(m["Subject"] for m in told) == [
        "Registration cancelled: Full members meeting",
        "Registration cancelled: Members-only workshop",
    ]
    assert "no longer a member of Fair ICT buyers" in " ".join(body_of(told[0]).split())
    assert all(VIDEO_URL not in m.as_string() for m in told)


def test_the_removed_member_sees_no_link_or_minutes_on_the_event_page(
    app, scene, group, organiser, client, auth
):
    leaver, _next, private, _waiting_too, _public = scene
    auth.login(leaver)
    before = client.get(f"/events/{private.id}").get_data(as_text=True)
    assert VIDEO_URL in before and "We agreed on spare parts." in before

    end_membership_as_the_network_does(group, leaver, organiser)
    db.session.commit()

    after = client.get(f"/events/{private.id}").get_data(as_text=True)
    assert VIDEO_URL not in after
    assert "We agreed on spare parts." not in after


def test_past_and_other_groups_events_are_left_alone(
    app, group, make_group, make_event, make_member, organiser
):
    from buyergroup.network.service import add_member

    leaver = make_member()
    other = make_group("Other buyers", organiser=organiser)
    add_member(other, leaver)
    db.session.commit()
    elsewhere = make_event(target_group=other, title="Elsewhere")
    here = make_event(title="Here")
    service.register(leaver, elsewhere)
    service.register(leaver, here)
    db.session.commit()
    # The event ended before the membership did: its attendance record stays as it was.
    here.starts_at -= timedelta(days=30)
    here.ends_at -= timedelta(days=30)
    db.session.commit()

    end_membership_as_the_network_does(group, leaver, organiser)
    db.session.commit()

    assert reload(here).registration_of(leaver).state is RegistrationState.registered
    assert reload(elsewhere).registration_of(leaver).state is RegistrationState.registered


def test_removal_through_the_network_service_if_it_announces_it(
    app, scene, group, organiser
):
    """Once ``network.service.remove_member`` sends ``membership_ended`` (the network
    domain's part of issue 8), removing through it has the same effect."""
    from buyergroup.network import service as network_service

    leaver, next_in_line, private, _waiting_too, _public = scene
    sent = []

    def witness(sender, **announced):
        sent.append(announced)

    with signals.membership_ended.connected_to(witness):
        network_service.remove_member(organiser, reload(group).membership_of(leaver))
        db.session.commit()
    if not sent:
        pytest.skip("network.service.remove_member does not send membership_ended yet")
    assert reload(private).registration_of(leaver).state is RegistrationState.cancelled
    assert reload(private).registration_of(next_in_line).state is RegistrationState.registered
