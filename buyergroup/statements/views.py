"""Statement pages: a group's statements, one statement with its signatories and roadmap,
drafting, signing, exports, and the list of who may sign for their organisation."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from buyergroup.accounts.models import User
from buyergroup.boundary import service_errors
from buyergroup.database import slugify
from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.network.permissions import can_see_group
from buyergroup.statements import export, permissions, service
from buyergroup.statements.forms import (
    ActionForm,
    AuthorityForm,
    ButtonForm,
    StatementForm,
    StatusForm,
)
from buyergroup.statements.models import RoadmapAction, SigningAuthority

bp = Blueprint("statements", __name__)


def _group(slug: str) -> WorkingGroup:
    group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.slug == slug))
    if group is None or not can_see_group(current_user, group):
        raise NotFound()
    return group


@bp.get("/statements")
def index():
    return render_template("statements/index.html", statements=service.public_statements())


@bp.get("/groups/<slug>/statements")
def group_statements(slug: str):
    group = _group(slug)
    return render_template(
        "statements/group.html", group=group,
        statements=service.statements_of_group(group, current_user),
        can_draft=permissions.can_draft(current_user, group),
    )


@bp.route("/groups/<slug>/statements/new", methods=["GET", "POST"])
@login_required
def new_statement(slug: str):
    group = _group(slug)
    if not permissions.can_draft(current_user, group):
        raise NotAllowed(_("Only organisers of this group can draft a statement."))
    form = StatementForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            statement = service.create_statement(current_user, group, title=form.title.data,
                                                 body=form.body.data)
        if outcome.ok:
            flash(_("The draft is saved."), "success")
            return redirect(url_for("statements.statement", statement_id=statement.id))
    return render_template("statements/form.html", group=group, form=form, statement=None)


def _page(statement, version=None):
    user = current_user
    can_roadmap = permissions.can_keep_roadmap(user, statement)
    organisations = (list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
                     if can_roadmap else [])
    return render_template(
        "statements/statement.html",
        statement=statement,
        version=version or statement.current,
        can_edit=permissions.can_edit(user, statement),
        can_change_state=permissions.can_change_state(user, statement),
        can_sign=permissions.can_sign(user, statement),
        may_sign_for=permissions.may_sign_for(user, getattr(user, "organisation", None)),
        can_roadmap=can_roadmap,
        can_name_owner=lambda action: permissions.can_name_owner(user, action),
        action_form=ActionForm(organisations=organisations, prefix="action"),
        status_form=StatusForm(),
        button_form=ButtonForm(),
        show_group_link=can_see_group(user, statement.group),
    )


@bp.get("/statements/<int:statement_id>")
def statement(statement_id: int):
    return _page(service.get_statement(statement_id, current_user))


@bp.get("/statements/<int:statement_id>/versions/<int:number>")
def version(statement_id: int, number: int):
    statement = service.get_statement(statement_id, current_user)
    return _page(statement, service.get_version(statement, number))


@bp.route("/statements/<int:statement_id>/edit", methods=["GET", "POST"])
@login_required
def edit(statement_id: int):
    statement = service.get_statement(statement_id, current_user)
    if not permissions.can_edit(current_user, statement):
        raise NotAllowed(_("Only organisers of this group can change a draft."))
    form = StatementForm(data={"title": statement.title, "body": statement.current.body}
                         if request.method == "GET" else None)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.add_version(current_user, statement, title=form.title.data,
                                body=form.body.data, note=form.note.data or "")
        if outcome.ok:
            flash(_("A new version is saved."), "success")
            return redirect(url_for("statements.statement", statement_id=statement.id))
    return render_template("statements/form.html", group=statement.group, form=form,
                           statement=statement)


@bp.post("/statements/<int:statement_id>/<any(open, close):action>")
@login_required
def change_state(statement_id: int, action: str):
    statement = service.get_statement(statement_id, current_user)
    if ButtonForm().validate_on_submit():
        with service_errors() as outcome:
            if action == "open":
                service.open_for_signature(current_user, statement)
            else:
                service.close_signature(current_user, statement)
        if outcome.ok:
            flash(_("The statement is open for signature.") if action == "open"
                  else _("The statement is closed for signature."), "success")
    return redirect(url_for("statements.statement", statement_id=statement_id))


@bp.post("/statements/<int:statement_id>/sign")
@login_required
def sign(statement_id: int):
    statement = service.get_statement(statement_id, current_user)
    if ButtonForm().validate_on_submit():
        with service_errors() as outcome:
            signature = service.sign(current_user, statement)
        if outcome.ok:
            flash(_("%(organisation)s has signed the statement.",
                    organisation=signature.organisation.name), "success")
    return redirect(url_for("statements.statement", statement_id=statement_id,
                            _anchor="signatories"))


@bp.post("/statements/<int:statement_id>/actions")
@login_required
def add_action(statement_id: int):
    statement = service.get_statement(statement_id, current_user)
    if not permissions.can_keep_roadmap(current_user, statement):
        raise NotAllowed(_("Only organisers of this group can change the roadmap."))
    organisations = list(db.session.scalars(select(Organisation)))
    form = ActionForm(organisations=organisations, prefix="action")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            owner = form.organisation_id.data
            service.add_action(current_user, statement, title=form.title.data,
                               organisation_id=int(owner) if owner else None,
                               due_on=form.due_on.data, status=form.status.data)
        if outcome.ok:
            flash(_("The action is on the roadmap."), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return redirect(url_for("statements.statement", statement_id=statement_id,
                            _anchor="roadmap"))


@bp.post("/statements/<int:statement_id>/actions/<int:action_id>")
@login_required
def set_status(statement_id: int, action_id: int):
    statement = service.get_statement(statement_id, current_user)
    action = db.session.get(RoadmapAction, action_id)
    if action is None or action.statement_id != statement.id:
        raise NotFound()
    form = StatusForm()
    if form.validate_on_submit():
        with service_errors() as outcome:
            service.set_action_status(current_user, action, form.status.data)
        if outcome.ok:
            flash(_("Saved."), "success")
    return redirect(url_for("statements.statement", statement_id=statement_id,
                            _anchor="roadmap"))


def _download(data: bytes, statement, extension: str, mimetype: str) -> Response:
    name = f"{slugify(statement.title, max_length=60)}.{extension}"
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/statements/<int:statement_id>.docx")
def export_docx(statement_id: int):
    statement = service.get_statement(statement_id, current_user)
    return _download(
        export.to_docx(statement, current_user), statement, "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


@bp.get("/statements/<int:statement_id>.pdf")
def export_pdf(statement_id: int):
    statement = service.get_statement(statement_id, current_user)
    return _download(export.to_pdf(statement, current_user), statement, "pdf", "application/pdf")


@bp.route("/statements/signatories", methods=["GET", "POST"])
@login_required
def signatories():
    if not permissions.can_grant_authority(current_user):
        raise NotAllowed(_("Only organisers and administrators can do this."))
    form = AuthorityForm(members=service.signatory_candidates())
    if form.validate_on_submit():
        user = db.session.get(User, int(form.user_id.data))
        with service_errors(form) as outcome:
            service.authorise_signatory(current_user, user)
        if outcome.ok:
            flash(_("%(name)s may now sign for %(organisation)s.", name=user.name,
                    organisation=user.organisation.name), "success")
            return redirect(url_for("statements.signatories"))
    return render_template("statements/signatories.html", form=form,
                           authorities=service.authorities(), button_form=ButtonForm())


@bp.post("/statements/signatories/<int:authority_id>/withdraw")
@login_required
def withdraw_authority(authority_id: int):
    authority = db.session.get(SigningAuthority, authority_id)
    if authority is None:
        raise NotFound()
    if ButtonForm().validate_on_submit():
        with service_errors() as outcome:
            service.withdraw_authority(current_user, authority)
        if outcome.ok:
            flash(_("Withdrawn."), "info")
    return redirect(url_for("statements.signatories"))

