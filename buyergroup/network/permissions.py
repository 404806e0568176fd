"""Who may see and manage organisations and working groups: every network rule's one home.

Services call these before they change anything; views call them to decide what to show and
pass the answers to templates as flags (templates never re-derive a rule).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import String, cast, func, select

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_admin, is_signed_in, is_site_organiser
from buyergroup.accounts.sessions import Companion, load_with_member
from buyergroup.database import keep_until_flush, kept_until_flush
from buyergroup.errors import NotAllowed
from buyergroup.extensions import db
from buyergroup.network.models import (
    GroupMembership,
    GroupRole,
    JoinPolicy,
    MembershipState,
    Organisation,
    WorkingGroup,
)

# --- Organisations --------------------------------------------------------------------------


def can_see_organisation(user: User | None, organisation: Organisation) -> bool:
    """Public organisations for everyone; hidden ones for signed-in members only."""
    if organisation.is_public:
        return True
    return is_signed_in(user)


def can_see_organisation_members(user: User | None, organisation: Organisation) -> bool:
    """Who works where is for members of the network, not for visitors."""
    return is_signed_in(user) and can_see_organisation(user, organisation)


def can_edit_organisation(user: User | None, organisation: Organisation | None = None) -> bool:
    """Site organisers and administrators keep the organisations: add one (``organisation``
    None), edit it, record its affiliations. A member cannot edit even their own."""
    return is_site_organiser(user)


# --- Working groups -------------------------------------------------------------------------

def active_group_roles(user: User | None) -> dict[int, GroupRole]:
    """The groups ``user`` is an active member of, with their role in each.

    Asked once per transaction and user (a list page asked three times) and kept until the
    next flush (``kept_until_flush``), so a membership changed in this transaction is seen
    at once. The session loader learns them for the signed-in member (``load_with_member``
    below), so most pages never ask."""
    if not is_signed_in(user):
        return {}

    def ask() -> dict[int, GroupRole]:
        rows = db.session.execute(
            select(GroupMembership.group_id, GroupMembership.role).where(
                GroupMembership.user_id == user.id,
                GroupMembership.state == MembershipState.active,
            )
        )
        return {group_id: role for group_id, role in rows}

    return kept_until_flush(("active_group_roles", user.id), ask)


def _roles_column(user_id):
    """The member's active groups and roles as one text ("3:organiser,12:member"): a column
    beside the account, where an outer join would give a row per group."""
    pair = (cast(GroupMembership.group_id, String) + ":"
            + cast(GroupMembership.role, String))
    return (
        select(func.aggregate_strings(pair, ","))
        .where(GroupMembership.user_id == user_id,
               GroupMembership.state == MembershipState.active)
        .scalar_subquery()
    )


def _keep_loaded_roles(user: User, joined: str | None) -> None:
    pairs = (pair.partition(":") for pair in (joined or "").split(",") if pair)
    roles = {int(group_id): GroupRole(role) for group_id, _, role in pairs}
    keep_until_flush(("active_group_roles", user.id), roles)


# Nearly every signed-in page asks for the member's groups: they come with the account, in
# the session loader's one statement (one statement less on every signed-in page).
load_with_member(Companion(column=_roles_column, receive=_keep_loaded_roles))


def _active_role(user: User, group: WorkingGroup) -> GroupRole | None:
    """``user``'s role in ``group`` while an active member. From the group's memberships
    when the page loaded them (they include one added in this request), else from the
    member's kept roles (no query on most pages: the group's whole member list was loaded
    to find one row)."""
    if "memberships" in group.__dict__:
        membership = group.membership_of(user)
        active = membership is not None and membership.state is MembershipState.active
        return membership.role if active else None
    return active_group_roles(user).get(group.id)



def can_see_group(user: User | None, group: WorkingGroup) -> bool:
    """The group's page: public groups for everyone, the others for signed-in members.

    Seeing the page is not membership: what a group keeps for its members (group-only
    library items, members-only events) asks ``is_group_member``.
    """
    if group.is_public:
        return True
    return is_signed_in(user)


def can_see_group_members(user: User | None, group: WorkingGroup) -> bool:
    """The names in a group's member list are for signed-in members; visitors see a count."""
    return is_signed_in(user) and can_see_group(user, group)


def is_group_member(user: User | None, group: WorkingGroup) -> bool:
    """An active member (any role); a pending request to join is not membership."""
    if not is_signed_in(user):
        return False
    return _active_role(user, group) is not None


def is_group_organiser(user: User | None, group: WorkingGroup) -> bool:
    """An active organiser of this group, or an administrator (who may act in any group).

    A site organiser who is not this group's organiser has no say in it.
    """
    if not is_signed_in(user):
        return False
    if is_admin(user):
        return True
    return _active_role(user, group) is GroupRole.organiser


def can_manage_group(user: User | None, group: WorkingGroup) -> bool:
    """Edit the group, decide requests to join, change roles, remove members."""
    return is_group_organiser(user, group)


def can_create_group(user: User | None) -> bool:
    """Site organisers and administrators start groups (and become their first organiser)."""
    return is_site_organiser(user)


def can_invite_to_group(
    actor: User | None, group: WorkingGroup | None, role: GroupRole = GroupRole.member
) -> bool:
    """Whether ``actor``'s invitation may make its invitee a member of ``group`` with ``role``.

    An invitation skips the group's own approval, so a group whose joining needs approval
    (and any invitation as organiser) needs that group's organiser or an administrator: an
    organiser of another group may not invite people into it. Into an open group, which any
    member may join with a click, any site organiser may invite a member.
    """
    if group is None:
        return True
    if group.join_policy is JoinPolicy.approval or role is GroupRole.organiser:
        return is_group_organiser(actor, group)
    return is_site_organiser(actor)


def require_organiser(user: User | None) -> None:
    """Refuse (403) anyone who is not a site organiser or administrator."""
    if not is_site_organiser(user):
        raise NotAllowed(_("Only organisers and administrators can do this."))


def require_can_invite_to_group(
    actor: User | None, group: WorkingGroup | None, role: GroupRole = GroupRole.member
) -> None:
    """Refuse (403, by the form's group field) an invitation ``actor`` may not send."""
    if not can_invite_to_group(actor, group, role):
        raise NotAllowed(
            _("Only an organiser of %(group)s can invite people straight into it.",
              group=group.name),
            field="group_id",
        )
