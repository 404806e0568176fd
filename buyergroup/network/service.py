"""Organisation and working-group rules: who may create, join, leave and approve.

Functions flush but never commit: the request (or CLI command) owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.service import with_listed_accounts
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction
from buyergroup.database import slugify, utcnow
from buyergroup.errors import AlreadyExists, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.mail.service import queue_email
from buyergroup.network.errors import LastOrganiser
from buyergroup.network.models import (
    Affiliation,
    GroupMembership,
    GroupRole,
    JoinPolicy,
    MembershipState,
    Organisation,
    OrganisationKind,
    WorkingGroup,
)
from buyergroup.network.permissions import (
    can_create_group,
    can_edit_organisation,
    can_invite_to_group,
    can_manage_group,
    can_see_group,
)
from buyergroup.signals import join_requested, membership_ended

# --- Organisations --------------------------------------------------------------------------


def _unique_slug(model, text: str, exclude_id: int | None = None) -> str:
    base = slugify(text)
    slug, n = base, 2
    while True:
        query = select(model.id).where(model.slug == slug)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        slug, n = f"{base}-{n}", n + 1


def get_organisation_by_name(name: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
    )


ORGANISATION_FIELDS = (
    "name", "short_name", "kind", "country", "website", "description", "is_public",
)


def save_organisation(actor: User | None, organisation: Organisation | None = None, **fields):
    """Create (``organisation`` None) or update an organisation; organisers and admins only.

    ``actor`` None is reserved for trusted callers such as the seed loader.
    """
    if actor is not None and not can_edit_organisation(actor, organisation):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    unknown = set(fields) - set(ORGANISATION_FIELDS)
    if unknown:
        raise TypeError(f"not organisation fields: {sorted(unknown)}")
    name = (fields.get("name") or (organisation.name if organisation else "")).strip()
    if not name:
        raise ValidationFailed(_("Please enter a name."), field="name")
    existing = get_organisation_by_name(name)
    if existing is not None and existing is not organisation:
        raise AlreadyExists(_("An organisation with this name already exists."), field="name")
    website = (fields.get("website") or "").strip()
    if website and not website.startswith(("http://", "https://")):
        raise ValidationFailed(_("Enter a web address starting with https://"), field="website")
    if organisation is None:
        organisation = Organisation(name=name, slug=_unique_slug(Organisation, name))
        db.session.add(organisation)
    organisation.name = name
    if "kind" in fields:
        organisation.kind = OrganisationKind(fields["kind"])
    elif organisation.kind is None:
        organisation.kind = OrganisationKind.other
    for field in ("short_name", "description"):
        if field in fields:
            setattr(organisation, field, (fields[field] or "").strip())
    if "website" in fields:
        organisation.website = website
    if "country" in fields:
        organisation.country = (fields["country"] or "").upper() or None
    if "is_public" in fields:
        organisation.is_public = bool(fields["is_public"])
    db.session.flush()
    return organisation


def add_affiliation(
    actor: User | None,
    organisation: Organisation,
    *,
    name: str,
    since: date | None = None,
    until: date | None = None,
    note: str = "",
) -> Affiliation:
    if actor is not None and not can_edit_organisation(actor, organisation):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    if not name.strip():
        raise ValidationFailed(_("Please enter a name."), field="name")
    if since and until and until < since:
        raise ValidationFailed(_("The end date must be after the start date."), field="until")
    for existing in organisation.affiliations:
        if existing.name == name.strip() and existing.since == since:
            return existing
    affiliation = Affiliation(name=name.strip(), since=since, until=until, note=note.strip())
    organisation.affiliations.append(affiliation)
    db.session.flush()
    return affiliation


def remove_affiliation(actor: User, affiliation: Affiliation) -> None:
    if not can_edit_organisation(actor, affiliation.organisation):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    db.session.delete(affiliation)
    db.session.flush()


# --- Working groups -------------------------------------------------------------------------

GROUP_FIELDS = (
    "name",
    "summary",
    "description",
    "languages",
    "join_policy",
    "is_public",
    "founded_on",
    "host_organisation",
)


def save_group(actor: User | None, group: WorkingGroup | None = None, **fields) -> WorkingGroup:
    """Create or update a working group. Creating needs a site organiser; editing, a group one.

    The creator becomes the group's first organiser.
    """
    if actor is not None:
        if group is None and not can_create_group(actor):
            raise NotAllowed(_("Only organisers and administrators can do this."))
        if group is not None and not can_manage_group(actor, group):
            raise NotAllowed(_("Only this group's organisers can change it."))
    unknown = set(fields) - set(GROUP_FIELDS)
    if unknown:
        raise TypeError(f"not group fields: {sorted(unknown)}")
    name = (fields.get("name") or (group.name if group else "")).strip()
    if not name:
        raise ValidationFailed(_("Please enter a name."), field="name")
    clash = db.session.scalar(
        select(WorkingGroup).where(func.lower(WorkingGroup.name) == name.lower())
    )
    if clash is not None and clash is not group:
        raise AlreadyExists(_("A working group with this name already exists."), field="name")
    creating = group is None
    if creating:
        group = WorkingGroup(name=name, slug=_unique_slug(WorkingGroup, name))
        db.session.add(group)
    group.name = name
    for field in ("summary", "description"):
        if field in fields:
            setattr(group, field, (fields[field] or "").strip())
    if "languages" in fields:
        group.languages = list(fields["languages"] or []) or ["en"]
    if "join_policy" in fields:
        group.join_policy = JoinPolicy(fields["join_policy"])
    if "is_public" in fields:
        group.is_public = bool(fields["is_public"])
    if "founded_on" in fields:
        group.founded_on = fields["founded_on"]
    if "host_organisation" in fields:
        group.host_organisation = fields["host_organisation"]
    db.session.flush()
    if creating and actor is not None:
        add_member(group, actor, role=GroupRole.organiser)
    return group


def add_member(
    group: WorkingGroup, user: User, role: GroupRole = GroupRole.member
) -> GroupMembership:
    """Make ``user`` an active member (or change their role); trusted callers only."""
    membership = group.membership_of(user)
    if membership is None:
        membership = GroupMembership(user=user, role=role)
        group.memberships.append(membership)
    membership.role = role
    if membership.state is not MembershipState.active:
        membership.state = MembershipState.active
    membership.joined_at = membership.joined_at or utcnow()
    db.session.flush()
    return membership


def join_group(group: WorkingGroup, user: User, message: str = "") -> GroupMembership:
    """Join an open group at once, or ask to join one that needs approval."""
    if not can_see_group(user, group):
        raise NotFound()
    existing = group.membership_of(user)
    if existing is not None:
        if existing.is_active:
            raise AlreadyExists(_("You are already a member of this group."))
        raise AlreadyExists(_("Your request to join is waiting for an organiser."))
    if group.join_policy is JoinPolicy.open:
        return add_member(group, user)
    membership = GroupMembership(
        user=user, role=GroupRole.member, state=MembershipState.pending, message=message.strip()
    )
    group.memberships.append(membership)
    db.session.flush()
    join_requested.send(group, request=membership)
    for organiser in group.organisers:
        queue_email(
            organiser.email,
            "group_join_request",
            locale=organiser.locale or "en",
            group=group,
            applicant=user,
            message=membership.message,
        )
    return membership


def _is_last_organiser(membership: GroupMembership) -> bool:
    """Whether ``membership`` is the group's only active organiser (see ``LastOrganiser``)."""
    return (
        membership.is_active
        and membership.role is GroupRole.organiser
        and len(membership.group.organisers) == 1
    )


def leave_group(group: WorkingGroup, user: User) -> None:
    membership = group.membership_of(user)
    if membership is None:
        raise NotFound(_("You are not a member of this group."))
    if _is_last_organiser(membership):
        raise LastOrganiser(
            _("You are this group's only organiser. Make another member organiser first.")
        )
    _end_membership(membership, actor=user)


def _end_membership(membership: GroupMembership, *, actor: User | None) -> None:
    """Remove a membership (or a request to join) and, once that is flushed, announce an
    ended membership so that domains above the network (events) take back what it gave.

    A withdrawn or declined request gave nothing: nothing is announced for it.
    """
    group, user, was_active = membership.group, membership.user, membership.is_active
    group.memberships.remove(membership)
    db.session.flush()
    if was_active:
        membership_ended.send(group, user=user, actor=actor)


def decide_membership(actor: User, membership: GroupMembership, approve: bool) -> None:
    group = membership.group
    if not can_manage_group(actor, group):
        raise NotAllowed(_("Only this group's organisers can approve members."))
    if membership.state is not MembershipState.pending:
        return  # already decided: approving twice changes nothing
    membership.decided_by_id = actor.id
    user = membership.user
    if approve:
        membership.state = MembershipState.active
        membership.joined_at = utcnow()
    else:
        group.memberships.remove(membership)
    db.session.flush()
    queue_email(
        user.email,
        "group_join_decision",
        locale=user.locale or "en",
        group=group,
        approved=approve,
    )


def set_member_role(actor: User, membership: GroupMembership, role: GroupRole) -> None:
    group = membership.group
    if not can_manage_group(actor, group):
        raise NotAllowed(_("Only this group's organisers can change roles."))
    if role is not GroupRole.organiser and _is_last_organiser(membership):
        raise LastOrganiser()
    if membership.role is not role:
        audit.record(
            AuditAction.group_role_changed, actor=actor, target=membership.user,
            details={"group": group.slug, "from": membership.role.value, "to": role.value},
        )
    membership.role = role
    db.session.flush()


def remove_member(actor: User, membership: GroupMembership) -> None:
    group = membership.group
    if not can_manage_group(actor, group):
        raise NotAllowed(_("Only this group's organisers can remove members."))
    if _is_last_organiser(membership):
        raise LastOrganiser()
    _end_membership(membership, actor=actor)


# --- Invitations into a group ---------------------------------------------------------------


@dataclass(frozen=True)
class GroupGrant:
    """What an invitation gives in a working group once accepted.

    ``direct``: the invitee becomes a member with ``role`` at once. Otherwise the inviter
    may not let them skip the group's approval (see ``can_invite_to_group``), and accepting
    sends the group's organisers a request to join instead.
    """

    group: WorkingGroup
    role: GroupRole
    direct: bool


def invited_group_grant(
    inviter: User | None, group_id: int | None, role: GroupRole = GroupRole.member
) -> GroupGrant | None:
    """The grant of an invitation by ``inviter`` into group ``group_id`` (None: no group)."""
    group = db.session.get(WorkingGroup, group_id) if group_id is not None else None
    if group is None:
        return None
    # An open group takes any member at once, whoever invited (even a since deleted account).
    anyone_may_join = role is GroupRole.member and group.join_policy is JoinPolicy.open
    return GroupGrant(
        group, role, direct=anyone_may_join or can_invite_to_group(inviter, group, role)
    )


def join_invited_group(
    inviter: User | None, group_id: int | None, user: User, role: GroupRole = GroupRole.member
) -> GroupMembership | None:
    """Attach the invitee of an accepted invitation to its group, as far as the inviter may.

    The inviter's right is checked again now (when they invited, and at acceptance): an
    invitation from someone who may not let the invitee skip the group's approval becomes
    a request to join that the group's organisers decide, as any member's would.
    """
    grant = invited_group_grant(inviter, group_id, role)
    if grant is None:
        return None
    if grant.direct:
        return add_member(grant.group, user, role=grant.role)
    return join_group(grant.group, user)


def visible_groups(user: User | None):
    # lower(): SQLite (and PostgreSQL with the C collation) put "eGovernment" after "Zebra".
    query = select(WorkingGroup).order_by(func.lower(WorkingGroup.name))
    if not is_signed_in(user):  # the query form of can_see_group
        query = query.where(WorkingGroup.is_public.is_(True))
    return query


def active_member_counts(group_ids: list[int]) -> dict[int, int]:
    """Active members per group id, for a list of groups in one query (missing: none).

    Only members listed in member lists count: the lists show no one else, and a count
    larger than the list would tell that someone unlisted is there."""
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(GroupMembership.group_id, func.count())
        .join(User, User.id == GroupMembership.user_id)
        .where(
            GroupMembership.group_id.in_(group_ids),
            GroupMembership.state == MembershipState.active,
            User.listed_in_directory.is_(True),
        )
        .group_by(GroupMembership.group_id)
    )
    return {group_id: count for group_id, count in rows}


def memberships_by_group(user: User | None) -> dict[int, GroupMembership]:
    """``user``'s memberships (active or asked for) by group id, in one query."""
    if not is_signed_in(user):
        return {}
    rows = db.session.scalars(select(GroupMembership).where(GroupMembership.user_id == user.id))
    return {membership.group_id: membership for membership in rows}


def group_page_loading() -> tuple:
    """Loader options for a group's page: its members with their accounts and organisations
    in one statement (not one query per member), and the host organisation with the group.

    A function, not a constant: building options configures the mappers, which must wait
    until every domain's models are imported.
    """
    return (*group_list_loading(), joinedload(WorkingGroup.host_organisation))


def group_list_loading() -> tuple:
    """Loader options for groups shown with their members or a count of them (a group's
    page, the API's groups): the memberships with their accounts in one statement, not one
    query each."""
    return (with_listed_accounts(
        selectinload(WorkingGroup.memberships).joinedload(GroupMembership.user)),)


def organisation_list_loading() -> tuple:
    """Loader options for a list of organisations with their affiliations (the API's)."""
    return (selectinload(Organisation.affiliations),)


def visible_organisations(user: User | None):
    query = select(Organisation).order_by(func.lower(Organisation.name))
    if not is_signed_in(user):  # the query form of can_see_organisation
        query = query.where(Organisation.is_public.is_(True))
    return query


# Requests to join the network live in buyergroup.onboarding.service: that flow needs
# accounts too, so it sits above both.
