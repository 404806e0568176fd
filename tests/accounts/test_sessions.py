"""Sessions that end: a cookie copied before sign-out, a password change or reset, a
deactivation or "sign out everywhere" no longer opens anything, on any browser.

Each test copies cookies between two test browsers, the way a thief with a captured cookie
(or a forgotten shared computer) would use them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.accounts.models import UserSession
from buyergroup.extensions import db
from tests.accounts.helpers import element, link_in, path_of
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def sign_in(client, email, password=TEST_PASSWORD, headers=None, **extra):
    response = client.post(
        "/login", data={"email": email, "password": password, **extra}, headers=headers
    )
    assert response.status_code == 302, "sign-in failed"
    return response


def signed_in(client) -> bool:
    response = client.get("/profile")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of(new_client, browser, *names: str):
    """Another browser holding copies of ``browser``'s cookies ``names``."""
    thief = new_client()
    for name in names:
        cookie = browser.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


@pytest.fixture
def remembered(new_client, member):
    """A browser signed in with "keep me signed in", and two stolen copies of it."""
    browser = new_client()
    sign_in(browser, member.email, remember="y")
    session_copy = copy_of(new_client, browser, "session")
    remember_copy = copy_of(new_client, browser, "remember_token")
    assert signed_in(session_copy) and signed_in(remember_copy)
    return browser, session_copy, remember_copy


def test_a_session_cookie_copied_before_sign_out_no_longer_opens_the_profile(
    new_client, member
):
    browser = new_client()
    sign_in(browser, member.email)
    stolen = copy_of(new_client, browser, "session")
    assert signed_in(stolen)

    browser.post("/logout")

    assert not signed_in(browser)
    assert not signed_in(stolen)


def test_signing_out_ends_that_browsers_remember_cookie_too(remembered):
    browser, session_copy, remember_copy = remembered
    browser.post("/logout")
    assert not signed_in(session_copy)
    assert not signed_in(remember_copy)


def test_signing_out_on_one_browser_keeps_the_others_signed_in(new_client, member):
    laptop, phone = new_client(), new_client()
    sign_in(laptop, member.email)
    sign_in(phone, member.email)
    laptop.post("/logout")
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_a_password_reset_ends_every_session_and_remember_cookie(
    new_client, remembered, member, mailbox
):
    browser, session_copy, remember_copy = remembered
    helper = new_client()
    helper.post("/password/forgot", data={"email": member.email}).close()
    reset = path_of(link_in(mailbox.last_to(member.email)))
    response = helper.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302

    for client in (browser, session_copy, remember_copy):
        assert not signed_in(client)
    sign_in(new_client(), member.email, NEW_PASSWORD)


def test_a_password_change_ends_every_other_session_but_keeps_its_own_browser(
    new_client, remembered, member
):
    browser, session_copy, remember_copy = remembered
    response = browser.post("/profile/password", data={
        "current_password": TEST_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 302

    assert signed_in(browser)
    assert not signed_in(session_copy)
    assert not signed_in(remember_copy)
    # The browser that changed it was remembered, and still is, with a new cookie.
    browser.delete_cookie("session")
    assert signed_in(browser)


def test_a_wrong_current_password_ends_nothing(remembered):
    browser, session_copy, remember_copy = remembered
    response = browser.post("/profile/password", data={
        "current_password": "not the password", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 200
    assert signed_in(session_copy) and signed_in(remember_copy)


def test_deactivation_ends_sessions_for_good(new_client, remembered, member, admin):
    browser, session_copy, remember_copy = remembered
    desk = new_client()
    sign_in(desk, admin.email)
    assert desk.post(f"/manage/users/{member.id}/deactivate").status_code == 302
    assert not signed_in(browser)
    # Reactivating the account does not bring the old cookies back.
    assert desk.post(f"/manage/users/{member.id}/activate").status_code == 302
    for client in (browser, session_copy, remember_copy):
        assert not signed_in(client)


def test_sign_out_everywhere_is_a_button_on_the_profile(new_client, remembered, member):
    browser, session_copy, remember_copy = remembered
    other = new_client()
    sign_in(other, member.email)

    html = browser.get("/profile").get_data(as_text=True)
    button = element(html, "sign-out-everywhere")
    assert button["action"] == "/profile/sessions/end-all"
    response = browser.post("/profile/sessions/end-all")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/login"

    for client in (browser, session_copy, remember_copy, other):
        assert not signed_in(client)


def test_the_profile_lists_sessions_and_ends_another_one(new_client, member):
    laptop, phone = new_client(), new_client()
    sign_in(laptop, member.email)
    sign_in(phone, member.email, headers={"User-Agent": "PhoneBrowser/1.0"})
    html = laptop.get("/profile").get_data(as_text=True)
    assert "PhoneBrowser/1.0" in html

    db.session.expire_all()
    phone_session = db.session.scalar(
        select(UserSession).where(UserSession.user_agent == "PhoneBrowser/1.0")
    )
    assert laptop.post(f"/profile/sessions/{phone_session.id}/end").status_code == 302
    assert not signed_in(phone)
    assert signed_in(laptop)


def test_nobody_ends_someone_elses_session(new_client, member, make_user):
    victim = make_user("victim@example.org")
    victims_browser, attacker = new_client(), new_client()
    sign_in(victims_browser, victim.email)
    sign_in(attacker, member.email)
    db.session.expire_all()
    victims_session = db.session.scalar(
        select(UserSession).where(UserSession.user_id == victim.id)
    )
    assert attacker.post(f"/profile/sessions/{victims_session.id}/end").status_code == 404
    assert signed_in(victims_browser)


def test_the_list_of_sessions_names_the_browser_as_a_member_knows_it(app):
    from buyergroup.accounts.sessions import describe_browser

    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    edge = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
    with app.test_request_context():
        assert describe_browser(firefox) == "Firefox on Windows"
        assert describe_browser(edge) == "Edge on Windows"
        assert describe_browser(iphone) == "Safari on iPhone"
        assert describe_browser("curl/8.5") == "curl/8.5"


def test_the_loaders_one_statement_asks_each_inner_question_once(
    app, backend, client, member
):
    # The member's groups and the header's count come with the account, as subqueries
    # about the session's user id (a parameter). Correlated with ``users.id`` instead, SQLite
    # ran the count's inner queries once per notification: 5 ms on every signed-in request.
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from sqlalchemy import event

    client.post("/login", data={"email": member.email, "password": TEST_PASSWORD})
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM users JOIN user_sessions" in statement:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/about").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    [(statement, parameters)] = sent
    assert "community_notifications" in statement and "group_memberships" in statement
    cursor = db.session.connection().connection.cursor()
    details = [row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert any("SCALAR SUBQUERY" in detail for detail in details), details
    assert not any("CORRELATED" in detail for detail in details), details
    # Which items the member co-authored, by the index on the authors' member: read
    # whole, the table's every row would be read on every signed-in request.
    assert not any(detail.startswith("SCAN library_item_authors") for detail in details), details
