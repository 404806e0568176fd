"""The community pages: /follows, /notifications, email preferences and unsubscribing.

Thin, like every domain's views: load or 404, validate, call one service function.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.boundary import service_errors
from buyergroup.community import service, unsubscribe
from buyergroup.community.forms import ActionForm, FollowForm, preferences_form
from buyergroup.community.models import Frequency, Kind
from buyergroup.errors import NotFound
from buyergroup.extensions import csrf, db
from buyergroup.security import safe_next_url
from buyergroup.vocabulary import PRODUCT_GROUPS, THEMES

bp = Blueprint("community", __name__)

PER_PAGE = 30
#: Beyond this a page number is nonsense (and a huge one would overflow the SQL offset).
MAX_PAGE = 10_000


# --- Follows ----------------------------------------------------------------------------------


def _code_choices(entries) -> dict[str, list[tuple[str, str]]]:
    """Product groups and themes not followed yet (they have no page of their own)."""
    followed = {(e.follow.target_type, e.follow.target_key) for e in entries}
    return {
        target: [(code, str(label)) for code, label in vocabulary.items()
                 if (target, code) not in followed]
        for target, vocabulary in (("product_group", PRODUCT_GROUPS), ("theme", THEMES))
    }


@bp.get("/follows")
@login_required
def follows():
    entries = service.follows_of(current_user)
    return render_template("community/follows.html", entries=entries,
                           code_choices=_code_choices(entries), action_form=ActionForm(),
                           follow_form=FollowForm())


@bp.post("/follows")
@login_required
def follow():
    """A Follow/Unfollow button on a page (or the product group and theme lists on
    /follows): back to the page it was on."""
    form = FollowForm()
    back = safe_next_url(form.next.data, "community.follows")
    if not form.validate_on_submit():
        flash(_("Please choose what to follow."), "error")
        return redirect(back)
    unfollow = request.form.get("action") == "unfollow"
    with service_errors() as outcome:
        if unfollow:
            service.unfollow_target(current_user, form.target.data, form.key.data)
        else:
            service.follow(current_user, form.target.data, form.key.data)
    if outcome.ok:
        flash(_("You no longer follow this.") if unfollow else
              _("You follow this now: you will be told what changes."), "success")
    return redirect(back)


@bp.post("/follows/<int:follow_id>/delete")
@login_required
def unfollow(follow_id: int):
    row = service.get_follow(current_user, follow_id)
    if ActionForm().validate_on_submit():
        service.unfollow(current_user, row)
        flash(_("You no longer follow this."), "success")
    return redirect(url_for("community.follows"))


# --- Notifications ----------------------------------------------------------------------------


@bp.get("/notifications")
@login_required
def notifications():
    unread_only = request.args.get("show") == "unread"
    page = db.paginate(service.notifications_query(current_user, unread_only=unread_only),
                       page=min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE),
                       per_page=PER_PAGE, error_out=False)
    return render_template(
        "community/notifications.html", entries=service.entries(page.items, current_user),
        pagination=page, unread_only=unread_only, action_form=ActionForm(),
    )


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Opening a notification marks it read and goes to what it is about."""
    row = service.get_notification(current_user, notification_id)
    found = service.entries([row], current_user)
    if not found:
        raise NotFound()
    service.mark_read(current_user, row)
    return redirect(found[0].path)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    row = service.get_notification(current_user, notification_id)
    if ActionForm().validate_on_submit():
        service.mark_read(current_user, row)
    return redirect(safe_next_url(request.form.get("next"), "community.notifications"))


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    if ActionForm().validate_on_submit():
        done = service.mark_all_read(current_user)
        flash(_("All notifications are marked as read.") if done else
              _("There was nothing unread."), "success")
    return redirect(url_for("community.notifications"))


# --- Preferences --------------------------------------------------------------------------------


@bp.route("/profile/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    kinds = service.visible_kinds(current_user)
    current = service.preferences_of(current_user)
    form = preferences_form(kinds, current)
    if form.validate_on_submit():
        choices = {kind: Frequency(form[kind.value].data) for kind in kinds}
        with service_errors(form) as outcome:
            service.set_preferences(current_user, choices)
        if outcome.ok:
            flash(_("Your email settings are saved."), "success")
            return redirect(url_for("community.preferences"))
    return render_template("community/preferences.html", form=form, kinds=kinds)


# --- Unsubscribing (from an email, without signing in) ------------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe_link(token: str):
    """GET shows what the link stops and a button; POST stops it. The POST needs no session
    and no CSRF token (RFC 8058 one-click: mail clients POST ``List-Unsubscribe=One-Click``);
    the signed token is the authority, for one member and the kinds it names."""
    problem = None
    user = None
    kinds: list[Kind] = []
    try:
        user_id, kinds = unsubscribe.read_token(token)
        user = db.session.get(User, user_id)
        if user is None:
            problem = "invalid"
        elif is_signed_in(current_user) and current_user.id != user.id:
            problem = "other"
    except unsubscribe.BadUnsubscribeLink as error:
        problem = error.reason
    if problem is not None:
        return render_template("community/unsubscribe.html", problem=problem, done=False,
                               kinds=[]), 400
    done = False
    if request.method == "POST":
        service.set_preferences(user, {kind: Frequency.never for kind in kinds})
        done = True
    return render_template("community/unsubscribe.html", problem=None, done=done, kinds=kinds,
                           token=token)


# --- The header's count and the Follow buttons ---------------------------------------------------


def unread_notifications() -> int:
    """The header calls it: kept per transaction, most often loaded with the account."""
    return service.kept_unread_count(current_user) if is_signed_in(current_user) else 0


def follow_state(target_type: str, key) -> bool:
    return service.is_following(current_user, target_type, str(key))


def register_template_context(app: Flask) -> None:
    app.jinja_env.globals.update(
        unread_notifications=unread_notifications,
        follow_state=follow_state,
        target_label=target_label,
    )


def target_label(name: str) -> str:
    from buyergroup.community import targets

    return str(targets.get_type(name).type_label or name) if targets.known(name) else name
