"""Home and information pages, the language switcher, error pages and the health check."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from buyergroup.accounts.models import User
from buyergroup.extensions import db
from buyergroup.network import service
from buyergroup.network.models import Organisation
from tests.conftest import Auth


def html(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def page_language(response) -> str:
    return html(response).get("lang")


def main_text(response) -> str:
    return " ".join(html(response).get_element_by_id("main").text_content().split())


def browser_target(location: str, current: str = "http://buyergroup.test/about") -> str:
    """Where a browser goes for a ``Location`` header (WHATWG URL parsing, in short).

    Browsers drop tabs and newlines and read a backslash as a slash in http(s) URLs, so
    ``/\\evil.example`` is the protocol-relative ``//evil.example``.
    """
    cleaned = re.sub(r"[\t\n\r]", "", location).strip().replace("\\", "/")
    return urljoin(current, cleaned)


# --- Home and information pages ---------------------------------------------------------------


def test_home_shows_the_network_figures_and_public_groups(
    client, make_user, make_organisation, make_group
):
    ghent = make_organisation("Stad Gent", country="BE")
    lyon = make_organisation("Ville de Lyon", short_name="Lyon", country="FR")
    make_organisation("Région Wallonne", country="BE")
    organiser = make_user("o@example.org", role="organiser", organisation=ghent)
    make_user("m@example.org", organisation=lyon)
    make_group("Fair laptops", organiser=organiser, summary="Laptops made fairly")
    make_group("Fair servers", organiser=organiser)

    response = client.get("/")
    assert response.status_code == 200
    doc = html(response)
    figures = [" ".join(li.text_content().split()) for li in doc.xpath('//ul[@class="stats"]/li')]
    assert figures == ["2 members", "3 organisations", "2 countries", "2 working groups"]
    groups = doc.xpath('//section[@aria-labelledby="groups-title"]//h3/a')
    assert [(a.text, a.get("href")) for a in groups] == [
        ("Fair laptops", "/groups/fair-laptops"), ("Fair servers", "/groups/fair-servers")
    ]
    assert "Laptops made fairly" in main_text(response)
    organisation_tags = doc.xpath('//ul[contains(@class, "org-tags")]//a/text()')
    # Sorted by the name the reader sees (the short name where there is one).
    assert organisation_tags == ["Lyon", "Région Wallonne", "Stad Gent"]


def test_home_hides_groups_and_organisations_that_are_not_public(
    client, auth, member, make_user, make_organisation, make_group
):
    organiser = make_user("o@example.org", role="organiser")
    make_group("Fair laptops", organiser=organiser)
    make_group("Secret pilots", organiser=organiser, is_public=False)
    make_organisation("Hidden Buyer", is_public=False)

    visitor_text = main_text(client.get("/"))
    assert "Fair laptops" in visitor_text
    assert "Secret pilots" not in visitor_text
    assert "Hidden Buyer" not in visitor_text
    assert "Ask to join" in visitor_text

    auth.login(member)
    # Signed-in members get their personal home page; the lists show them what visitors
    # do not see.
    assert "My next events" in main_text(client.get("/"))
    assert "Secret pilots" in main_text(client.get("/groups"))
    assert "Hidden Buyer" in main_text(client.get("/organisations"))


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/about", "About Buyergroup"), ("/accessibility", "Accessibility statement")],
)
def test_information_pages_render(client, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    assert [h.text_content().strip() for h in html(response).xpath("//h1")] == [heading]
    assert html(response).xpath("//title")[0].text.startswith(heading)


# --- Language ----------------------------------------------------------------------------------


def test_visitor_chooses_a_language_and_it_is_remembered(client):
    assert page_language(client.get("/about")) == "en"
    response = client.post("/language", data={"language": "fr", "next": "/about"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/about"
    for path in ("/about", "/", "/groups"):
        page = client.get(path)
        assert page_language(page) == "fr", path
        chosen = html(page).xpath('//select[@name="language"]/option[@selected]/@value')
        assert chosen == ["fr"]


def test_the_chosen_language_wins_over_the_browsers(client):
    client.post("/language", data={"language": "nl"})
    assert page_language(client.get("/", headers={"Accept-Language": "de"})) == "nl"


def test_the_browsers_language_is_used_when_nothing_was_chosen(client):
    assert page_language(client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})) == "de"
    assert page_language(client.get("/", headers={"Accept-Language": "es,fr;q=0.5"})) == "fr"
    assert page_language(client.get("/", headers={"Accept-Language": "ja"})) == "en"
    assert page_language(client.get("/")) == "en"


@pytest.mark.parametrize("language", ["xx", "", "EN-gb", "../../etc"])
def test_an_unknown_language_is_ignored(client, language):
    client.post("/language", data={"language": "nl"})
    response = client.post("/language", data={"language": language, "next": "/about"})
    assert response.status_code == 302
    assert page_language(client.get("/about")) == "nl"


def test_a_members_choice_is_saved_on_the_account(new_client, member):
    first = new_client()
    Auth(first).login(member)
    first.post("/language", data={"language": "de", "next": "/"})
    assert page_language(first.get("/")) == "de"
    db.session.expire_all()
    assert db.session.get(User, member.id).locale == "de"

    # Another browser, another day: the account's language, not the browser's, is used.
    second = new_client()
    Auth(second).login(member)
    assert page_language(second.get("/", headers={"Accept-Language": "fr"})) == "de"


def test_a_visitors_choice_does_not_survive_signing_in_to_an_account_with_a_language(
    client, auth, make_user
):
    make_user("nl@example.org", locale="nl")
    client.post("/language", data={"language": "fr"})
    auth.login("nl@example.org")
    assert page_language(client.get("/")) == "nl"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_next_cannot_leave_the_site(client, target):
    response = client.post("/language", data={"language": "fr", "next": target})
    assert response.status_code == 302
    destination = urlsplit(browser_target(response.headers["Location"]))
    assert (destination.scheme, destination.netloc) == ("http", "buyergroup.test")


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example/phish",  # browsers read "/\\host" as "//host"
        "/\t/evil.example/phish",  # tabs are dropped: "//evil.example"
        "/\n/evil.example/phish",  # was a 500 (newline in a header)
        "/\r\n/evil.example/phish",
    ],
    ids=["backslash", "tab", "newline", "crlf"],
)
def test_next_cannot_leave_the_site_through_browser_quirks(client, target):
    response = client.post("/language", data={"language": "fr", "next": target})
    assert response.status_code == 302
    destination = urlsplit(browser_target(response.headers["Location"]))
    assert destination.netloc == "buyergroup.test"
    assert page_language(client.get("/")) == "fr"  # the language was still set


def test_next_keeps_a_local_path_with_its_query(client):
    response = client.post(
        "/language", data={"language": "fr", "next": "/organisations?country=BE"}
    )
    assert response.headers["Location"] == "/organisations?country=BE"


# --- Error pages ---------------------------------------------------------------------------------


def test_unknown_page_is_the_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    doc = html(response)
    assert doc.xpath("//h1")[0].text_content().strip() == "Page not found"
    assert doc.xpath('//main//a[@href="/"]')  # a way back home
    assert doc.xpath('//nav[@id="main-menu"]')  # the site's own layout


def test_unknown_page_asking_for_json_gets_json(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


@pytest.fixture
def failing_app(app, app_factory):
    """A second app on the same database with routes that fail half-way through."""
    url = db.engine.url.render_as_string(hide_password=False)
    failing = app_factory(url)

    def save_then_crash():
        service.save_organisation(None, name="Half Saved", kind="other")
        raise RuntimeError("something broke after a write")

    def flush_fails():
        # The unique name makes the flush fail: the session is unusable until rolled back,
        # and the error page itself needs it (to show who is signed in).
        db.session.add(Organisation(name="Stad Gent", slug="stad-gent-copy", kind="other"))
        db.session.flush()

    failing.add_url_rule("/crash", "crash", save_then_crash)
    failing.add_url_rule("/flush-fails", "flush_fails", flush_fails)
    failing.add_url_rule("/api/v1/crash", "api_crash", save_then_crash)
    yield failing
    with failing.app_context():
        db.engine.dispose()


def test_an_unexpected_error_shows_the_friendly_500_page_and_saves_nothing(failing_app):
    client = failing_app.test_client()
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    text = main_text(response)
    assert "Something went wrong on our side" in text
    assert "something broke" not in response.get_data(as_text=True)  # no internals shown
    db.session.expire_all()
    assert service.get_organisation_by_name("Half Saved") is None


def test_the_500_page_renders_after_a_failed_database_write(
    failing_app, make_organisation, member
):
    make_organisation("Stad Gent")
    client = failing_app.test_client()
    Auth(client).login(member)
    response = client.get("/flush-fails")
    assert response.status_code == 500
    assert "Something went wrong on our side" in main_text(response)
    assert "Mia Member" in response.get_data(as_text=True)  # the header still knows who
    # And the next request works normally.
    assert client.get("/about").status_code == 200


def test_an_unexpected_api_error_is_json(failing_app):
    response = failing_app.test_client().get("/api/v1/crash")
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"status": 500, "code": "InternalServerError",
                  "message": "An unexpected error occurred."}
    }
    db.session.expire_all()
    assert service.get_organisation_by_name("Half Saved") is None


# --- Health check ---------------------------------------------------------------------------------


def test_healthz_is_ok_with_a_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite:////nonexistent-buyergroup-dir/missing/db.sqlite",
        "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=3",
    ],
    ids=["sqlite-missing-directory", "postgresql-closed-port"],
)
def test_healthz_is_503_json_when_the_database_is_unreachable(app_factory, database_url):
    broken = app_factory(database_url)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "unavailable"
    assert body["detail"] == "OperationalError"
    with broken.app_context():
        db.engine.dispose()
