"""Account rules: creating members, signing in, resets, invitations, profiles, API tokens.

Accepting an invitation (which may add a working group) is onboarding's: see
``buyergroup.onboarding.service``.

Functions here flush but never commit: the request (or CLI command) owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from types import SimpleNamespace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, lazyload

from buyergroup.accounts import permissions, sessions
from buyergroup.accounts.models import (
    ApiToken,
    Invitation,
    InvitationState,
    PasswordReset,
    Role,
    TokenScope,
    User,
    UserExpertise,
    UserLanguage,
)
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction
from buyergroup.audit.service import Target
from buyergroup.database import utcnow
from buyergroup.errors import (
    AlreadyExists,
    OwnAccountKeptActive,
    OwnAdministratorRoleKept,
    TokenInvalid,
    ValidationFailed,
)
from buyergroup.extensions import db
from buyergroup.i18n import LANGUAGES, is_valid_timezone
from buyergroup.mail.service import queue_email
from buyergroup.network.models import Organisation
from buyergroup.network.permissions import require_can_invite_to_group
from buyergroup.tokens import hash_secret, new_secret
from buyergroup.urls import external_url  # noqa: F401 - where most callers import it from

MIN_PASSWORD_LENGTH = 10


@cache
def _hasher_with(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@cache
def _dummy_hash_for(hasher: PasswordHasher) -> str:
    # Verifying against this keeps sign-in time the same for unknown emails (no user
    # probing): it is made with the same cost as real hashes.
    return hasher.hash("not-a-real-password-just-for-timing")


def _hasher() -> PasswordHasher:
    """Argon2id with the configured cost: the library's recommended parameters by default
    (``ARGON2_*`` in config.py); the test suite configures a cheap one."""
    config = current_app.config
    return _hasher_with(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"]
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher().hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH), field="password"
        )


def listed(query: Select) -> Select:
    """``query`` of accounts for a list that names each one's organisation: the organisation
    joined in the same statement (it was one lookup per row), and the languages and
    expertise that an account loads by default left out (no list shows them)."""
    return query.options(*_as_listed())


def with_listed_accounts(loader):
    """``loader`` (an option that reaches accounts, such as ``selectinload(Post.author)``)
    loading what ``listed`` does of each: two statements fewer per list of people."""
    return loader.options(*_as_listed())


def _as_listed() -> tuple:
    return (joinedload(User.organisation), lazyload(User.language_links),
            lazyload(User.expertise_links))


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    *,
    email: str,
    name: str,
    password: str | None = None,
    role: Role = Role.member,
    organisation=None,
    **profile,
) -> User:
    """Create a member; ``profile`` takes the fields of ``update_profile``."""
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise AlreadyExists(_("An account with this email address already exists."), field="email")
    user = User(email=email, name=name.strip(), role=role, organisation=organisation)
    if password:
        user.password_hash = hash_password(password)
    db.session.add(user)
    update_profile(user, **profile)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches an active account; None otherwise (same cost)."""
    user = get_user_by_email(email)
    hasher = _hasher()
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        hasher.verify(stored or _dummy_hash_for(hasher), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active or not stored:
        return None
    if hasher.check_needs_rehash(stored):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def set_password(user: User, password: str) -> None:
    """A new password ends every session, remember cookie and reset link of ``user``."""
    user.password_hash = hash_password(password)
    sessions.end_all(user)
    # A new password ends every outstanding reset link.
    for reset in db.session.scalars(
        select(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    ):
        reset.used_at = utcnow()


def change_password(user: User, current_password: str, new_password: str) -> None:
    try:
        hasher = _hasher()
        hasher.verify(user.password_hash or _dummy_hash_for(hasher), current_password)
    except (VerificationError, InvalidHashError):
        raise ValidationFailed(
            _("Your current password is not correct."), field="current_password"
        ) from None
    set_password(user, new_password)


def record_sign_in_throttled(email: str, window_seconds: int) -> bool:
    """Record one ``sign_in_failures`` entry when the sign-in throttle first refuses an
    account from an address, not one per refused attempt: none is added while an entry for
    the same account and address is younger than the throttle's window. Its own
    transaction (the throttled request itself answers 429 and rolls back): rolls back
    what the request had, writes, commits. Returns whether an entry was written."""
    from buyergroup.audit.models import AuditEntry

    db.session.rollback()
    email = normalise_email(email)[:254]
    address = audit._client_address()
    since = utcnow() - timedelta(seconds=max(window_seconds, 1))
    user = get_user_by_email(email) if email else None
    label = user.email if user is not None else email
    recent = db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == AuditAction.sign_in_failures,
            func.lower(AuditEntry.target_label) == label.lower(),
            AuditEntry.remote_addr.is_(None) if address is None
            else AuditEntry.remote_addr == address,
            AuditEntry.created_at >= since,
        ).limit(1)
    )
    if recent is not None:
        db.session.rollback()
        return False
    target = (Target("user", user.id, user.email) if user is not None
              else Target("account", None, email))
    audit.record(AuditAction.sign_in_failures, actor=None, target=target,
                 details={"window_seconds": window_seconds})
    db.session.commit()
    return True


# --- Password reset -----------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists; says nothing either way (no user probing)."""
    user = get_user_by_email(email)
    secret = new_secret()
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    if user is None or not user.is_active:
        # Equal work for strangers: hash a secret and render the same mail, then drop it
        # (the view also sends the real mail after the response, so neither waits on SMTP).
        hash_secret(secret)
        link = external_url("accounts.reset_password", token=secret)
        with force_locale("en"):
            for part in ("subject.txt", "txt"):
                render_template(
                    f"email/password_reset.{part}", user=SimpleNamespace(name=""), link=link,
                    hours=hours,
                )
        return
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=hash_secret(secret),
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    db.session.flush()
    queue_email(
        user.email,
        "password_reset",
        locale=user.locale or "en",
        user=user,
        link=external_url("accounts.reset_password", token=secret),
        hours=hours,
    )


def _usable_reset(secret: str) -> PasswordReset:
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == hash_secret(secret))
    )
    if (
        reset is None
        or reset.used_at is not None
        or reset.expires_at <= utcnow()
        or not reset.user.is_active  # a deactivated account cannot be taken back this way
    ):
        raise TokenInvalid()
    return reset


def check_reset_token(secret: str) -> User:
    return _usable_reset(secret).user


def reset_password(secret: str, new_password: str) -> User:
    reset = _usable_reset(secret)
    set_password(reset.user, new_password)
    reset.used_at = utcnow()
    return reset.user


# --- Invitations ----------------------------------------------------------------------------


def invite(
    *,
    inviter: User,
    email: str,
    organisation,
    name: str = "",
    role: Role = Role.member,
    group=None,
    locale: str = "en",
    message: str = "",
) -> Invitation:
    """Invite someone to create an account in ``organisation``; emails them a link."""
    permissions.require_can_invite(inviter, role)
    require_can_invite_to_group(inviter, group)
    email = normalise_email(email)
    if get_user_by_email(email) is not None:
        raise AlreadyExists(_("This person already has an account."), field="email")
    for earlier in db.session.scalars(
        select(Invitation).where(
            Invitation.email == email, Invitation.state == InvitationState.pending
        )
    ):
        earlier.state = InvitationState.revoked  # only the newest link works
    secret = new_secret()
    invitation = Invitation(
        email=email,
        name=name.strip(),
        organisation=organisation,
        group_id=group.id if group is not None else None,
        role=role,
        locale=locale if locale in LANGUAGES else "en",
        message=message.strip(),
        token_hash=hash_secret(secret),
        invited_by=inviter,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        AuditAction.invitation_sent, actor=inviter,
        target=Target("invitation", invitation.id, email),
        details={"role": role.value, "group": group.slug if group is not None else None},
    )
    queue_email(
        email,
        "invitation",
        locale=invitation.locale,
        invitation=invitation,
        inviter=inviter,
        link=external_url("accounts.accept_invitation", token=secret),
        days=current_app.config["INVITATION_DAYS"],
    )
    return invitation


def get_usable_invitation(secret: str) -> Invitation:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_secret(secret))
    )
    if invitation is None or not invitation.is_usable:
        raise TokenInvalid()
    return invitation


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    permissions.require_can_revoke_invitation(actor, invitation)
    if invitation.state is InvitationState.pending:
        invitation.state = InvitationState.revoked
        audit.record(
            AuditAction.invitation_revoked, actor=actor,
            target=Target("invitation", invitation.id, invitation.email),
        )


# --- Profiles and roles ---------------------------------------------------------------------

PROFILE_FIELDS = (
    "name",
    "job_title",
    "country",
    "bio",
    "locale",
    "timezone",
    "languages",
    "expertise",
    "organisation",
)


def update_profile(user: User, **changes) -> User:
    """Apply profile fields; unknown fields are a programming error, bad values a user one."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {sorted(unknown)}")
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ValidationFailed(_("Please enter your name."), field="name")
        user.name = name
    if "timezone" in changes and changes["timezone"]:
        if not is_valid_timezone(changes["timezone"]):
            raise ValidationFailed(_("Choose a time zone from the list."), field="timezone")
        user.timezone = changes["timezone"]
    if "locale" in changes:
        locale = changes["locale"] or None
        if locale is not None and locale not in LANGUAGES:
            raise ValidationFailed(_("Choose a language from the list."), field="locale")
        user.locale = locale
    for field in ("job_title", "bio"):
        if field in changes:
            setattr(user, field, (changes[field] or "").strip())
    if "country" in changes:
        user.country = (changes["country"] or "").upper() or None
    if "languages" in changes:
        user.languages = list(changes["languages"] or [])
    if "expertise" in changes:
        user.expertise = list(changes["expertise"] or [])
    if "organisation" in changes:
        user.organisation = changes["organisation"]
    return user


def change_role(actor: User, user: User, role: Role) -> None:
    permissions.require_can_change_roles(actor)
    if user.id == actor.id and role is not Role.admin:
        raise OwnAdministratorRoleKept()
    if user.role is not role:
        audit.record(
            AuditAction.role_changed, actor=actor, target=user,
            details={"from": user.role.value, "to": role.value},
        )
    user.role = role


def set_active(actor: User, user: User, active: bool) -> None:
    permissions.require_can_set_active(actor)
    if user.id == actor.id:
        raise OwnAccountKeptActive()
    if bool(user.is_active_account) != active:
        audit.record(
            AuditAction.account_activated if active else AuditAction.account_deactivated,
            actor=actor, target=user,
        )
    user.is_active_account = active
    if not active:
        # Ended, not only refused while inactive: reactivating must not revive them.
        sessions.end_all(user)


# --- Member directory -----------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    text: str = ""
    country: str = ""
    organisation_id: int | None = None
    expertise: str = ""
    language: str = ""


def directory_query(filters: DirectoryFilters):
    """A select of active members matching the filters, ordered by name."""
    query = (
        select(User)
        # Members who chose not to be listed are not found, not counted, not matched.
        .where(User.is_active_account.is_(True), User.listed_in_directory.is_(True))
        .outerjoin(Organisation, User.organisation_id == Organisation.id)
        # The cards name each member's organisation: from the join, not a lookup each.
        .options(contains_eager(User.organisation))
        .order_by(func.lower(User.name))
    )
    if filters.text:
        # autoescape: "%" and "_" typed by the user are matched literally, not as wildcards.
        text = filters.text.strip().lower()
        query = query.where(
            or_(
                func.lower(User.name).contains(text, autoescape=True),
                func.lower(User.job_title).contains(text, autoescape=True),
                func.lower(User.bio).contains(text, autoescape=True),
                func.lower(Organisation.name).contains(text, autoescape=True),
            )
        )
    if filters.country:
        query = query.where(User.country == filters.country.upper())
    if filters.organisation_id:
        query = query.where(User.organisation_id == filters.organisation_id)
    if filters.expertise:
        query = query.where(
            User.id.in_(
                select(UserExpertise.user_id).where(UserExpertise.code == filters.expertise)
            )
        )
    if filters.language:
        query = query.where(
            User.id.in_(select(UserLanguage.user_id).where(UserLanguage.code == filters.language))
        )
    return query


# --- API tokens ------------------------------------------------------------------------------

TOKEN_PREFIX = "bg_"


#: Longest lifetime a member may choose for a token (a token may also never expire).
MAX_TOKEN_DAYS = 3650


def create_api_token(
    user: User,
    name: str,
    *,
    scope: TokenScope = TokenScope.write,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the secret, which is shown once and never stored.

    ``scope`` read lets it only read; write (the default, as tokens always were) lets it
    change things too. ``expires_in_days`` None: it works until revoked.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the token a name so you can recognise it."), field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            _("Choose between 1 and %(days)d days.", days=MAX_TOKEN_DAYS),
            field="expires_in_days",
        )
    secret = TOKEN_PREFIX + new_secret()
    token = ApiToken(
        user=user, name=name[:80], prefix=secret[:10], token_hash=hash_secret(secret),
        scope=scope,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        AuditAction.token_created, actor=user, target=token, details={"scope": scope.value}
    )
    return token, secret


def find_api_token(secret: str) -> ApiToken | None:
    """The token with this secret, usable or not (callers say why one was refused)."""
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))


#: How stale a token's "last used" date may get before a request records a new one.
LAST_USE_PRECISION = timedelta(hours=1)


def user_for_api_token(secret: str) -> User | None:
    """The member of a usable (active, unexpired) token, noting its use; else None."""
    token = find_api_token(secret)
    if token is None or not token.is_usable:
        return None
    record_token_use(token)
    return token.user


def record_token_use(token: ApiToken) -> None:
    """Note when a token was last used, to the hour.

    The one write an API GET makes, on purpose: the owner needs the date to spot a token
    that leaked or is no longer used, and reads are most of what tokens do. Kept to one
    write per token per hour, so a busy script does not turn every read into an update.
    """
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        token.last_used_at = now


def revoke_api_token(actor: User, token: ApiToken) -> None:
    permissions.require_can_revoke_api_token(actor, token)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            AuditAction.token_revoked, actor=actor, target=token,
            details={"scope": token.scope.value},
        )
