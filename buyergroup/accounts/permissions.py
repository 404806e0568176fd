"""Who is signed in, with which site role, and what that lets them do with accounts.

The one home of every accounts and admin rule: services call the ``require_*`` functions
before they change anything, views call the ``can_*`` functions to decide what to show and
pass the answers to templates as flags. Services receive ``current_user`` (a ``User``,
Flask-Login's anonymous user, or None in scripts); every rule in every domain starts from
these questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _

from buyergroup.errors import NotAllowed

if TYPE_CHECKING:
    from buyergroup.accounts.models import ApiToken, Invitation, Role, User


def is_signed_in(user: User | None) -> bool:
    """True for a signed-in member; False for a visitor, Flask-Login's anonymous user or None."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_site_organiser(user: User | None) -> bool:
    """Organisers and administrators of the whole site."""
    return is_signed_in(user) and bool(user.is_organiser)


def is_admin(user: User | None) -> bool:
    return is_signed_in(user) and bool(user.is_admin)


# --- The organisers' desk: requests to join and invitations ---------------------------------


def can_use_organisers_desk(user: User | None) -> bool:
    """Site organisers decide requests to join and send invitations."""
    return is_site_organiser(user)


def can_invite(user: User | None, role: Role | None = None) -> bool:
    """Organisers invite; nobody invites someone into a higher site role than their own."""
    if not is_site_organiser(user):
        return False
    return role is None or role.rank <= user.role.rank


def invitable_roles(user: User | None) -> list[Role]:
    from buyergroup.accounts.models import Role

    return [role for role in Role if can_invite(user, role)]


def require_can_invite(user: User | None, role: Role) -> None:
    if not is_site_organiser(user):
        raise NotAllowed(_("Only organisers and administrators can send invitations."))
    if not can_invite(user, role):
        raise NotAllowed(_("You cannot invite someone with a higher role than your own."))


def can_revoke_invitation(user: User | None, invitation: Invitation) -> bool:
    """Site organisers revoke invitations, except one into a working group that they could
    not have sent themselves (a group whose joining needs approval): that one is for its
    inviter, the group's organisers and administrators, or an organiser of another group
    could undo the group's own decisions."""
    if not is_site_organiser(user):
        return False
    if invitation.group_id is None or invitation.invited_by_id == user.id:
        return True
    from buyergroup.extensions import db
    from buyergroup.network.models import WorkingGroup
    from buyergroup.network.permissions import can_invite_to_group

    group = db.session.get(WorkingGroup, invitation.group_id)
    return group is None or can_invite_to_group(user, group)


def require_can_revoke_invitation(user: User | None, invitation: Invitation) -> None:
    if not can_revoke_invitation(user, invitation):
        raise NotAllowed()


def require_can_decide_join_requests(user: User | None) -> None:
    if not is_site_organiser(user):
        raise NotAllowed(_("Only organisers and administrators can do this."))


# --- Administrators: accounts and roles -----------------------------------------------------


def can_manage_accounts(user: User | None) -> bool:
    """Administrators list every account, change roles and (de)activate accounts."""
    return is_admin(user)


def can_set_active(actor: User | None, user: User) -> bool:
    """An administrator may (de)activate any account but their own."""
    return can_manage_accounts(actor) and actor.id != user.id


def require_can_change_roles(actor: User | None) -> None:
    if not can_manage_accounts(actor):
        raise NotAllowed(_("Only administrators can change roles."))


def require_can_set_active(actor: User | None) -> None:
    if not can_manage_accounts(actor):
        raise NotAllowed(_("Only administrators can deactivate accounts."))


# --- Members' own things ----------------------------------------------------------------------


def can_see_directory(user: User | None) -> bool:
    """The member directory and member pages are for members only."""
    return is_signed_in(user)


def is_own_account(user: User | None, member: User) -> bool:
    return is_signed_in(user) and user.id == member.id


def can_revoke_api_token(user: User | None, token: ApiToken) -> bool:
    return is_signed_in(user) and (token.user_id == user.id or bool(user.is_admin))


def require_can_revoke_api_token(user: User | None, token: ApiToken) -> None:
    if not can_revoke_api_token(user, token):
        raise NotAllowed()


# --- Privacy: what other members see of a member -----------------------------------------------


def can_see_email(viewer: User | None, member: User) -> bool:
    """A member's email: themselves, the administrators, and other members only when the
    member allows it (the default is no). Organisers see the emails of the registrations
    they run on their own pages (events), not here."""
    if not is_signed_in(viewer):
        return False
    return viewer.id == member.id or bool(viewer.is_admin) or bool(member.email_visible)


def is_listed_for(viewer: User | None, member: User) -> bool:
    """Whether ``viewer`` sees ``member`` in lists of people (the directory, the members of
    a group or organisation) and on their own page: a member who chose not to be listed
    is seen by themselves and the administrators only; everyone else finds nobody."""
    if not is_signed_in(viewer) or not member.is_active:
        return False
    return viewer.id == member.id or bool(viewer.is_admin) or bool(member.listed_in_directory)


def can_see_member_page(viewer: User | None, member: User) -> bool:
    """``/members/<id>``: listed members for members; an unlisted one also for the
    organisers of a group they belong to or asked to join (who decide about them)."""
    if is_listed_for(viewer, member):
        return True
    if not is_signed_in(viewer) or not member.is_active:
        return False
    from buyergroup.network.permissions import can_manage_group

    return any(can_manage_group(viewer, m.group) for m in member.memberships)
