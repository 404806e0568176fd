"""Invitations into a working group: they skip the group's approval only when that group's
organiser (or an administrator) sends them, and the invitation page says what they grant."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.accounts import service as accounts
from buyergroup.accounts.models import Invitation, Role, User
from buyergroup.errors import NotAllowed
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from buyergroup.network import permissions, service
from buyergroup.network.models import GroupRole, MembershipState
from tests.conftest import body_of
from tests.network.pages import main_text

PASSWORD = "a long enough password"


@pytest.fixture
def groups(make_user, make_group):
    """Private group X (joining needs approval) and group Z, each with its own organiser."""
    x_organiser = make_user("x-organiser@example.org", role="organiser", name="Xena X")
    z_organiser = make_user("z-organiser@example.org", role="organiser", name="Zed Z")
    x = make_group("Private X", organiser=x_organiser, is_public=False, join_policy="approval")
    z = make_group("Group Z", organiser=z_organiser, join_policy="approval")
    return x, z, x_organiser, z_organiser


def invite(inviter, organisation, group, email="invitee@example.org", role=Role.member):
    invitation = accounts.invite(inviter=inviter, email=email, organisation=organisation,
                                 group=group, role=role)
    db.session.commit()
    return invitation


def link_to(mailbox, email="invitee@example.org") -> str:
    deliver_due()
    body = body_of(mailbox.last_to(email))
    link = next(word for word in body.split() if "/invitation/" in word)
    return link.removeprefix("http://buyergroup.test")


def accept(client, path):
    return client.post(path, data={
        "name": "Ivy Invitee", "password": PASSWORD, "confirm": PASSWORD, "locale": "en",
        "timezone": "Europe/Brussels",
    })


def membership(group, email="invitee@example.org"):
    db.session.rollback()
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    found = group.membership_of(user) if user else None
    return None if found is None else (found.state, found.role)


@pytest.mark.parametrize("role", [Role.member, Role.organiser])
def test_an_organiser_of_another_group_cannot_invite_into_a_group_with_approval(
    groups, make_organisation, mailbox, role
):
    x, _z, _x_organiser, z_organiser = groups
    with pytest.raises(NotAllowed) as refused:
        invite(z_organiser, make_organisation(), x, role=role)
    assert refused.value.field == "group_id"
    db.session.rollback()
    assert db.session.scalars(select(Invitation)).all() == []
    deliver_due()
    assert mailbox.to("invitee@example.org") == []


@pytest.mark.parametrize("who", ["x_organiser", "admin"])
def test_the_groups_organiser_or_an_admin_invites_straight_in(
    groups, make_user, make_organisation, mailbox, new_client, who
):
    x, _z, x_organiser, _z_organiser = groups
    inviter = x_organiser if who == "x_organiser" else make_user("admin@example.org",
                                                                  role="admin")
    invite(inviter, make_organisation("Stad Gent"), x)
    path = link_to(mailbox)
    invitee = new_client()
    page = main_text(invitee.get(path))
    assert "Your role on the site: Member." in page
    assert "Working group: Private X, with the role Member." in page
    assert accept(invitee, path).status_code == 302
    assert membership(x) == (MembershipState.active, GroupRole.member)


def test_into_an_open_group_any_site_organiser_may_invite(
    groups, make_group, make_organisation, mailbox
):
    _x, _z, _x_organiser, z_organiser = groups
    open_group = make_group("Open Y", join_policy="open")
    assert permissions.can_invite_to_group(z_organiser, open_group)
    assert not permissions.can_invite_to_group(z_organiser, open_group, GroupRole.organiser)
    invite(z_organiser, make_organisation(), open_group)


def test_an_invitation_that_may_no_longer_skip_approval_becomes_a_request(
    groups, make_group, make_organisation, mailbox, new_client
):
    """Invited into an open group that then started to need approval (or by an organiser
    who has since lost the right): accepting asks the group's organisers instead."""
    x, _z, x_organiser, z_organiser = groups
    y = make_group("Soon closed Y", organiser=x_organiser, join_policy="open")
    invite(z_organiser, make_organisation(), y)
    service.save_group(x_organiser, y, join_policy="approval")
    db.session.commit()
    path = link_to(mailbox)
    mailbox.clear()

    invitee = new_client()
    page = main_text(invitee.get(path))
    assert "Working group:" not in page
    assert ("Your request to join the working group Soon closed Y will go to its organisers"
            in page)
    assert accept(invitee, path).status_code == 302
    assert membership(y) == (MembershipState.pending, GroupRole.member)
    deliver_due()
    assert "Ivy Invitee" in body_of(mailbox.last_to("x-organiser@example.org"))


def test_the_invite_form_refuses_a_group_the_inviter_does_not_organise(
    client, auth, groups, make_organisation, mailbox
):
    x, _z, _x_organiser, z_organiser = groups
    organisation = make_organisation("Stad Gent")
    auth.login(z_organiser)
    response = client.post("/manage/invite", data={
        "email": "invitee@example.org", "organisation_id": str(organisation.id),
        "group_id": str(x.id), "role": "member", "locale": "en",
    })
    # Shown by the group field (or, with a 403, as the page's reason): either way, no
    # invitation is made and nothing is sent.
    assert response.status_code in (200, 403)
    assert "Only an organiser of Private X can invite people straight into it." in (
        main_text(response))
    db.session.rollback()
    assert db.session.scalars(select(Invitation)).all() == []
    deliver_due()
    assert mailbox.to("invitee@example.org") == []


def test_what_an_invitation_grants_when_the_inviter_is_gone(groups, make_group):
    x, _z, _x_organiser, _z_organiser = groups
    open_group = make_group("Open Y", join_policy="open")
    assert service.invited_group_grant(None, None) is None
    assert service.invited_group_grant(None, open_group.id).direct  # anyone may join it
    assert not service.invited_group_grant(None, x.id).direct  # its organisers decide
