"""Signing in and out, rate limits, forgotten passwords and invitations, through HTTP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from limits import parse as parse_limit
from sqlalchemy import select

from buyergroup.accounts import service
from buyergroup.accounts.models import Invitation, InvitationState, Role
from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from tests.accounts.helpers import element, flashes, html_lang, link_in, path_of
from tests.conftest import TEST_PASSWORD, body_of

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database

NEW_PASSWORD = "a brand new passphrase"
WRONG_PASSWORD = "not the password at all"
BAD_CREDENTIALS = "The email address or password is not correct."
INVALID_LINK = "This link is invalid, has expired or has already been used."
TOO_MANY = "Too many sign-in attempts"


def same_page(html: str) -> str:
    """The page without what differs between two sessions (the CSRF token)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)


def signed_in(client) -> bool:
    """Whether the client's session is signed in: the profile page answers instead of
    sending it to the sign-in page."""
    response = client.get("/profile")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def password_works(email: str, password: str) -> bool:
    db.session.expire_all()  # requests commit in their own session
    return service.authenticate(email, password) is not None


def sign_in(client, email, password=TEST_PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


# --- The sign-in page -----------------------------------------------------------------------


def test_sign_in_page_shows_the_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert element(html, "email")["autocomplete"] == "username"
    assert element(html, "password")["type"] == "password"
    assert element(html, "remember")["type"] == "checkbox"
    assert 'href="/password/forgot"' in html


def test_wrong_password_and_unknown_email_get_the_same_answer(client, member):
    wrong_password = sign_in(client, member.email, WRONG_PASSWORD)
    unknown_email = sign_in(client, "stranger@example.org", WRONG_PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 200
    first = wrong_password.get_data(as_text=True)
    second = unknown_email.get_data(as_text=True)
    assert flashes(first) == flashes(second) == [BAD_CREDENTIALS]
    # The whole page is the same apart from the address typed in.
    assert same_page(first).replace(member.email, "ADDRESS") == same_page(second).replace(
        "stranger@example.org", "ADDRESS"
    )
    assert not signed_in(client)


def test_deactivated_account_gets_the_same_answer_as_a_wrong_password(client, member):
    member.is_active_account = False
    db.session.commit()
    response = sign_in(client, member.email)
    assert response.status_code == 200
    assert flashes(response.get_data(as_text=True)) == [BAD_CREDENTIALS]
    assert not signed_in(client)


def test_successful_sign_in_redirects_home_and_signs_in(client, member):
    response = sign_in(client, "MEMBER@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Welcome back, Mia Member." in flashes(home)
    assert signed_in(client)


@pytest.mark.parametrize(("own_setting", "after_sign_in"), [(None, "de"), ("fr", "fr")])
def test_language_chosen_before_sign_in_is_kept_unless_the_account_has_one(
    client, make_user, own_setting, after_sign_in
):
    user = make_user(locale=own_setting)
    client.post("/language", data={"language": "de", "next": "/login"})
    assert html_lang(client.get("/login").get_data(as_text=True)) == "de"
    assert sign_in(client, user.email).status_code == 302
    page = client.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert html_lang(page) == after_sign_in


def test_sign_in_page_carries_next_into_the_form(client):
    html = client.get("/login?next=/members%3Fcountry%3DBE").get_data(as_text=True)
    assert element(html, "next")["value"] == "/members?country=BE"


def test_successful_sign_in_goes_to_a_safe_next_page(client, member):
    response = sign_in(client, member.email, next="/members?country=BE")
    assert response.status_code == 302
    assert response.headers["Location"] == "/members?country=BE"


UNSAFE_NEXT = [
    "//evil.example",
    "https://evil.example",
    "https://evil.example/login",
    "http:evil.example",
    "/\t/evil.example",  # browsers drop the tab: "//evil.example"
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",  # browsers read a backslash as a slash
    "\\\\evil.example",
    "javascript:alert(1)",
    "",
]


@pytest.mark.parametrize("unsafe_next", ["//evil.example", "https://evil.example",
                                         "/\t/evil.example"])
def test_sign_in_never_redirects_to_another_site(client, member, unsafe_next):
    response = sign_in(client, member.email, next=unsafe_next)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("unsafe_next", UNSAFE_NEXT)
def test_unsafe_next_targets_are_replaced_by_the_home_page(app, unsafe_next):
    from buyergroup.security import safe_next_url

    with app.test_request_context():
        assert safe_next_url(unsafe_next) == "/"
        assert safe_next_url("/groups/fair-laptops?tab=members#top") == (
            "/groups/fair-laptops?tab=members#top"
        )


def remember_cookie_headers(response) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]


def test_remember_me_sets_a_long_lived_http_only_cookie(client, member):
    response = sign_in(client, member.email, remember="y")
    (cookie,) = remember_cookie_headers(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert any(a.startswith("expires=") for a in attributes)


def test_remember_me_cookie_signs_in_after_the_session_is_gone(new_client, member):
    browser = new_client()
    sign_in(browser, member.email, remember="y")
    browser.delete_cookie("session")
    assert signed_in(browser)


def test_without_remember_me_no_remember_cookie_is_set(client, member):
    response = sign_in(client, member.email)
    assert response.status_code == 302
    assert remember_cookie_headers(response) == []
    assert client.get_cookie("remember_token") is None


def test_sign_out_needs_a_post(client, member):
    sign_in(client, member.email)
    response = client.get("/logout")
    assert response.status_code == 405
    assert signed_in(client)

    response = client.post("/logout")
    assert response.status_code == 302
    assert "You have signed out." in flashes(client.get("/").get_data(as_text=True))
    assert not signed_in(client)


def test_deactivated_member_is_signed_out_on_their_next_request(client, member):
    sign_in(client, member.email)
    member.is_active_account = False
    db.session.commit()
    assert not signed_in(client)


# --- Rate limits ----------------------------------------------------------------------------


def limit_amount(app, setting: str) -> int:
    return parse_limit(app.config[setting]).amount


def from_address(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(app, new_client, member):
    attempts = limit_amount(app, "LOGIN_RATE_LIMIT_PER_ACCOUNT")
    attacker = from_address(new_client(), "203.0.113.1")
    for _attempt in range(attempts):
        assert sign_in(attacker, member.email, WRONG_PASSWORD).status_code == 200

    # The guesser is stopped for this account, whatever the spelling, even with the right
    # password; the page offers the reset link instead of a dead end.
    response = sign_in(attacker, " Member@Example.org ", TEST_PASSWORD)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert TOO_MANY in html
    assert element(html, "throttled")
    assert 'href="/password/forgot"' in html
    assert not signed_in(attacker)

    # The owner, signing in from their own address, is not locked out.
    owner = from_address(new_client(), "198.51.100.7")
    assert sign_in(owner, member.email, TEST_PASSWORD).status_code == 302
    assert signed_in(owner)

    # Other accounts are not affected by it, from the attacker's address either.
    assert sign_in(attacker, "someone-else@example.org", WRONG_PASSWORD).status_code == 200


def test_successful_sign_ins_do_not_count_towards_the_account_limit(app, client, member):
    attempts = limit_amount(app, "LOGIN_RATE_LIMIT_PER_ACCOUNT")
    for _attempt in range(attempts - 1):
        assert sign_in(client, member.email, WRONG_PASSWORD).status_code == 200
    for _attempt in range(2):
        assert sign_in(client, member.email).status_code == 302
        client.post("/logout")


def test_too_many_failed_attempts_from_one_address_block_it_for_every_account(
    app, new_client, monkeypatch
):
    # The limit is read on each request; a lower one keeps this test quick.
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ADDRESS", "3 per 5 minutes")
    attacker = from_address(new_client(), "203.0.113.9")
    for n in range(3):
        assert sign_in(attacker, f"guess{n}@example.org", WRONG_PASSWORD).status_code == 200

    response = sign_in(attacker, "another-guess@example.org", WRONG_PASSWORD)
    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)

    other_address = from_address(new_client(), "198.51.100.7")
    assert sign_in(other_address, "another-guess@example.org", WRONG_PASSWORD).status_code == 200


def test_default_login_limits():
    from buyergroup.config import from_environment

    config = from_environment({})
    assert config["LOGIN_RATE_LIMIT_PER_ACCOUNT"] == "5 per 5 minutes"
    assert parse_limit(config["LOGIN_RATE_LIMIT_PER_ADDRESS"]).amount > 5


# --- Forgotten password ---------------------------------------------------------------------


def ask_for_reset(client, email):
    """Ask for a reset link; the response is closed as a server closes it after sending,
    which is when the mail leaves (see security.deliver_mail_after_response)."""
    response = client.post("/password/forgot", data={"email": email})
    response.get_data()
    response.close()
    return response


def test_forgot_password_answers_the_same_for_unknown_and_known_emails(
    new_client, member, mailbox
):
    known_browser, unknown_browser = new_client(), new_client()
    known = ask_for_reset(known_browser, member.email)
    unknown = ask_for_reset(unknown_browser, "stranger@example.org")

    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    known_page = known_browser.get("/login").get_data(as_text=True)
    unknown_page = unknown_browser.get("/login").get_data(as_text=True)
    assert same_page(known_page).replace(member.email, "ADDRESS") == same_page(
        unknown_page
    ).replace("stranger@example.org", "ADDRESS")
    assert any("we have sent it a link" in f for f in flashes(known_page))
    assert [m["To"] for m in mailbox.messages] == [member.email]


@pytest.mark.parametrize("locale", [None, "nl", "fr"])
def test_reset_mail_arrives_in_the_members_language_with_a_link(
    client, make_user, mailbox, locale
):
    user = make_user("reader@example.org", name="Rita Reader", password=None, locale=locale)
    ask_for_reset(client, "Reader@Example.org")

    message = mailbox.last_to(user.email)
    with force_locale(locale or "en"):
        assert message["Subject"] == _("Choose a new Buyergroup password")
        assert _("Hello %(name)s,", name="Rita Reader") in body_of(message)
    link = link_in(message)
    assert link.startswith("http://buyergroup.test/password/reset/")
    assert client.get(path_of(link)).status_code == 200


def test_reset_mail_declares_its_language(client, make_user, mailbox):
    make_user("reader@example.org", password=None, locale="nl")
    ask_for_reset(client, "reader@example.org")
    assert mailbox.last_to("reader@example.org")["Content-Language"] == "nl"


def test_reset_link_lets_the_member_choose_a_new_password_once(new_client, member, mailbox):
    ask_for_reset(new_client(), member.email)
    reset_path = path_of(link_in(mailbox.last_to(member.email)))

    browser = new_client()
    page = browser.get(reset_path)
    assert page.status_code == 200
    assert member.email in page.get_data(as_text=True)

    response = browser.post(reset_path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    assert sign_in(browser, member.email, TEST_PASSWORD).status_code == 200  # old one refused
    assert sign_in(browser, member.email, NEW_PASSWORD).status_code == 302
    assert signed_in(browser)

    for again in (new_client().get(reset_path),
                  new_client().post(reset_path, data={"password": "x" * 12, "confirm": "x" * 12})):
        assert again.status_code == 400
        html = again.get_data(as_text=True)
        assert INVALID_LINK in html
        assert 'href="/password/forgot"' in html
    assert password_works(member.email, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("short", "short", "password", "Field must be between 10 and 200 characters long."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm", "The two passwords differ."),
    ],
)
def test_reset_form_refuses_bad_new_passwords_and_keeps_the_link(
    new_client, member, mailbox, password, confirm, field, message
):
    ask_for_reset(new_client(), member.email)
    reset_path = path_of(link_in(mailbox.last_to(member.email)))
    browser = new_client()

    response = browser.post(reset_path, data={"password": password, "confirm": confirm})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert element(html, field)["aria-invalid"] == "true"
    assert element(html, f"{field}-error")["<text>"] == message
    assert browser.get(reset_path).status_code == 200  # the link still works
    assert password_works(member.email, TEST_PASSWORD)


def test_unknown_reset_link_shows_the_invalid_link_page(client):
    response = client.get("/password/reset/made-up-token")
    assert response.status_code == 400
    assert INVALID_LINK in response.get_data(as_text=True)


# --- Invitations through the interface ------------------------------------------------------


def test_invitation_end_to_end(new_client, organiser, make_organisation, make_group, mailbox):
    organisation = make_organisation("Stad Gent")
    group = make_group("Fair laptops")

    desk = new_client()
    assert sign_in(desk, organiser.email).status_code == 302
    response = desk.post("/manage/invite", data={
        "email": "Nina@Gent.be",
        "name": "Nina Nieuw",
        "organisation_id": str(organisation.id),
        "group_id": str(group.id),
        "role": "member",
        "locale": "nl",
        "message": "Welcome to the laptop group!",
    })
    assert response.status_code == 302, response.get_data(as_text=True)

    message = mailbox.last_to("nina@gent.be")
    with force_locale("nl"):  # the language the organiser chose for the invitation
        assert message["Subject"] == _("%(inviter)s invites you to Buyergroup",
                                       inviter="Oscar Organiser")
    assert "Welcome to the laptop group!" in body_of(message)
    invitation_path = path_of(link_in(message))

    newcomer = new_client()
    page = newcomer.get(invitation_path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stad Gent" in html and "nina@gent.be" in html
    assert element(html, "name")["value"] == "Nina Nieuw"

    response = newcomer.post(invitation_path, data={
        "name": "Nina Nieuwenhuys",
        "job_title": "ICT buyer",
        "locale": "nl",
        "timezone": "Europe/Brussels",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    profile = newcomer.get("/profile")
    assert profile.status_code == 200
    html = profile.get_data(as_text=True)
    assert html_lang(html) == "nl"
    with force_locale("nl"):
        assert _("Signed in as %(email)s · %(role)s", email="nina@gent.be",
                 role=_("Member")) in html

    db.session.expire_all()
    user = service.get_user_by_email("nina@gent.be")
    assert user.name == "Nina Nieuwenhuys"
    assert user.job_title == "ICT buyer"
    assert user.locale == "nl"
    assert user.organisation_id == organisation.id
    assert user.role is Role.member
    assert group.membership_of(user) is not None
    assert db.session.scalar(select(Invitation)).state is InvitationState.accepted

    # The link was for one account only.
    again = new_client().get(invitation_path)
    assert again.status_code == 400
    assert INVALID_LINK in again.get_data(as_text=True)


def test_expired_invitation_link_shows_the_invalid_link_page(client, organiser,
                                                             make_organisation, app):
    with app.test_request_context():
        invitation = service.invite(inviter=organiser, email="late@example.org",
                                    organisation=make_organisation())
        invitation.expires_at = utcnow()
        db.session.commit()
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == "late@example.org")
    )

    response = client.get(path_of(link_in(mail)))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert INVALID_LINK in html
    assert "Ask the person who invited you to send a new invitation." in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_member_cannot_use_the_invitation_desk(client, member, make_organisation, mailbox,
                                               method):
    organisation = make_organisation()
    sign_in(client, member.email)
    response = getattr(client, method)("/manage/invite", data={
        "email": "friend@example.org", "organisation_id": str(organisation.id),
        "role": "member", "locale": "en",
    })
    assert response.status_code == 403
    assert db.session.scalars(select(Invitation)).all() == []
    assert mailbox.messages == []


def test_visitor_is_sent_to_sign_in_from_the_invitation_desk(client):
    response = client.get("/manage/invite")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
