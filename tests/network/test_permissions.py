"""The network's rules in their one home, for every kind of person who may ask.

Roles: a visitor, a member outside the group, a member of it, its organiser, a site
organiser who organises another group, and an administrator.
"""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from buyergroup.extensions import db
from buyergroup.glossary.permissions import can_edit_glossary
from buyergroup.network import permissions, service
from buyergroup.network.models import GroupRole


@pytest.fixture
def people(make_user, make_group):
    group_organiser = make_user("x-organiser@example.org", role="organiser")
    other_organiser = make_user("z-organiser@example.org", role="organiser")
    group = make_group("Private X", organiser=group_organiser, is_public=False,
                       join_policy="approval")
    make_group("Group Z", organiser=other_organiser)
    inside = make_user("inside@example.org")
    service.add_member(group, inside)
    pending = make_user("pending@example.org")
    service.join_group(group, pending)
    db.session.commit()
    return group, {
        "visitor": AnonymousUserMixin(),
        "outsider": make_user("outside@example.org"),
        "pending": pending,
        "member": inside,
        "group_organiser": group_organiser,
        "other_organiser": other_organiser,
        "admin": make_user("admin@example.org", role="admin"),
    }


EXPECTED = {
    # who: (sees the group, sees its members, is a member, manages it)
    "visitor": (False, False, False, False),
    "outsider": (True, True, False, False),
    "pending": (True, True, False, False),
    "member": (True, True, True, False),
    "group_organiser": (True, True, True, True),
    "other_organiser": (True, True, False, False),
    "admin": (True, True, False, True),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_group_rules_for_each_role(people, who):
    group, by_role = people
    user = by_role[who]
    assert (
        permissions.can_see_group(user, group),
        permissions.can_see_group_members(user, group),
        permissions.is_group_member(user, group),
        permissions.can_manage_group(user, group),
    ) == EXPECTED[who]


@pytest.mark.parametrize("who", list(EXPECTED))
def test_organisations_and_the_glossary_are_kept_by_site_organisers(people, who):
    _group, by_role = people
    keeps = who in ("group_organiser", "other_organiser", "admin")
    assert permissions.can_edit_organisation(by_role[who]) is keeps
    assert permissions.can_create_group(by_role[who]) is keeps
    assert can_edit_glossary(by_role[who]) is keeps


def test_a_hidden_organisation_and_its_members_are_for_members(people, make_organisation):
    _group, by_role = people
    hidden = make_organisation("Quiet Body", is_public=False)
    assert not permissions.can_see_organisation(by_role["visitor"], hidden)
    assert not permissions.can_see_organisation_members(by_role["visitor"], hidden)
    assert permissions.can_see_organisation_members(by_role["outsider"], hidden)


def test_a_member_made_organiser_becomes_a_group_organiser(people):
    group, by_role = people
    assert permissions.is_group_organiser(by_role["group_organiser"], group)
    assert not permissions.is_group_organiser(by_role["member"], group)
    membership = group.membership_of(by_role["member"])
    service.set_member_role(by_role["group_organiser"], membership, GroupRole.organiser)
    assert permissions.is_group_organiser(by_role["member"], group)
