"""Public organisation and working-group pages, joining, and the request to join the network."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_listed_for, is_signed_in, is_site_organiser
from buyergroup.boundary import service_errors
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db, limiter
from buyergroup.i18n import select_locale
from buyergroup.network import permissions, service
from buyergroup.network.forms import (
    AffiliationForm,
    DecisionForm,
    GroupForm,
    GroupJoinForm,
    JoinRequestForm,
    OrganisationForm,
)
from buyergroup.network.models import (
    Affiliation,
    GroupMembership,
    GroupRole,
    MembershipState,
    Organisation,
    OrganisationKind,
    WorkingGroup,
)
from buyergroup.onboarding import service as onboarding
from buyergroup.security import deliver_mail_after_response

bp = Blueprint("network", __name__)


# --- Loaders that also check who may see or change ------------------------------------------


def get_organisation(slug: str, *, manage: bool = False) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None or not permissions.can_see_organisation(current_user, organisation):
        raise NotFound()
    if manage and not permissions.can_edit_organisation(current_user, organisation):
        raise NotAllowed()
    return organisation


def get_group(slug: str, *, manage: bool = False, options=()) -> WorkingGroup:
    group = db.session.scalar(
        select(WorkingGroup).where(WorkingGroup.slug == slug).options(*options)
    )
    if group is None or not permissions.can_see_group(current_user, group):
        raise NotFound()
    if manage and not permissions.can_manage_group(current_user, group):
        raise NotAllowed()
    return group


def _all_organisations():
    return db.session.scalars(select(Organisation).order_by(func.lower(Organisation.name))).all()


# --- Organisations ----------------------------------------------------------------------------


@bp.get("/organisations")
def organisations():
    query = service.visible_organisations(current_user)
    kind = request.args.get("kind", "")
    country = request.args.get("country", "")
    if kind in {k.value for k in OrganisationKind}:
        query = query.where(Organisation.kind == OrganisationKind(kind))
    if country:
        query = query.where(Organisation.country == country.upper())
    page = db.paginate(
        query.options(selectinload(Organisation.affiliations)), per_page=30, error_out=False
    )
    # Only the countries of organisations this user may see: a country listed for a hidden
    # organisation would reveal that it exists.
    visible = service.visible_organisations(current_user).subquery()
    countries = sorted(
        {c for c in db.session.scalars(select(visible.c.country).distinct()) if c}
    )
    return render_template(
        "network/organisations.html", page=page, kind=kind, country=country,
        kinds=list(OrganisationKind), countries=countries,
        can_add_organisation=permissions.can_edit_organisation(current_user),
    )


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    organisation = get_organisation(slug)
    members = []
    can_see_members = permissions.can_see_organisation_members(current_user, organisation)
    if can_see_members:
        members = db.session.scalars(
            select(User)
            .where(User.organisation_id == organisation.id, User.is_active_account.is_(True))
            .order_by(func.lower(User.name))
        ).all()
        # Who chose not to be listed is left out (and not counted) for everyone but
        # themselves and the administrators.
        members = [m for m in members if is_listed_for(current_user, m)]
    groups = db.session.scalars(
        service.visible_groups(current_user).where(
            WorkingGroup.id.in_(
                select(GroupMembership.group_id)
                .join(User, GroupMembership.user_id == User.id)
                # Active members only: a pending request to join is not membership.
                .where(
                    User.organisation_id == organisation.id,
                    User.is_active_account.is_(True),
                    GroupMembership.state == MembershipState.active,
                )
            )
        )
    ).all()
    return render_template(
        "network/organisation.html", organisation=organisation, members=members, groups=groups,
        can_see_members=can_see_members,
        can_edit=permissions.can_edit_organisation(current_user, organisation),
        # The invitation form itself is the accounts domain's; it asks for a site organiser.
        can_invite=is_site_organiser(current_user),
        affiliation_form=AffiliationForm(), decision_form=DecisionForm(),
    )


def _organisation_fields(form: OrganisationForm) -> dict:
    return {
        "name": form.name.data, "short_name": form.short_name.data, "kind": form.kind.data,
        "country": form.country.data, "website": form.website.data,
        "description": form.description.data, "is_public": form.is_public.data,
    }


@bp.route("/organisations/new", methods=["GET", "POST"])
@login_required
def new_organisation():
    if not permissions.can_edit_organisation(current_user):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    form = OrganisationForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            organisation = service.save_organisation(current_user, **_organisation_fields(form))
        if outcome.ok:
            flash(_("The organisation has been created."), "success")
            return redirect(url_for("network.organisation", slug=organisation.slug))
    return render_template("network/organisation_form.html", form=form, organisation=None)


@bp.route("/organisations/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str):
    organisation = get_organisation(slug, manage=True)
    form = OrganisationForm(obj=organisation)
    if request.method == "GET":
        # WTForms prefers obj= over data=, and obj gives the enum, which matches no choice:
        # the form showed the first kind, and saving it unchanged changed the kind.
        form.kind.data = organisation.kind.value
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.save_organisation(current_user, organisation, **_organisation_fields(form))
        if outcome.ok:
            flash(_("The organisation has been saved."), "success")
            return redirect(url_for("network.organisation", slug=organisation.slug))
    return render_template("network/organisation_form.html", form=form, organisation=organisation)


@bp.post("/organisations/<slug>/affiliations")
@login_required
def add_affiliation(slug: str):
    organisation = get_organisation(slug, manage=True)
    form = AffiliationForm()
    if form.validate_on_submit():
        # Not shown in place (the form is folded away on the organisation page): a refusal
        # is the page's notice, whichever field it names.
        with service_errors() as outcome:
            service.add_affiliation(
                current_user, organisation, name=form.name.data, since=form.since.data,
                until=form.until.data, note=form.note.data or "",
            )
        if outcome.ok:
            flash(_("The affiliation has been added."), "success")
    else:
        flash(_("The affiliation was not added: please give its name and valid dates."), "error")
    return redirect(url_for("network.organisation", slug=slug) + "#affiliations")


@bp.post("/organisations/<slug>/affiliations/<int:affiliation_id>/delete")
@login_required
def remove_affiliation(slug: str, affiliation_id: int):
    organisation = get_organisation(slug, manage=True)
    affiliation = db.session.get(Affiliation, affiliation_id)
    if affiliation is None or affiliation.organisation_id != organisation.id:
        raise NotFound()
    if DecisionForm().validate_on_submit():
        service.remove_affiliation(current_user, affiliation)
        flash(_("The affiliation has been removed."), "success")
    return redirect(url_for("network.organisation", slug=slug) + "#affiliations")


# --- Working groups ---------------------------------------------------------------------------


@bp.get("/groups")
def groups():
    all_groups = db.session.scalars(service.visible_groups(current_user)).all()
    # Built once for the whole list: a group's members are not loaded to be counted.
    return render_template(
        "network/groups.html", groups=all_groups,
        member_counts=service.active_member_counts([g.id for g in all_groups]),
        my_memberships=service.memberships_by_group(current_user),
        can_start_group=permissions.can_create_group(current_user),
    )


@bp.get("/groups/<slug>")
def group(slug: str):
    group = get_group(slug, options=service.group_page_loading())
    membership = group.membership_of(current_user)
    can_manage = permissions.can_manage_group(current_user, group)
    return render_template(
        "network/group.html",
        group=group,
        membership=membership,
        can_manage=can_manage,
        # The group's organisers run it and see every member; other members see those
        # who chose to be listed (and themselves).
        listed_memberships=sorted(
            (m for m in group.active_memberships
             if can_manage or is_listed_for(current_user, m.user)),
            key=lambda m: m.user.name.lower(),
        ),
        can_see_members=permissions.can_see_group_members(current_user, group),
        # A hidden host organisation is not named to visitors (its page is a 404 for them).
        show_host=group.host_organisation is not None
        and permissions.can_see_organisation(current_user, group.host_organisation),
        join_form=GroupJoinForm(),
        decision_form=DecisionForm(),
        GroupRole=GroupRole,
    )


def _group_fields(form: GroupForm) -> dict:
    host = (
        db.session.get(Organisation, int(form.host_organisation_id.data))
        if form.host_organisation_id.data else None
    )
    return {
        "name": form.name.data, "summary": form.summary.data,
        "description": form.description.data, "languages": form.languages.data,
        "join_policy": form.join_policy.data, "is_public": form.is_public.data,
        "founded_on": form.founded_on.data, "host_organisation": host,
    }


@bp.route("/groups/new", methods=["GET", "POST"])
@login_required
def new_group():
    if not permissions.can_create_group(current_user):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    form = GroupForm(organisations=_all_organisations())
    if request.method == "GET":
        form.languages.data = [select_locale()]
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            group = service.save_group(current_user, **_group_fields(form))
        if outcome.ok:
            flash(_("The working group has been created. You are its organiser."), "success")
            return redirect(url_for("network.group", slug=group.slug))
    return render_template("network/group_form.html", form=form, group=None)


@bp.route("/groups/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_group(slug: str):
    group = get_group(slug, manage=True)
    form = GroupForm(obj=group, organisations=_all_organisations())
    if request.method == "GET":
        # Set after construction: WTForms prefers obj= over data=, and obj gives the enum,
        # which matches no choice, so the form showed "open" and saving it unchanged opened
        # an approval group to everyone.
        form.languages.data = group.languages
        form.join_policy.data = group.join_policy.value
        form.host_organisation_id.data = str(group.host_organisation_id or "")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.save_group(current_user, group, **_group_fields(form))
        if outcome.ok:
            flash(_("The working group has been saved."), "success")
            return redirect(url_for("network.group", slug=group.slug))
    return render_template("network/group_form.html", form=form, group=group)


@bp.post("/groups/<slug>/join")
@login_required
def join_group(slug: str):
    group = get_group(slug)
    form = GroupJoinForm()
    if form.validate_on_submit():
        # A double click that races past the service's check meets the unique key; the
        # IntegrityError goes to errors.py, which says so and sends the member back here.
        with service_errors() as outcome:
            membership = service.join_group(group, current_user, form.message.data or "")
        if outcome.ok and membership.is_active:
            flash(_("You have joined %(group)s.", group=group.name), "success")
        elif outcome.ok:
            flash(_("Your request has been sent to the organisers of %(group)s.",
                    group=group.name), "info")
    else:
        # Say why nothing happened (e.g. a message over the length limit).
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return redirect(url_for("network.group", slug=slug))


@bp.post("/groups/<slug>/leave")
@login_required
def leave_group(slug: str):
    group = get_group(slug)
    if DecisionForm().validate_on_submit():
        membership = group.membership_of(current_user)
        was_pending = membership is not None and not membership.is_active
        with service_errors() as outcome:
            service.leave_group(group, current_user)
        if outcome.ok and was_pending:
            flash(_("Your request to join %(group)s has been withdrawn.", group=group.name), "info")
        elif outcome.ok:
            flash(_("You have left %(group)s.", group=group.name), "info")
    return redirect(url_for("network.group", slug=slug))


def _membership(group: WorkingGroup, membership_id: int) -> GroupMembership:
    membership = db.session.get(GroupMembership, membership_id)
    if membership is None or membership.group_id != group.id:
        raise NotFound()
    return membership


@bp.post("/groups/<slug>/members/<int:membership_id>/<any(approve, decline):decision>")
@login_required
def decide_membership(slug: str, membership_id: int, decision: str):
    group = get_group(slug, manage=True)
    membership = _membership(group, membership_id)
    if DecisionForm().validate_on_submit():
        name = membership.user.name
        service.decide_membership(current_user, membership, approve=decision == "approve")
        if decision == "approve":
            flash(_("%(name)s is now a member.", name=name), "success")
        else:
            flash(_("The request from %(name)s has been declined.", name=name), "info")
    if request.form.get("next") == "desk":  # decided on the organisers' desk: back there
        return redirect(url_for("admin.dashboard") + "#group-requests-title")
    return redirect(url_for("network.group", slug=slug) + "#members")


@bp.post("/groups/<slug>/members/<int:membership_id>/role")
@login_required
def set_member_role(slug: str, membership_id: int):
    group = get_group(slug, manage=True)
    membership = _membership(group, membership_id)
    if DecisionForm().validate_on_submit():
        role = request.form.get("role", "")
        if role not in {r.value for r in GroupRole}:
            raise NotFound()
        with service_errors() as outcome:
            service.set_member_role(current_user, membership, GroupRole(role))
        if outcome.ok:
            flash(_("The role of %(name)s has been changed.", name=membership.user.name), "success")
    return redirect(url_for("network.group", slug=slug) + "#members")


@bp.post("/groups/<slug>/members/<int:membership_id>/remove")
@login_required
def remove_member(slug: str, membership_id: int):
    group = get_group(slug, manage=True)
    membership = _membership(group, membership_id)
    if DecisionForm().validate_on_submit():
        name = membership.user.name
        with service_errors() as outcome:
            service.remove_member(current_user, membership)
        if outcome.ok:
            flash(_("%(name)s has been removed from the group.", name=name), "info")
    return redirect(url_for("network.group", slug=slug) + "#members")


# --- Asking to join the network ---------------------------------------------------------------


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def join_request():
    if is_signed_in(current_user):  # already a member of the network
        return redirect(url_for("network.groups"))
    form = JoinRequestForm()
    if form.validate_on_submit():
        data = onboarding.JoinRequestData(
            name=form.name.data, email=form.email.data,
            organisation_name=form.organisation_name.data, job_title=form.job_title.data or "",
            country=form.country.data, message=form.message.data or "", locale=select_locale(),
        )
        with service_errors(form) as outcome:
            onboarding.submit_join_request(data)
            deliver_mail_after_response()  # members and strangers answered alike
        if outcome.ok:
            return render_template("network/join_sent.html", email=data.email)
    return render_template("network/join.html", form=form)
