"""Who may read, draft, open, sign statements and keep roadmaps: every statement rule's home.

A draft is read by the group's members; a statement opened for signature (and later closed)
is public, with its signatories. The group's organisers draft, open and close it and keep
its roadmap. An organisation signs through a member it authorised (``SigningAuthority``),
recorded by the site organisers who keep the organisations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from buyergroup.accounts.permissions import is_admin, is_signed_in
from buyergroup.database import kept_until_flush
from buyergroup.extensions import db
from buyergroup.network.permissions import (
    can_edit_organisation,
    can_see_organisation,
    is_group_member,
    is_group_organiser,
)
from buyergroup.statements.models import (
    RoadmapAction,
    SigningAuthority,
    Statement,
    StatementState,
)

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.network.models import Organisation, WorkingGroup


def can_read(user: User | None, statement: Statement) -> bool:
    if statement.is_public:
        return True
    return is_admin(user) or is_group_member(user, statement.group)


def can_draft(user: User | None, group: WorkingGroup) -> bool:
    """The group's organisers start statements and write their versions."""
    return is_group_organiser(user, group)


def can_edit(user: User | None, statement: Statement) -> bool:
    """The text changes only while it is a draft: what was signed stays what was signed."""
    return statement.state is StatementState.draft and can_draft(user, statement.group)


def can_change_state(user: User | None, statement: Statement) -> bool:
    return can_draft(user, statement.group)


def can_keep_roadmap(user: User | None, statement: Statement) -> bool:
    return can_draft(user, statement.group)


def can_name_owner(user: User | None, action: RoadmapAction) -> bool:
    """A roadmap action names its owner only to whom may see the organisation: a public
    statement does not name an organisation hidden from visitors (its page is a 404 for
    them), which the group's organisers chose as owner, not the organisation itself."""
    return action.organisation is not None and can_see_organisation(user, action.organisation)


def can_grant_authority(user: User | None) -> bool:
    """Site organisers and administrators keep the organisations, and who signs for them."""
    return can_edit_organisation(user)


def may_sign_for(user: User | None, organisation: Organisation | None) -> bool:
    """``user`` belongs to ``organisation`` and it authorised them to sign on its behalf."""
    if not is_signed_in(user) or organisation is None:
        return False
    if user.organisation_id != organisation.id:
        return False

    def ask() -> bool:
        return db.session.scalar(
            select(SigningAuthority.id).where(
                SigningAuthority.organisation_id == organisation.id,
                SigningAuthority.user_id == user.id,
            )
        ) is not None

    # A statement's page asks twice (its sign button, its "you may sign" note).
    return kept_until_flush(("may_sign_for", user.id, organisation.id), ask)


def can_sign(user: User | None, statement: Statement) -> bool:
    """Open statements, by an authorised member of an organisation that has not signed."""
    if statement.state is not StatementState.open or not is_signed_in(user):
        return False
    organisation = user.organisation
    return (
        may_sign_for(user, organisation)
        and statement.signature_of(organisation.id) is None
    )
