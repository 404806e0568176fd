"""Becoming a member: requests to join the network, their decision, accepting invitations.

This flow needs both accounts (invitations, new accounts) and the network (organisations,
working groups), so it sits above both and imports them; neither imports it. Functions flush
but never commit: the request (or CLI command) owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from buyergroup import signals
from buyergroup.accounts import permissions
from buyergroup.accounts.models import Invitation, InvitationState, Role, User
from buyergroup.accounts.service import (
    create_user,
    external_url,
    get_usable_invitation,
    get_user_by_email,
    invite,
    normalise_email,
)
from buyergroup.database import utcnow
from buyergroup.errors import AlreadyExists
from buyergroup.extensions import db
from buyergroup.mail.service import queue_email
from buyergroup.network.models import JoinRequest, Organisation, RequestState
from buyergroup.network.service import (
    get_organisation_by_name,
    join_invited_group,
    save_organisation,
)

# --- Requests to join the network -----------------------------------------------------------


@dataclass(frozen=True)
class JoinRequestData:
    name: str
    email: str
    organisation_name: str
    job_title: str = ""
    country: str | None = None
    message: str = ""
    locale: str = "en"


def submit_join_request(data: JoinRequestData) -> JoinRequest | None:
    """A visitor asks to join; organisers are told. A repeat while pending is refused.

    An address that already has an account gets the same answer as a new one: the page
    must not tell a stranger who is a member. Nothing is stored; the account's owner is
    emailed instead, with the links to sign in and to choose a new password. Returns the
    request, or None when the address already had an account.
    """
    email = normalise_email(data.email)
    existing = get_user_by_email(email)
    if existing is not None:
        queue_email(
            existing.email,
            "join_request_existing_account",
            locale=existing.locale or data.locale or "en",
            user=existing,
            login_link=external_url("accounts.login"),
            reset_link=external_url("accounts.forgot_password"),
        )
        return None
    pending = db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.email == email, JoinRequest.state == RequestState.pending
        )
    )
    if pending is not None:
        raise AlreadyExists(
            _("We already have a request from this address; an organiser will reply soon."),
            field="email",
        )
    request = JoinRequest(
        name=data.name.strip(),
        email=email,
        organisation_name=data.organisation_name.strip(),
        organisation=get_organisation_by_name(data.organisation_name),
        job_title=data.job_title.strip(),
        country=(data.country or "").upper() or None,
        message=data.message.strip(),
        locale=data.locale,
    )
    db.session.add(request)
    db.session.flush()
    signals.join_requested.send(None, request=request)
    organisers = db.session.scalars(
        select(User).where(User.role.in_([Role.organiser, Role.admin]), User.is_active_account)
    )
    for organiser in organisers:
        queue_email(
            organiser.email,
            "join_request_received",
            locale=organiser.locale or "en",
            request=request,
        )
    return request


def approve_join_request(
    actor: User, request: JoinRequest, *, organisation: Organisation | None = None
) -> Invitation:
    """Approve by inviting: the applicant gets an invitation link to set a password.

    The account belongs to ``organisation``, else the one matched by name, else a new
    organisation of kind "other" created from the name they gave.
    """
    permissions.require_can_decide_join_requests(actor)
    if request.state is not RequestState.pending:
        raise AlreadyExists(_("This request has already been decided."))
    organisation = organisation or request.organisation
    if organisation is None:
        organisation = get_organisation_by_name(request.organisation_name) or save_organisation(
            actor, name=request.organisation_name, kind="other", country=request.country
        )
    invitation = invite(
        inviter=actor,
        email=request.email,
        name=request.name,
        organisation=organisation,
        locale=request.locale,
    )
    request.organisation = organisation
    request.state = RequestState.approved
    request.decided_by = actor
    request.decided_at = utcnow()
    db.session.flush()
    return invitation


def decline_join_request(actor: User, request: JoinRequest, note: str = "") -> None:
    permissions.require_can_decide_join_requests(actor)
    if request.state is not RequestState.pending:
        raise AlreadyExists(_("This request has already been decided."))
    request.state = RequestState.declined
    request.decided_by = actor
    request.decided_at = utcnow()
    request.decision_note = note.strip()
    db.session.flush()
    queue_email(
        request.email, "join_request_declined", locale=request.locale, request=request, note=note
    )


# --- Accepting an invitation ----------------------------------------------------------------


def accept_invitation(secret: str, *, name: str, password: str, **profile) -> User:
    """Create the invitee's account, in the inviting organisation (and group, if any)."""
    invitation = get_usable_invitation(secret)
    user = create_user(
        email=invitation.email,
        name=name,
        password=password,
        role=invitation.role,
        organisation=invitation.organisation,
        locale=profile.pop("locale", None) or invitation.locale,
        **profile,
    )
    invitation.state = InvitationState.accepted
    invitation.accepted_at = utcnow()
    invitation.user = user
    if invitation.group_id is not None:
        # The inviter's right to let the invitee skip the group's approval is checked
        # again now: without it, the invitation becomes a request the organisers decide.
        join_invited_group(invitation.invited_by, invitation.group_id, user)
    db.session.flush()
    return user
