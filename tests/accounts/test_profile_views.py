"""The member's own profile, the member directory, member pages and API tokens, via HTTP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from buyergroup.accounts import service
from buyergroup.accounts.models import ApiToken
from buyergroup.extensions import db
from tests.accounts.helpers import element, flashes, has_element, html_lang
from tests.conftest import TEST_PASSWORD
from tests.network.pages import html

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database


@pytest.fixture
def signed_in_member(client, make_user, make_organisation, sign_in_as):
    member = make_user("member@example.org", password=None, name="Mia Member",
                       organisation=make_organisation())
    sign_in_as(client, member)
    return member


def test_signing_in_through_the_form_gives_the_same_session(new_client, member, sign_in_as):
    """The shortcut used by the other tests behaves as a real sign-in."""
    real = new_client()
    real.post("/login", data={"email": member.email, "password": TEST_PASSWORD})
    shortcut = sign_in_as(new_client(), member)
    for browser in (real, shortcut):
        assert "Signed in as member@example.org" in browser.get("/profile").get_data(
            as_text=True
        )


def profile_form(user, **changes) -> dict:
    """What the profile form posts when the member changes only ``changes``."""
    data = {
        "name": user.name,
        "organisation_id": str(user.organisation_id or ""),
        "job_title": user.job_title,
        "country": user.country or "",
        "languages": user.languages,
        "expertise": user.expertise,
        "bio": user.bio,
        "locale": user.locale or "",
        "timezone": user.timezone,
    }
    data.update(changes)
    return data


def listed_names(html: str) -> list[str]:
    """Names on the member cards of a page."""
    return re.findall(r'<h3><a href="/members/\d+">([^<]*)</a></h3>', html)


# --- Editing one's profile ------------------------------------------------------------------


def test_profile_page_shows_the_members_current_values(client, signed_in_member):
    html = client.get("/profile").get_data(as_text=True)
    assert element(html, "name")["value"] == "Mia Member"
    organisation_option = re.search(
        rf'<option selected value="{signed_in_member.organisation_id}">', html
    )
    assert organisation_option, "the member's organisation is not preselected"
    assert element(html, "timezone")["<tag>"] == "select"
    assert '<option selected value="Europe/Brussels">' in html


def test_profile_edit_saves_every_field(client, signed_in_member, make_organisation, reload):
    paris = make_organisation("Ville de Paris", country="FR")
    response = client.post("/profile", data={
        "name": "  Mia Martin ",
        "organisation_id": str(paris.id),
        "job_title": "Responsable achats",
        "country": "FR",
        "languages": ["fr", "en"],
        "expertise": ["laptops", "due-diligence"],
        "bio": "Buys **fair** laptops.",
        "locale": "fr",
        "timezone": "Europe/Paris",
    })
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"

    user = reload(signed_in_member)
    assert user.name == "Mia Martin"
    assert user.organisation_id == paris.id
    assert user.job_title == "Responsable achats"
    assert user.country == "FR"
    assert sorted(user.languages) == ["en", "fr"]
    assert sorted(user.expertise) == ["due-diligence", "laptops"]
    assert user.bio == "Buys **fair** laptops."
    assert user.locale == "fr"
    assert user.timezone == "Europe/Paris"

    with force_locale("fr"):
        saved = _("Your profile has been saved.")
    assert saved in flashes(client.get("/profile").get_data(as_text=True))


def test_profile_edit_can_clear_optional_fields(client, signed_in_member, reload):
    client.post("/profile", data=profile_form(
        signed_in_member, job_title="ICT buyer", country="BE", languages=["nl"],
        expertise=["servers"], bio="Bio",
    ))
    response = client.post("/profile", data=profile_form(
        reload(signed_in_member), organisation_id="", job_title="", country="", languages=[],
        expertise=[], bio="",
    ))
    assert response.status_code == 302
    user = reload(signed_in_member)
    assert (user.organisation_id, user.job_title, user.country, user.languages,
            user.expertise, user.bio) == (None, "", None, [], [], "")


ENTERED = {"job_title": "Entered job title", "bio": "Entered bio, not saved."}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
        ("name", "N" * 121, "Field cannot be longer than 120 characters."),
        ("timezone", "Mars/Olympus_Mons", "Not a valid choice."),
        ("timezone", "", "This field is required."),
        ("bio", "b" * 2001, "Field cannot be longer than 2000 characters."),
        ("job_title", "j" * 161, "Field cannot be longer than 160 characters."),
        ("country", "US", "Not a valid choice."),
        ("locale", "xx", "Not a valid choice."),
        ("organisation_id", "999999", "Not a valid choice."),
    ],
)
def test_bad_profile_input_is_shown_next_to_the_field_and_nothing_is_saved(
    client, signed_in_member, reload, field, value, message
):
    data = profile_form(signed_in_member, name="Mia Changed", **ENTERED)
    data[field] = value
    response = client.post("/profile", data=data)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert element(html, field)["aria-invalid"] == "true"
    assert f"{field}-error" in element(html, field)["aria-describedby"].split()
    assert element(html, f"{field}-error")["<text>"] == message
    assert "Your profile was not saved. Please correct the fields marked below." in flashes(html)
    # What was typed is still there, in the wrong field and the others.
    if field != "name":
        assert element(html, "name")["value"] == "Mia Changed"
    if field != "job_title":
        assert element(html, "job_title")["value"] == ENTERED["job_title"]
    else:
        assert element(html, "job_title")["value"] == value
    if field != "bio":
        assert element(html, "bio")["<text>"] == ENTERED["bio"]
    else:
        assert element(html, "bio")["<text>"] == value

    user = reload(signed_in_member)
    assert (user.name, user.job_title, user.bio, user.timezone) == (
        "Mia Member", "", "", "Europe/Brussels"
    )


def test_unknown_expertise_is_refused(client, signed_in_member, reload):
    response = client.post("/profile", data=profile_form(signed_in_member,
                                                          expertise=["laptops", "astrology"]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "astrology" in element(html, "expertise-error")["<text>"]
    assert reload(signed_in_member).expertise == []


def test_profile_needs_sign_in(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fprofile"


# --- Interface language ---------------------------------------------------------------------


def test_interface_language_setting_switches_the_interface(client, signed_in_member, reload):
    for locale in ("nl", "fr", "de", "en"):
        user = reload(signed_in_member)
        assert client.post("/profile", data=profile_form(user, locale=locale)).status_code == 302
        html = client.get("/profile", headers={"Accept-Language": "nl"}).get_data(as_text=True)
        assert html_lang(html) == locale
        with force_locale(locale):
            heading = _("Your profile")
        assert f"<h1>{heading}</h1>" in html

    # "Same as my browser"
    client.post("/profile", data=profile_form(reload(signed_in_member), locale=""))
    assert reload(signed_in_member).locale is None
    html = client.get("/profile", headers={"Accept-Language": "fr-BE,fr;q=0.9"}).get_data(
        as_text=True
    )
    assert html_lang(html) == "fr"


# --- Member directory and member pages ------------------------------------------------------


@pytest.fixture
def colleagues(make_user, make_organisation):
    gent = make_organisation("Stad Gent", country="BE")
    paris = make_organisation("Ville de Paris", country="FR")
    anna = make_user("anna@gent.be", password=None, name="Anna Jansen", organisation=gent,
                     country="BE", languages=["nl", "en"], expertise=["laptops"])
    bruno = make_user("bruno@paris.fr", password=None, name="Bruno Dupont", organisation=paris,
                      job_title="Sustainability officer", country="FR", languages=["fr"],
                      expertise=["conflict-minerals"])
    return {"anna": anna, "bruno": bruno, "gent": gent, "paris": paris}


def test_directory_requires_sign_in(client, colleagues):
    response = client.get("/members?country=BE")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert "Anna" not in response.get_data(as_text=True)


def test_directory_filters_via_the_query_string(client, signed_in_member, colleagues):
    everyone = client.get("/members").get_data(as_text=True)
    assert listed_names(everyone) == ["Anna Jansen", "Bruno Dupont", "Mia Member"]
    assert "3 members found" in everyone

    cases = {
        "q=gent": ["Anna Jansen"],
        "q=SUSTAINABILITY": ["Bruno Dupont"],
        "country=FR": ["Bruno Dupont"],
        f"organisation={colleagues['gent'].id}": ["Anna Jansen"],
        "expertise=laptops": ["Anna Jansen"],
        "language=en": ["Anna Jansen"],
        "language=fr&country=BE": [],
        "organisation=not-a-number": ["Anna Jansen", "Bruno Dupont", "Mia Member"],
    }
    for query, expected in cases.items():
        response = client.get(f"/members?{query}")
        assert response.status_code == 200, query
        assert listed_names(response.get_data(as_text=True)) == expected, query

    empty = client.get("/members?q=nobody").get_data(as_text=True)
    assert "No member matches these filters. Try removing one." in empty


def test_directory_keeps_the_filters_in_the_form(client, signed_in_member, colleagues):
    html = client.get("/members?q=gent&country=BE").get_data(as_text=True)
    assert element(html, "q")["value"] == "gent"
    assert '<option value="BE" selected>' in html


def test_member_page_shows_the_email_to_members_who_may_see_it(
    client, signed_in_member, colleagues
):
    # The email is shown to other members only when its owner allows it (privacy choices).
    bruno = colleagues["bruno"]
    response = client.get(f"/members/{bruno.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bruno Dupont" in html
    assert "bruno@paris.fr" not in html
    bruno.email_visible = True
    db.session.commit()
    assert 'href="mailto:bruno@paris.fr"' in client.get(f"/members/{bruno.id}").get_data(
        as_text=True)


def test_member_page_of_unknown_or_deactivated_member_is_not_found(
    client, signed_in_member, colleagues
):
    bruno = colleagues["bruno"]
    bruno.is_active_account = False
    db.session.commit()
    assert client.get(f"/members/{bruno.id}").status_code == 404
    assert client.get("/members/999999").status_code == 404
    assert "Bruno" not in client.get("/members").get_data(as_text=True)


def test_visitors_cannot_reach_member_pages(client, colleagues):
    response = client.get(f"/members/{colleagues['anna'].id}")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "anna@gent.be" not in response.get_data(as_text=True)


def test_organisation_page_shows_no_members_or_emails_to_visitors(client, colleagues):
    response = client.get(f"/organisations/{colleagues['gent'].slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Stad Gent" in html
    assert "Anna Jansen" not in html
    assert "@gent.be" not in html
    assert "Sign in to see the members of this organisation." in html


def test_organisation_page_shows_its_members_to_members(client, signed_in_member, colleagues):
    html = client.get(f"/organisations/{colleagues['gent'].slug}").get_data(as_text=True)
    assert listed_names(html) == ["Anna Jansen"]


# --- API tokens -----------------------------------------------------------------------------


def api_me(new_client, secret: str):
    return new_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})


def create_token_via_page(client, name="Report script") -> str:
    response = client.post("/profile/tokens", data={"name": name})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return element(html, "new-token")["<text>"]


def test_api_token_is_shown_once_and_works_against_the_api(
    client, new_client, signed_in_member
):
    secret = create_token_via_page(client)
    assert secret.startswith("bg_") and len(secret) > 30

    later = client.get("/profile/tokens").get_data(as_text=True)
    assert secret not in later
    assert not has_element(later, "new-token")
    assert "Report script" in later
    assert secret[:10] in later  # the prefix, to recognise it

    response = api_me(new_client, secret)
    assert response.status_code == 200
    assert response.get_json()["email"] == signed_in_member.email
    assert response.get_json()["name"] == "Mia Member"


def test_api_token_needs_a_name(client, signed_in_member):
    response = client.post("/profile/tokens", data={"name": ""})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert element(html, "name")["aria-invalid"] == "true"
    assert not has_element(html, "new-token")
    assert db.session.scalars(select(ApiToken)).all() == []


def test_revoked_api_token_gets_401_json(client, new_client, signed_in_member):
    secret = create_token_via_page(client)
    token = db.session.scalar(select(ApiToken))
    response = client.post(f"/profile/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert "The token “Report script” has been revoked." in flashes(
        client.get("/profile/tokens").get_data(as_text=True)
    )

    response = api_me(new_client, secret)
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json()["error"]["status"] == 401
    assert "revoked" in response.get_json()["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_without_a_token_gets_401_json(new_client):
    response = new_client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "Unauthorized"


def test_member_cannot_revoke_someone_elses_token(client, new_client, signed_in_member,
                                                   make_user):
    other = make_user("other@example.org", password=None)
    token, secret = service.create_api_token(other, "Their script")
    db.session.commit()

    response = client.post(f"/profile/tokens/{token.id}/revoke")
    assert response.status_code == 404
    assert api_me(new_client, secret).status_code == 200
    assert "Their script" not in client.get("/profile/tokens").get_data(as_text=True)


# --- The time-zone menu ---------------------------------------------------------------------


def test_the_time_zone_menu_lists_zones_in_use_by_region_in_the_readers_language(
        client, signed_in_member, reload):
    signed_in_member.locale = "nl"
    db.session.flush()
    page = html(client.get("/profile"))
    menu = page.xpath('//select[@name="timezone"]')[0]
    regions = menu.xpath("./optgroup/@label")
    assert regions[0] == "Europa"
    assert menu.xpath('.//option[@value="Europe/Brussels"]/text()') == ["Brussels (België)"]
    values = menu.xpath(".//option/@value")
    assert "US/Eastern" not in values and "Europe/Belfast" not in values  # old aliases
    assert len(values) < 450


def test_a_time_zone_saved_under_an_old_name_stays_selected_and_saves(
        client, signed_in_member, reload):
    signed_in_member.timezone = "US/Eastern"
    db.session.flush()
    page = html(client.get("/profile"))
    assert page.xpath('//select[@name="timezone"]//option[@selected]/@value') == ["US/Eastern"]
    response = client.post("/profile", data=profile_form(signed_in_member, job_title="Buyer"))
    assert response.status_code == 302
    assert reload(signed_in_member).timezone == "US/Eastern"


def test_a_members_bio_is_shown_as_formatted_text_without_scripts(
        client, signed_in_member, colleagues):
    bruno = colleagues["bruno"]
    bruno.bio = "Buys **fair** laptops.\n\n- repairable\n- <script>alert(1)</script>refurbished"
    db.session.flush()
    about = html(client.get(f"/members/{bruno.id}")).xpath('//div[contains(@class, "bio")]')[0]
    assert about.xpath(".//strong/text()") == ["fair"]
    assert [li.text_content() for li in about.xpath(".//li")] == ["repairable",
                                                                 "alert(1)refurbished"]
    assert not about.xpath(".//script")


def test_a_long_text_field_tells_its_limit_before_the_member_writes(client, signed_in_member):
    signed_in_member.locale = "nl"
    db.session.flush()
    page = html(client.get("/profile"))
    bio = page.xpath('//textarea[@name="bio"]')[0]
    limit = page.xpath(f'//*[@id="{bio.get("id")}-limit"]')[0]
    assert limit.text_content() == "Maximaal 2.000 tekens."
    assert limit.get("id") in bio.get("aria-describedby").split()


@pytest.mark.parametrize("language, zone", [("en", "Europe/Brussels"), ("nl", "Asia/Tokyo"),
                                            ("fr", "US/Eastern")])
def test_the_kept_time_zone_menu_is_the_one_wtforms_renders(app, language, zone):
    """The menu's options are rendered once per language and kept; what a page gets is what
    WTForms' own widget gives, with the member's zone (an old name too) selected."""
    from flask_babel import force_locale
    from wtforms.widgets import Select

    from buyergroup.accounts.forms import ProfileForm

    with app.test_request_context(), force_locale(language):
        for _ in range(2):  # the second time from what was kept
            form = ProfileForm(data={"timezone": zone})
            assert str(form.timezone()) == str(Select()(form.timezone))
        assert f'<option selected value="{zone}">' in str(form.timezone())
