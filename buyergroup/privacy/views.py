"""The privacy page, the member's choices, their data export and erasing an account."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from buyergroup.accounts import permissions as account_permissions
from buyergroup.accounts.models import User
from buyergroup.boundary import service_errors
from buyergroup.database import utcnow
from buyergroup.errors import InvariantError, NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.privacy import service
from buyergroup.privacy.forms import DownloadForm, EraseForm, PrivacyChoicesForm

bp = Blueprint("privacy", __name__)


def template_helpers() -> dict:
    """Rules the templates ask (they do not restate them)."""
    return {
        "member_page_visible": lambda member: member is not None
        and account_permissions.can_see_member_page(current_user, member),
        "email_visible": lambda member: member is not None
        and account_permissions.can_see_email(current_user, member),
    }


@bp.get("/privacy")
def policy():
    return render_template(
        "privacy/policy.html",
        registration_days=service.registration_retention_days(),
        session_days=service.session_retention_days(),
        audit_days=_audit_days(),
    )


def _audit_days() -> int:
    from buyergroup.audit.service import retention_days

    return retention_days()


@bp.route("/profile/privacy", methods=["GET", "POST"])
@login_required
def choices():
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = PrivacyChoicesForm(obj=user)
    if form.validate_on_submit():
        service.update_privacy_choices(
            user,
            email_visible=form.email_visible.data,
            listed_in_directory=form.listed_in_directory.data,
            listed_on_participant_lists=form.listed_on_participant_lists.data,
        )
        flash(_("Your privacy choices have been saved."), "success")
        return redirect(url_for("privacy.choices"))
    return render_template("privacy/choices.html", form=form)


@bp.get("/profile/data")
@login_required
def data():
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    return render_template("privacy/data.html", form=DownloadForm(),
                           counts=service.export_counts(user))


@bp.post("/profile/data")
@login_required
def download_data():
    """The ZIP download; recorded in the audit log (it takes the member's data away)."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if not DownloadForm().validate_on_submit():
        return redirect(url_for("privacy.data"))
    archive = service.export_zip(user)
    service.record_export(user, user, via="web")
    response = Response(archive, mimetype="application/zip")
    stamp = utcnow().strftime("%Y%m%d")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="buyergroup-my-data-{stamp}.zip"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _erase_page(user: User, form: EraseForm, *, template: str, status: int = 200):
    return render_template(
        template, form=form, member=user, summary=service.erasure_summary(user),
    ), status


@bp.route("/profile/erase", methods=["GET", "POST"])
@login_required
def erase():
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = EraseForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.erase_member(user, user, confirm=form.confirm.data)
        if outcome.ok:
            logout_user()
            flash(_("Your account has been erased. What you published stays, under "
                    "“former member”."), "info")
            return redirect(url_for("core.home"))
        return _erase_page(user, form, template="privacy/erase.html",
                           status=409 if isinstance(outcome.error, InvariantError) else 400)
    elif form.is_submitted():
        return _erase_page(user, form, template="privacy/erase.html", status=400)
    return _erase_page(user, form, template="privacy/erase.html")


@bp.route("/manage/users/<int:user_id>/erase", methods=["GET", "POST"])
@login_required
def admin_erase(user_id: int):
    """An administrator erases a member's account on their request (audited)."""
    if not account_permissions.can_manage_accounts(current_user):
        raise NotAllowed()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    form = EraseForm()
    if form.validate_on_submit():
        name = user.name
        with service_errors(form) as outcome:
            service.erase_member(current_user, user, confirm=form.confirm.data)
        if outcome.ok:
            if user_id == current_user.id:
                logout_user()
            flash(_("The account of %(name)s has been erased.", name=name), "success")
            return redirect(url_for("admin.users"))
        return _erase_page(user, form, template="privacy/admin_erase.html",
                           status=409 if isinstance(outcome.error, InvariantError) else 400)
    elif form.is_submitted():
        return _erase_page(user, form, template="privacy/admin_erase.html", status=400)
    return _erase_page(user, form, template="privacy/admin_erase.html")
