"""Who may see and manage organisations and working groups: every network rule's one home.

Services call these before they change anything; views call them to decide what to show and
pass the answers to templates as flags.
"""

from __future__ import annotations

from flask_babel import gettext as _

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.errors import NotAllowed
from buyergroup.network.models import GroupRole, Organisation, WorkingGroup


def is_group_organiser(user: User | None, group: WorkingGroup) -> bool:
    if not is_signed_in(user):
        return False
    if user.is_admin:
        return True
    membership = group.membership_of(user)
    return bool(membership and membership.is_active and membership.role is GroupRole.organiser)


def can_manage_group(user: User | None, group: WorkingGroup) -> bool:
    return is_group_organiser(user, group)


def can_see_group(user: User | None, group: WorkingGroup) -> bool:
    if group.is_public:
        return True
    return is_signed_in(user)


def can_see_organisation(user: User | None, organisation: Organisation) -> bool:
    if organisation.is_public:
        return True
    return is_signed_in(user)


def require_organiser(user: User) -> None:
    if not user.is_organiser:
        raise NotAllowed(_("Only organisers and administrators can do this."))
