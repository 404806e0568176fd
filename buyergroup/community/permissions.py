"""Who may follow, read notifications and change preferences: the community rules' one home.

Following and being told follow the target's own rule (``targets``: each type names its
domain's ``can_see``); these add what is the community's own.
"""

from __future__ import annotations

from buyergroup.accounts.permissions import is_signed_in, is_site_organiser
from buyergroup.community import targets


def can_follow(user, target_type: str, target) -> bool:
    """Signed-in members follow what they may see, and only what can be followed."""
    if not is_signed_in(user) or not targets.known(target_type):
        return False
    kind = targets.get_type(target_type)
    return kind.followable and kind.can_view(user, target)


def can_be_told(user, target_type: str, target) -> bool:
    """A notification is made, and shown, only to an active member who may see its target."""
    if user is None or not user.is_active or not targets.known(target_type):
        return False
    return targets.get_type(target_type).can_view(user, target)


def owns(user, row) -> bool:
    """Follows and notifications are their member's own: nobody else's to see or change."""
    return is_signed_in(user) and row is not None and row.user_id == user.id


def receives_organiser_kinds(user) -> bool:
    """Review and join-request notifications are for organisers (site or group)."""
    if is_site_organiser(user):
        return True
    from buyergroup.network.models import GroupRole, MembershipState

    return is_signed_in(user) and any(
        m.state is MembershipState.active and m.role is GroupRole.organiser
        for m in user.memberships
    )
