"""Organisation and working-group rules: who may create, join, leave and approve.

Functions flush but never commit: the request (or CLI command) owns the transaction.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from buyergroup.accounts.models import User
from buyergroup.database import slugify, utcnow
from buyergroup.errors import AlreadyExists, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.mail.service import queue_email
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
from buyergroup.network.permissions import (  # noqa: F401 - callers still import them here
    can_manage_group,
    can_see_group,
    can_see_organisation,
    is_group_organiser,
    require_organiser,
)

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
    if actor is not None:
        require_organiser(actor)
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
    if actor is not None:
        require_organiser(actor)
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
    require_organiser(actor)
    db.session.delete(affiliation)


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
        if group is None:
            require_organiser(actor)
        elif not can_manage_group(actor, group):
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


def leave_group(group: WorkingGroup, user: User) -> None:
    membership = group.membership_of(user)
    if membership is None:
        raise NotFound(_("You are not a member of this group."))
    if (
        membership.is_active
        and membership.role is GroupRole.organiser
        and len(group.organisers) == 1
    ):
        raise NotAllowed(
            _("You are this group's only organiser. Make another member organiser first.")
        )
    group.memberships.remove(membership)
    db.session.flush()


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
    if membership.role is GroupRole.organiser and role is not GroupRole.organiser:
        if len(group.organisers) == 1:
            raise NotAllowed(_("A group needs at least one organiser."))
    membership.role = role
    db.session.flush()


def remove_member(actor: User, membership: GroupMembership) -> None:
    group = membership.group
    if not can_manage_group(actor, group):
        raise NotAllowed(_("Only this group's organisers can remove members."))
    if membership.role is GroupRole.organiser and len(group.organisers) == 1:
        raise NotAllowed(_("A group needs at least one organiser."))
    group.memberships.remove(membership)
    db.session.flush()


def visible_groups(user: User | None):
    # lower(): SQLite (and PostgreSQL with the C collation) put "eGovernment" after "Zebra".
    query = select(WorkingGroup).order_by(func.lower(WorkingGroup.name))
    if user is None or not getattr(user, "is_authenticated", False):
        query = query.where(WorkingGroup.is_public.is_(True))
    return query


def visible_organisations(user: User | None):
    query = select(Organisation).order_by(func.lower(Organisation.name))
    if user is None or not getattr(user, "is_authenticated", False):
        query = query.where(Organisation.is_public.is_(True))
    return query


# Requests to join the network live in buyergroup.onboarding.service: that flow needs
# accounts too, so it sits above both.
