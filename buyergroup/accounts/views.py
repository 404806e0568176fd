"""Sign-in, password reset, invitations, own profile, member directory and API tokens."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel import refresh as refresh_locale
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from buyergroup.accounts import permissions, service, sessions
from buyergroup.accounts.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    ChangePasswordForm,
    EndSessionsForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
)
from buyergroup.accounts.models import ApiToken, User
from buyergroup.boundary import service_errors
from buyergroup.errors import NotFound, TokenInvalid
from buyergroup.extensions import db, limiter
from buyergroup.form_fields import optional_choices
from buyergroup.i18n import SESSION_LANGUAGE_KEY
from buyergroup.network.models import Organisation
from buyergroup.network.service import invited_group_grant
from buyergroup.onboarding import service as onboarding
from buyergroup.security import deliver_mail_after_response, safe_next_url
from buyergroup.vocabulary import country_choices, expertise_choices, language_choices

bp = Blueprint("accounts", __name__)

TOO_MANY_ATTEMPTS = _l("Too many sign-in attempts. Please wait a few minutes and try again.")


def _login_account_and_address_key() -> str:
    """Failed sign-ins count per account AND address together.

    Counting per account alone let anyone lock a member out: five wrong passwords from
    anywhere refused the owner too, from their own office. Now a guesser is slowed on the
    addresses they guess from (and by the per-address limit across accounts), while the
    owner signing in from elsewhere is not; the throttled page offers the reset link.
    """
    email = service.normalise_email(request.form.get("email", ""))
    return f"login-account:{email}|{get_remote_address()}"


def _failed_sign_in(response) -> bool:
    # A successful sign-in redirects; only failures count towards the limits.
    return response.status_code != 302


@bp.app_context_processor
def account_flags() -> dict:
    """What the navigation may offer, answered by the permissions module, for every page."""
    return {
        "can_use_organisers_desk": permissions.can_use_organisers_desk(current_user),
        "can_manage_accounts": permissions.can_manage_accounts(current_user),
    }


@bp.errorhandler(RateLimitExceeded)
def throttled(error: RateLimitExceeded):
    """A throttled sign-in keeps its way forward: the reset link, and the wait it needs."""
    if request.endpoint != "accounts.login":
        return render_template("errors/429.html", error=error), 429
    _record_throttled()
    return render_template("accounts/login.html", form=LoginForm(), throttled=True), 429


def _record_throttled() -> None:
    """The audit log's "repeated sign-in failures": the throttle refuses before the view
    runs, so it is recorded here, once per account and address and throttle window."""
    from limits import parse

    try:
        window = parse(current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"]).get_expiry()
    except ValueError:
        window = 300
    try:
        service.record_sign_in_throttled(request.form.get("email", ""), window)
    except Exception:  # noqa: BLE001 - the record must never turn a 429 into a 500
        db.session.rollback()
        current_app.logger.exception("Could not record repeated sign-in failures")


@bp.errorhandler(TokenInvalid)
def invalid_link(error: TokenInvalid):
    # The app-wide DomainError handler flashes and redirects (302) to the referrer or the
    # home page, so whoever opened a used or expired link from an email lost the reason and
    # any way forward. Answer 400 with a page that says what happened and what to do.
    return render_template(
        "accounts/invalid_link.html",
        message=error.message,
        is_reset=request.endpoint == "accounts.reset_password",
    ), 400


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_sign_in,
    error_message=TOO_MANY_ATTEMPTS,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_and_address_key,
    methods=["POST"],
    deduct_when=_failed_sign_in,
    error_message=TOO_MANY_ATTEMPTS,
)
def login():
    if permissions.is_signed_in(current_user):
        return redirect(url_for("core.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            # The same words for an unknown email and a wrong password.
            flash(_("The email address or password is not correct."), "error")
            return render_template("accounts/login.html", form=form), 200
        sessions.sign_in(user, remember=form.remember.data)
        if user.locale:
            # The member's own setting wins from now on. Without one, keep the language
            # chosen before signing in rather than jumping back to the browser's.
            session.pop(SESSION_LANGUAGE_KEY, None)
        refresh_locale()  # this request's messages in the member's language, not the visitor's
        flash(_("Welcome back, %(name)s.", name=user.name), "success")
        return redirect(safe_next_url(form.next.data))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    language = getattr(current_user, "locale", None)
    sessions.sign_out()
    if language:
        # Signed out, the member still reads their own language (not the browser's).
        session[SESSION_LANGUAGE_KEY] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("core.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        deliver_mail_after_response()  # the same time for members and strangers
        # The same answer whether or not the account exists.
        flash(
            ngettext(
                "If an account exists for %(email)s, we have sent it a link to choose a new "
                "password. The link works once and expires in %(num)d hour.",
                "If an account exists for %(email)s, we have sent it a link to choose a new "
                "password. The link works once and expires in %(num)d hours.",
                current_app.config["PASSWORD_RESET_HOURS"],
                email=form.email.data,
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = service.check_reset_token(token)  # TokenInvalid -> a clear message
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            service.reset_password(token, form.password.data)
        if outcome.ok:
            flash(_("Your password has been changed. You can sign in with it now."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, user=user)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = service.get_usable_invitation(token)
    form = AcceptInvitationForm(
        name=invitation.name or None,
        locale=invitation.locale,
        timezone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
    )
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            user = onboarding.accept_invitation(
                token,
                name=form.name.data,
                password=form.password.data,
                job_title=form.job_title.data or "",
                locale=form.locale.data,
                timezone=form.timezone.data,
            )
        if outcome.ok:
            sessions.sign_in(user)
            flash(_("Welcome to Buyergroup! Complete your profile so peers can find you."),
                  "success")
            return redirect(url_for("accounts.profile"))
    return render_template(
        "accounts/accept_invitation.html", form=form, invitation=invitation,
        group_grant=invited_group_grant(invitation.invited_by, invitation.group_id),
    )


def _organisations():
    return db.session.scalars(select(Organisation).order_by(Organisation.name)).all()


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user: User = current_user  # type: ignore[assignment]
    form = ProfileForm(
        obj=user,
        organisations=_organisations(),
        data=None if request.method == "POST" else {
            "organisation_id": str(user.organisation_id or ""),
            "locale": user.locale or "",
            "languages": user.languages,
            "expertise": user.expertise,
        },
    )
    if form.validate_on_submit():
        organisation = (
            db.session.get(Organisation, int(form.organisation_id.data))
            if form.organisation_id.data else None
        )
        with service_errors(form) as outcome:
            service.update_profile(
                user,
                name=form.name.data,
                organisation=organisation,
                job_title=form.job_title.data,
                country=form.country.data,
                languages=form.languages.data,
                expertise=form.expertise.data,
                bio=form.bio.data,
                locale=form.locale.data,
                timezone=form.timezone.data,
            )
        if outcome.ok:
            # The locale of this request was settled before the change; without this the
            # confirmation of a new interface language came in the old one.
            refresh_locale()
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.profile"))
    elif request.method == "POST":
        flash(_("Your profile was not saved. Please correct the fields marked below."), "error")
    return render_template(
        "accounts/profile.html", form=form, user=user,
        sessions=sessions.active_sessions(user),
        this_session_id=sessions.current_session_id(user),
        end_form=EndSessionsForm(), describe_browser=sessions.describe_browser,
    )


@bp.post("/profile/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    if EndSessionsForm().validate_on_submit():
        sessions.end_one(current_user, session_id)
        flash(_("That session has been signed out."), "success")
    return redirect(url_for("accounts.profile") + "#sessions")


@bp.post("/profile/sessions/end-all")
@login_required
def end_all_sessions():
    """Sign out everywhere: every browser and every remember cookie, this one included."""
    if EndSessionsForm().validate_on_submit():
        sessions.end_all(current_user)
        logout_user()
        flash(_("You have been signed out on every device."), "info")
        return redirect(url_for("accounts.login"))
    return redirect(url_for("accounts.profile") + "#sessions")


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()  # type: ignore[attr-defined]
        with service_errors(form) as outcome:
            service.change_password(user, form.current_password.data, form.password.data)
        if outcome.ok:
            # The new password ended every session, this one too: give this browser a new
            # one, so whoever changed it stays signed in and every copied cookie is dead.
            sessions.sign_in(user, remember=sessions.was_remembered())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/profile/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = ApiTokenForm()
    new_secret = None
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            token, new_secret = service.create_api_token(
                current_user, form.name.data, scope=form.chosen_scope,
                expires_in_days=form.chosen_days,
            )
        if outcome.ok:
            form = ApiTokenForm(formdata=None)
    tokens = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template(
        "accounts/api_tokens.html", form=form, tokens=tokens, new_secret=new_secret
    )


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    service.revoke_api_token(current_user, token)
    flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
    return redirect(url_for("accounts.api_tokens"))


@bp.get("/members")
@login_required
def directory():
    filters = service.DirectoryFilters(
        text=request.args.get("q", "").strip()[:100],
        country=request.args.get("country", ""),
        organisation_id=request.args.get("organisation", type=int),
        expertise=request.args.get("expertise", ""),
        language=request.args.get("language", ""),
    )
    page = db.paginate(service.directory_query(filters), per_page=24, error_out=False)
    return render_template(
        "accounts/directory.html",
        page=page,
        filters=filters,
        countries=optional_choices(country_choices(), _l("All countries")),
        organisations=_organisations(),
        expertise=optional_choices(expertise_choices(), _l("Any expertise")),
        languages=optional_choices(language_choices(), _l("Any language")),
    )


@bp.get("/members/<int:user_id>")
@login_required
def member(user_id: int):
    user = db.session.get(User, user_id)
    # A member who chose not to be listed is not found (the same 404 as nobody).
    if user is None or not permissions.can_see_member_page(current_user, user):
        raise NotFound()
    return render_template(
        "accounts/member.html", member=user,
        is_own_profile=permissions.is_own_account(current_user, user),
        show_email=permissions.can_see_email(current_user, user),
    )
