"""The reader's language across signing in and out."""

from __future__ import annotations

import lxml.html

from tests.conftest import TEST_PASSWORD


def lang(response) -> str:
    return lxml.html.fromstring(response.get_data(as_text=True)).get("lang")


def test_a_dutch_member_stays_dutch_after_signing_out(client, make_user):
    member = make_user("daan@example.org", name="Daan", locale="nl")
    headers = {"Accept-Language": "en-GB,en;q=0.9"}  # an English browser
    assert lang(client.get("/", headers=headers)) == "en"
    signed_in = client.post("/login", data={"email": member.email, "password": TEST_PASSWORD},
                            headers=headers, follow_redirects=True)
    assert lang(signed_in) == "nl"
    signed_out = client.post("/logout", headers=headers, follow_redirects=True)
    assert lang(signed_out) == "nl"
    assert lang(client.get("/library", headers=headers)) == "nl"


def test_the_language_chosen_before_signing_in_is_kept(client, make_user):
    member = make_user("ana@example.org", name="Ana", locale=None)
    client.post("/language", data={"language": "fr", "next": "/"})
    page = client.post("/login", data={"email": member.email, "password": TEST_PASSWORD},
                       headers={"Accept-Language": "de"}, follow_redirects=True)
    assert lang(page) == "fr"
    assert lang(client.post("/logout", follow_redirects=True,
                            headers={"Accept-Language": "de"})) == "fr"
