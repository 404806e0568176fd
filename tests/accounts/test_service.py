"""Account rules, tested through the service functions (no HTTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from buyergroup.accounts import service
from buyergroup.accounts.models import ApiToken, Invitation, InvitationState, PasswordReset, Role
from buyergroup.database import utcnow
from buyergroup.errors import (
    AlreadyExists,
    NotAllowed,
    OwnAdministratorRoleKept,
    TokenInvalid,
    ValidationFailed,
)
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from buyergroup.onboarding import service as onboarding
from buyergroup.tokens import hash_secret
from tests.accounts.helpers import link_in, token_of
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(autouse=True)
def in_a_request(app):
    """Services run inside a request: their messages are translated for its visitor."""
    with app.test_request_context():
        yield


def last_mail_to(address: str) -> OutboxMessage:
    message = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id.desc())
    )
    assert message is not None, f"no mail queued for {address}"
    return message


def mail_count() -> int:
    return len(db.session.scalars(select(OutboxMessage)).all())


@pytest.fixture
def someone(make_user):
    """A member with no password: quicker to create when the password plays no part."""
    return make_user("someone@example.org", password=None, name="Sam Someone")


# --- Creating accounts and signing in -------------------------------------------------------


@pytest.mark.parametrize(
    "second_email",
    ["member@example.org", "Member@Example.org", "  MEMBER@EXAMPLE.ORG "],
)
def test_create_user_refuses_an_email_that_exists_in_any_case(app, make_user, second_email):
    make_user("member@example.org", password=None)
    with pytest.raises(AlreadyExists) as refused:
        service.create_user(email=second_email, name="Someone Else")
    assert refused.value.field == "email"


def test_create_user_stores_the_email_in_lower_case(app, make_user):
    user = make_user("  Anna.Jansen@Gent.BE ", password=None)
    assert user.email == "anna.jansen@gent.be"


def test_authenticate_accepts_the_right_password_in_any_email_case(app, member):
    assert service.authenticate("MEMBER@example.org", TEST_PASSWORD) is member
    assert member.last_login_at is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.org", TEST_PASSWORD),  # unknown email
        ("member@example.org", "wrong password here"),  # wrong password
        ("member@example.org", ""),
    ],
    ids=["unknown-email", "wrong-password", "empty-password"],
)
def test_authenticate_returns_none(app, member, email, password):
    assert service.authenticate(email, password) is None


def test_deactivated_user_cannot_authenticate(app, member):
    member.is_active_account = False
    db.session.commit()
    assert service.authenticate(member.email, TEST_PASSWORD) is None


def test_user_invited_but_without_password_cannot_authenticate(app, make_user):
    user = make_user("nopassword@example.org", password=None)
    assert user.password_hash is None
    assert service.authenticate(user.email, "") is None
    assert service.authenticate(user.email, TEST_PASSWORD) is None


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_password_shorter_than_the_minimum_is_refused(app, password):
    with pytest.raises(ValidationFailed) as refused:
        service.hash_password(password)
    assert refused.value.field == "password"


def test_create_user_with_a_short_password_creates_nothing(app):
    with pytest.raises(ValidationFailed):
        service.create_user(email="short@example.org", name="Short", password="tooshort")
    db.session.rollback()
    assert service.get_user_by_email("short@example.org") is None


def test_password_of_exactly_the_minimum_length_is_accepted(app):
    assert service.hash_password("x" * service.MIN_PASSWORD_LENGTH).startswith("$argon2id$")


def test_change_password_needs_the_current_password(app, member):
    with pytest.raises(ValidationFailed) as refused:
        service.change_password(member, "not my password", NEW_PASSWORD)
    assert refused.value.field == "current_password"
    service.change_password(member, TEST_PASSWORD, NEW_PASSWORD)
    assert service.authenticate(member.email, NEW_PASSWORD) is member
    assert service.authenticate(member.email, TEST_PASSWORD) is None


# --- Password reset -------------------------------------------------------------------------


def request_reset_secret(user) -> str:
    """Ask for a reset link the way a member does; the secret exists only in the mail."""
    service.request_password_reset(user.email.upper())
    db.session.commit()
    return token_of(link_in(last_mail_to(user.email)))


def test_reset_link_is_mailed_and_only_its_hash_is_stored(app, someone):
    secret = request_reset_secret(someone)
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == someone.id))
    assert reset.token_hash == hash_secret(secret)
    assert secret not in reset.token_hash
    assert service.check_reset_token(secret) is someone


def test_reset_request_for_unknown_or_deactivated_account_sends_nothing(app, make_user):
    inactive = make_user("gone@example.org", password=None)
    inactive.is_active_account = False
    db.session.commit()
    service.request_password_reset("nobody@example.org")
    service.request_password_reset("gone@example.org")
    assert mail_count() == 0
    assert db.session.scalars(select(PasswordReset)).all() == []


def test_reset_link_works_once(app, someone):
    secret = request_reset_secret(someone)
    service.reset_password(secret, NEW_PASSWORD)
    db.session.commit()
    assert service.authenticate(someone.email, NEW_PASSWORD) is someone
    with pytest.raises(TokenInvalid):
        service.reset_password(secret, "yet another passphrase")
    with pytest.raises(TokenInvalid):
        service.check_reset_token(secret)


def test_reset_link_expires(app, someone):
    secret = request_reset_secret(someone)
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == someone.id))
    expected = utcnow() + timedelta(hours=app.config["PASSWORD_RESET_HOURS"])
    assert abs(reset.expires_at - expected) < timedelta(minutes=1)

    reset.expires_at = utcnow() + timedelta(minutes=1)
    db.session.commit()
    assert service.check_reset_token(secret) is someone  # still valid just before expiry

    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(TokenInvalid):
        service.check_reset_token(secret)
    with pytest.raises(TokenInvalid):
        service.reset_password(secret, NEW_PASSWORD)


def test_unknown_reset_token_is_invalid(app):
    with pytest.raises(TokenInvalid):
        service.check_reset_token("not-a-token")


def test_new_password_invalidates_older_reset_links(app, member):
    first = request_reset_secret(member)
    second = request_reset_secret(member)
    service.change_password(member, TEST_PASSWORD, NEW_PASSWORD)
    db.session.commit()
    for secret in (first, second):
        with pytest.raises(TokenInvalid):
            service.check_reset_token(secret)


def test_using_one_reset_link_invalidates_the_others(app, someone):
    first = request_reset_secret(someone)
    second = request_reset_secret(someone)
    service.reset_password(second, NEW_PASSWORD)
    db.session.commit()
    with pytest.raises(TokenInvalid):
        service.reset_password(first, "an attacker's passphrase")


# --- Invitations ----------------------------------------------------------------------------


@pytest.fixture
def inviter(make_user):
    return make_user("organiser@example.org", role="organiser", name="Oscar Organiser",
                     password=None)


def send_invitation(inviter, organisation, email="new@example.org", **options) -> str:
    service.invite(inviter=inviter, email=email, organisation=organisation, **options)
    db.session.commit()
    return token_of(link_in(last_mail_to(email.strip().lower())))


def test_accepting_an_invitation_creates_the_account_in_organisation_and_group(
    app, inviter, make_organisation, make_group
):
    organisation = make_organisation("Stad Gent")
    group = make_group("Fair laptops")
    secret = send_invitation(inviter, organisation, email="Nieuw@Gent.be", role=Role.organiser,
                             group=group, locale="nl")

    user = onboarding.accept_invitation(secret, name="  Nina Nieuw ", password=NEW_PASSWORD)
    db.session.commit()

    assert user.email == "nieuw@gent.be"
    assert user.name == "Nina Nieuw"
    assert user.organisation is organisation
    assert user.role is Role.organiser
    assert user.locale == "nl"
    membership = group.membership_of(user)
    assert membership is not None and membership.is_active
    assert service.authenticate("nieuw@gent.be", NEW_PASSWORD) is user
    invitation = db.session.scalar(select(Invitation))
    assert invitation.state is InvitationState.accepted
    assert invitation.user is user


def test_accepting_an_invitation_without_group_joins_no_group(
    app, inviter, make_organisation, make_group
):
    group = make_group("Fair laptops")
    secret = send_invitation(inviter, make_organisation())
    user = onboarding.accept_invitation(secret, name="Nina", password=NEW_PASSWORD)
    assert user.role is Role.member
    assert group.membership_of(user) is None


def _expire(invitation):
    invitation.expires_at = utcnow() - timedelta(seconds=1)


def _revoke(invitation):
    service.revoke_invitation(invitation.invited_by, invitation)


def _accept(invitation):
    invitation.state = InvitationState.accepted  # see the "used" test below for the real path


@pytest.mark.parametrize("spoil", [_expire, _revoke, _accept], ids=["expired", "revoked", "used"])
def test_unusable_invitation_raises_token_invalid(app, inviter, make_organisation, spoil):
    secret = send_invitation(inviter, make_organisation())
    spoil(db.session.scalar(select(Invitation)))
    db.session.commit()
    with pytest.raises(TokenInvalid):
        service.get_usable_invitation(secret)
    with pytest.raises(TokenInvalid):
        onboarding.accept_invitation(secret, name="Nina", password=NEW_PASSWORD)


def test_invitation_link_works_only_once(app, inviter, make_organisation):
    secret = send_invitation(inviter, make_organisation())
    onboarding.accept_invitation(secret, name="Nina", password=NEW_PASSWORD)
    db.session.commit()
    with pytest.raises(TokenInvalid):
        onboarding.accept_invitation(secret, name="Someone else", password=NEW_PASSWORD)


def test_invitation_expires_after_the_configured_days(app, inviter, make_organisation):
    send_invitation(inviter, make_organisation())
    invitation = db.session.scalar(select(Invitation))
    expected = utcnow() + timedelta(days=app.config["INVITATION_DAYS"])
    assert abs(invitation.expires_at - expected) < timedelta(minutes=1)


def test_member_cannot_invite(app, make_user, make_organisation):
    member = make_user(password=None)
    with pytest.raises(NotAllowed):
        service.invite(inviter=member, email="new@example.org", organisation=make_organisation())
    assert db.session.scalars(select(Invitation)).all() == []
    assert mail_count() == 0


@pytest.mark.parametrize(
    ("inviter_role", "invited_role", "allowed"),
    [
        ("organiser", Role.member, True),
        ("organiser", Role.organiser, True),
        ("organiser", Role.admin, False),
        ("admin", Role.admin, True),
    ],
)
def test_nobody_can_invite_above_their_own_role(
    app, make_user, make_organisation, inviter_role, invited_role, allowed
):
    inviter = make_user(role=inviter_role, password=None)
    if allowed:
        invitation = service.invite(inviter=inviter, email="new@example.org",
                                    organisation=make_organisation(), role=invited_role)
        assert invitation.role is invited_role
    else:
        with pytest.raises(NotAllowed):
            service.invite(inviter=inviter, email="new@example.org",
                           organisation=make_organisation(), role=invited_role)


def test_inviting_someone_who_has_an_account_is_refused(app, inviter, make_user,
                                                         make_organisation):
    make_user("taken@example.org", password=None)
    with pytest.raises(AlreadyExists):
        service.invite(inviter=inviter, email="TAKEN@example.org",
                       organisation=make_organisation())


def test_reinviting_revokes_the_earlier_link(app, inviter, make_organisation):
    organisation = make_organisation()
    first = send_invitation(inviter, organisation, email="new@example.org")
    second = send_invitation(inviter, organisation, email="NEW@example.org")
    assert first != second
    with pytest.raises(TokenInvalid):
        service.get_usable_invitation(first)
    user = onboarding.accept_invitation(second, name="Nina", password=NEW_PASSWORD)
    assert user.email == "new@example.org"


def test_invitation_in_an_unknown_language_falls_back_to_english(app, inviter,
                                                                  make_organisation):
    send_invitation(inviter, make_organisation(), locale="xx")
    assert db.session.scalar(select(Invitation)).locale == "en"
    assert last_mail_to("new@example.org").locale == "en"


# --- API tokens -----------------------------------------------------------------------------


def test_api_token_secret_is_not_stored(app, someone):
    token, secret = service.create_api_token(someone, "  Report script ")
    db.session.commit()
    assert secret.startswith(service.TOKEN_PREFIX)
    assert token.name == "Report script"
    assert token.token_hash == hash_secret(secret)
    stored = db.session.execute(select(ApiToken.__table__)).one()._asdict()
    assert not any(secret in str(value) for value in stored.values())
    assert service.user_for_api_token(secret) is someone


def test_api_token_needs_a_name(app, someone):
    with pytest.raises(ValidationFailed):
        service.create_api_token(someone, "   ")


def test_revoked_api_token_no_longer_authenticates(app, someone):
    token, secret = service.create_api_token(someone, "Report script")
    service.revoke_api_token(someone, token)
    db.session.commit()
    assert service.user_for_api_token(secret) is None


def test_api_token_of_deactivated_user_no_longer_authenticates(app, someone):
    _, secret = service.create_api_token(someone, "Report script")
    someone.is_active_account = False
    db.session.commit()
    assert service.user_for_api_token(secret) is None


def test_unknown_api_token_does_not_authenticate(app, someone):
    service.create_api_token(someone, "Report script")
    assert service.user_for_api_token("bg_made-up") is None


def test_member_cannot_revoke_someone_elses_api_token(app, someone, make_user):
    other = make_user(password=None)
    token, secret = service.create_api_token(other, "Theirs")
    with pytest.raises(NotAllowed):
        service.revoke_api_token(someone, token)
    assert service.user_for_api_token(secret) is other


# --- Roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", ["member", "organiser"])
def test_only_an_admin_can_change_roles(app, make_user, actor_role):
    actor = make_user(role=actor_role, password=None)
    target = make_user(password=None)
    with pytest.raises(NotAllowed):
        service.change_role(actor, target, Role.organiser)
    assert target.role is Role.member


def test_admin_changes_someone_elses_role(app, make_user):
    admin = make_user(role="admin", password=None)
    target = make_user(password=None)
    service.change_role(admin, target, Role.organiser)
    assert target.role is Role.organiser


@pytest.mark.parametrize("role", [Role.organiser, Role.member])
def test_admin_cannot_demote_themselves(app, make_user, role):
    admin = make_user(role="admin", password=None)
    with pytest.raises(OwnAdministratorRoleKept):
        service.change_role(admin, admin, role)
    assert admin.role is Role.admin


# --- Member directory -----------------------------------------------------------------------


@pytest.fixture
def directory_people(make_user, make_organisation):
    gent = make_organisation("Stad Gent", country="BE")
    paris = make_organisation("Ville de Paris", country="FR")
    make_user("anna@gent.be", password=None, name="Anna Jansen", organisation=gent,
              job_title="ICT buyer", country="BE", languages=["nl", "en"],
              expertise=["laptops"])
    make_user("bruno@paris.fr", password=None, name="bruno Dupont", organisation=paris,
              job_title="Sustainability officer", bio="Works on conflict minerals.",
              country="FR", languages=["fr"], expertise=["conflict-minerals"])
    make_user("carla@example.de", password=None, name="Carla Weber", country="DE",
              languages=["de", "en"], expertise=["servers", "laptops"])
    gone = make_user("dieter@example.de", password=None, name="Dieter Gent", organisation=gent,
                     job_title="ICT buyer", country="BE", languages=["nl", "en", "fr", "de"],
                     expertise=["laptops", "servers", "conflict-minerals"])
    gone.is_active_account = False  # matches every filter, but must never be listed
    db.session.commit()
    return {"Stad Gent": gent.id, "Ville de Paris": paris.id}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["Anna Jansen", "bruno Dupont", "Carla Weber"]),  # by name, ignoring case
        ({"text": "GENT"}, ["Anna Jansen"]),  # organisation name
        ({"text": " sustainability "}, ["bruno Dupont"]),  # job title
        ({"text": "minerals"}, ["bruno Dupont"]),  # bio
        ({"text": "weber"}, ["Carla Weber"]),  # name
        ({"text": "nobody"}, []),
        ({"country": "fr"}, ["bruno Dupont"]),
        ({"organisation": "Stad Gent"}, ["Anna Jansen"]),
        ({"expertise": "laptops"}, ["Anna Jansen", "Carla Weber"]),
        ({"language": "en"}, ["Anna Jansen", "Carla Weber"]),
        ({"language": "en", "country": "DE"}, ["Carla Weber"]),
        ({"expertise": "laptops", "text": "ict"}, ["Anna Jansen"]),
    ],
)
def test_directory_query_filters(app, directory_people, filters, expected):
    filters = dict(filters)
    if "organisation" in filters:
        filters["organisation_id"] = directory_people[filters.pop("organisation")]
    found = db.session.scalars(service.directory_query(service.DirectoryFilters(**filters)))
    assert [user.name for user in found] == expected
