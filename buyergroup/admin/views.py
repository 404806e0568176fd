"""The organisers' desk: requests to join, invitations, and (admins) members and roles."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from buyergroup.accounts import permissions
from buyergroup.accounts import service as accounts
from buyergroup.accounts.forms import InviteForm, RoleForm
from buyergroup.accounts.models import Invitation, InvitationState, Role, User
from buyergroup.boundary import service_errors
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.form_fields import optional_choices
from buyergroup.library import permissions as library_permissions
from buyergroup.library import service as library_service
from buyergroup.library.forms import ReturnForm
from buyergroup.library.models import LibraryItem
from buyergroup.network.forms import DecisionForm, DeclineForm
from buyergroup.network.models import (
    GroupMembership,
    JoinRequest,
    MembershipState,
    Organisation,
    RequestState,
    WorkingGroup,
)
from buyergroup.network.permissions import can_manage_group
from buyergroup.onboarding import service as onboarding

bp = Blueprint("admin", __name__, url_prefix="/manage")

# The oldest items waiting for review, decided on the desk; the rest are one link away.
DESK_REVIEWS = 10


def _requires(rule):
    """A view decorator: sign in first, then ``rule(current_user)`` must allow it."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not rule(current_user):
                raise NotAllowed()
            return view(*args, **kwargs)

        return wrapped

    return decorator


organiser_required = _requires(permissions.can_use_organisers_desk)
admin_required = _requires(permissions.can_manage_accounts)


@bp.get("/")
@organiser_required
def dashboard():
    # Each row's organisation, member and group come with the rows: they were one lookup
    # per row (28 statements for four of everything, now 16 whatever the number).
    requests = db.session.scalars(
        select(JoinRequest).where(JoinRequest.state == RequestState.pending)
        .options(selectinload(JoinRequest.organisation))
        .order_by(JoinRequest.created_at)
    ).all()
    # Requests to join groups: those this organiser may decide, by the network's one rule.
    pending_memberships = [
        membership
        for membership in db.session.scalars(
            select(GroupMembership)
            .where(GroupMembership.state == MembershipState.pending)
            .options(selectinload(GroupMembership.group),
                     accounts.with_listed_accounts(selectinload(GroupMembership.user)))
            .order_by(GroupMembership.requested_at)
        )
        if can_manage_group(current_user, membership.group)
    ]
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.state == InvitationState.pending)
        .options(selectinload(Invitation.organisation))
        .order_by(Invitation.created_at.desc()).limit(20)
    ).all()
    reviews, review_count = [], 0
    can_review = library_permissions.can_review(current_user)
    if can_review:
        queue = library_service.review_queue()
        review_count = db.session.scalar(select(func.count()).select_from(queue.subquery()))
        # The desk names each item's title, kind and submitter: not its tags and authors.
        reviews = db.session.scalars(
            queue.options(lazyload(LibraryItem.tags), lazyload(LibraryItem.authors))
            .limit(DESK_REVIEWS)
        ).all()
    return render_template(
        "admin/dashboard.html", requests=requests, pending_memberships=pending_memberships,
        invitations=invitations, decision_form=DecisionForm(), decline_form=DeclineForm(),
        can_review=can_review, reviews=reviews, review_count=review_count,
        return_form=ReturnForm(),
    )


def _join_request(request_id: int) -> JoinRequest:
    join_request = db.session.get(JoinRequest, request_id)
    if join_request is None:
        raise NotFound()
    return join_request


@bp.post("/requests/<int:request_id>/approve")
@organiser_required
def approve_request(request_id: int):
    join_request = _join_request(request_id)
    if DecisionForm().validate_on_submit():
        onboarding.approve_join_request(current_user, join_request)
        flash(_("%(name)s has been invited; they will receive a link to set a password.",
                name=join_request.name), "success")
    return redirect(url_for("admin.dashboard"))


@bp.post("/requests/<int:request_id>/decline")
@organiser_required
def decline_request(request_id: int):
    join_request = _join_request(request_id)
    form = DeclineForm()
    if form.validate_on_submit():
        onboarding.decline_join_request(current_user, join_request, form.note.data or "")
        flash(_("The request from %(name)s has been declined.", name=join_request.name), "info")
    return redirect(url_for("admin.dashboard"))


def _role_choices() -> list[tuple[str, str]]:
    return [(r.value, r.label) for r in permissions.invitable_roles(current_user)]


@bp.route("/invite", methods=["GET", "POST"])
@organiser_required
def invite():
    form = InviteForm()
    organisations = db.session.scalars(
        select(Organisation).order_by(func.lower(Organisation.name))
    ).all()
    groups = db.session.scalars(select(WorkingGroup).order_by(func.lower(WorkingGroup.name))).all()
    form.organisation_id.choices = optional_choices(
        [(str(o.id), o.name) for o in organisations], _("Choose an organisation")
    )
    form.group_id.choices = optional_choices(
        [(str(g.id), g.name) for g in groups], _("No working group")
    )
    form.role.choices = _role_choices()
    if request.method == "GET":
        form.organisation_id.data = request.args.get("organisation", "")
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, int(form.organisation_id.data))
        group = (
            db.session.get(WorkingGroup, int(form.group_id.data)) if form.group_id.data else None
        )
        with service_errors(form) as outcome:
            accounts.invite(
                inviter=current_user, email=form.email.data, name=form.name.data or "",
                organisation=organisation, role=Role(form.role.data), group=group,
                locale=form.locale.data, message=form.message.data or "",
            )
        if outcome.ok:
            flash(_("An invitation has been sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("admin.dashboard"))
    return render_template("admin/invite.html", form=form)


@bp.post("/invitations/<int:invitation_id>/revoke")
@organiser_required
def revoke_invitation(invitation_id: int):
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound()
    if DecisionForm().validate_on_submit():
        accounts.revoke_invitation(current_user, invitation)
        flash(_("The invitation to %(email)s has been revoked.", email=invitation.email), "info")
    return redirect(url_for("admin.dashboard"))


@bp.get("/users")
@admin_required
def users():
    text = request.args.get("q", "").strip()
    query = accounts.listed(select(User).order_by(func.lower(User.name)))
    if text:
        query = query.where(or_(func.lower(User.name).contains(text.lower(), autoescape=True),
                                func.lower(User.email).contains(text.lower(), autoescape=True)))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template(
        "admin/users.html", page=page, q=text, roles=list(Role), decision_form=DecisionForm(),
        can_set_active=lambda user: permissions.can_set_active(current_user, user),
    )


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    form = RoleForm()
    form.role.choices = Role.choices()
    if form.validate_on_submit():
        accounts.change_role(current_user, user, Role(form.role.data))
        flash(_("%(name)s is now: %(role)s.", name=user.name, role=user.role.label), "success")
    return redirect(url_for("admin.users", q=request.args.get("q", "")))


@bp.post("/users/<int:user_id>/<any(activate, deactivate):action>")
@admin_required
def set_active(user_id: int, action: str):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if DecisionForm().validate_on_submit():
        accounts.set_active(current_user, user, action == "activate")
        if action == "activate":
            flash(_("The account of %(name)s is active again.", name=user.name), "success")
        else:
            flash(_("The account of %(name)s has been deactivated.", name=user.name), "info")
    return redirect(url_for("admin.users"))
