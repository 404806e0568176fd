"""The privacy page, its footer link, and the member's choices."""

from __future__ import annotations

from buyergroup.accounts.models import User
from buyergroup.extensions import db
from tests.privacy.conftest import reload


def test_privacy_page_is_linked_from_every_footer_and_names_the_rights(client, member, auth):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in home
    page = client.get("/privacy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in ("What we store, and why", "Your rights", "365 days after the event",
                  "former member"):
        assert words in text
    auth.login(member)
    text = client.get("/privacy").get_data(as_text=True)
    for link in ('href="/profile/data"', 'href="/profile/erase"', 'href="/profile/privacy"'):
        assert link in text


def test_choices_are_saved_and_default_to_private(client, auth, member):
    assert member.email_visible is False
    assert member.listed_in_directory is True
    assert member.listed_on_participant_lists is False
    auth.login(member)
    page = client.get("/profile/privacy").get_data(as_text=True)
    assert "Members may see my email address" in page
    response = client.post("/profile/privacy", data={
        "email_visible": "y", "listed_in_directory": "", "listed_on_participant_lists": "y",
    })
    assert response.status_code == 302
    user = reload(member)
    assert (user.email_visible, user.listed_in_directory,
            user.listed_on_participant_lists) == (True, False, True)


def test_the_pages_need_a_signed_in_member(client):
    for path in ("/profile/privacy", "/profile/data", "/profile/erase"):
        assert client.get(path).status_code == 302
    assert db.session.query(User).count() == 0
