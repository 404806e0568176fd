"""Visitors' whole pages kept per content generation (``buyergroup/core/page_cache.py``).

What a visitor would notice: a page they have seen comes back from the cache, and anything
written since (a publish, an edit, a hide, a registration, the search index catching up) is
on the next page they open. What a member would notice: nothing, their pages are always
their own, and never one a visitor is given.
"""

from __future__ import annotations

import re

import pytest

from buyergroup.core.page_cache import content_generation
from buyergroup.extensions import db, limiter
from tests.conftest import RequestIsolatedClient, empty_all_tables, new_postgres_database
from tests.queries import statements
from tests.test_authorisation_matrix import clients, world  # noqa: F401 - fixtures, on this app


@pytest.fixture(scope="module")
def _cached_app(backend, app_factory, tmp_path_factory):
    with _database_url(backend, tmp_path_factory) as url:
        app = app_factory(url, PAGE_CACHE_SECONDS=60, SEARCH_APPLY_ON_COMMIT=True)
        app.test_client_class = RequestIsolatedClient
        with app.app_context():
            db.create_all()
        yield app
        with app.app_context():
            db.engine.dispose()


def _database_url(backend, tmp_path_factory):
    if backend == "postgresql":
        return new_postgres_database("buyergroup_page_cache")
    from contextlib import nullcontext

    return nullcontext(f"sqlite:///{tmp_path_factory.mktemp('cache') / 'cache.sqlite'}")


@pytest.fixture
def app(_cached_app):
    """This module's own app: the page cache on, every commit real (the cache is seen
    across requests), the tables emptied and the cache forgotten after each test."""
    limiter.reset()
    _cached_app.extensions["page_cache"].clear()
    with _cached_app.app_context():
        try:
            yield _cached_app
        finally:
            db.session.rollback()
            db.session.remove()
            empty_all_tables()
            from buyergroup.search.service import reindex

            reindex()  # of the emptied database: no document left for the next test


def _item(member, title, **fields):
    from buyergroup.library import service
    from buyergroup.library.models import ItemStatus, Visibility

    item = service.create_item(
        None, created_by=member, authors=[member], kind="clause", title=title,
        language=fields.pop("language", "en"), body=fields.pop("body", "A clause body."),
        status=ItemStatus(fields.pop("status", "published")),
        visibility=Visibility(fields.pop("visibility", "public")), **fields)
    db.session.commit()
    return item


def _cached(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def test_a_visitor_s_second_look_comes_from_the_cache(client, member):
    _item(member, "Repairable laptops clause")
    first = client.get("/library")
    second = client.get("/library")
    assert first.status_code == second.status_code == 200
    assert (_cached(first), _cached(second)) == ("miss", "hit")
    assert second.get_data() == first.get_data()
    assert "Repairable laptops clause" in second.get_data(as_text=True)
    # The security headers are the page's own, cached or not.
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in second.headers


def test_publishing_editing_and_hiding_show_on_the_next_page(client, member, admin):
    from buyergroup.library import service

    client.get("/library")
    assert _cached(client.get("/library")) == "hit"
    item = _item(member, "Cobalt due diligence clause")
    page = client.get("/library")
    assert _cached(page) == "miss" and "Cobalt due diligence clause" in page.get_data(as_text=True)
    # Found by the search too: the index was written after the commit, and the page kept
    # for this search is one made after that.
    found = client.get("/library?q=cobalt")
    assert "Cobalt due diligence clause" in found.get_data(as_text=True)
    assert _cached(client.get("/library?q=cobalt")) == "hit"

    service.update_item(admin, item, title="Cobalt and mica due diligence clause")
    db.session.commit()
    page = client.get("/library?q=cobalt").get_data(as_text=True)
    assert "Cobalt and mica due diligence clause" in page

    service.update_item(admin, item, visibility="members")  # hidden from visitors
    db.session.commit()
    for url in ("/library", "/library?q=cobalt", "/"):
        assert "Cobalt and mica" not in client.get(url).get_data(as_text=True), url


def test_a_member_is_never_given_a_kept_page_nor_leaves_one(client, member, auth):
    _item(member, "Members-only servers clause", visibility="members")
    _item(member, "Public servers clause")
    assert _cached(client.get("/library")) == "miss"
    auth.login(member)
    for _ in range(2):
        page = client.get("/library")
        assert _cached(page) is None
        text = page.get_data(as_text=True)
        assert "Members-only servers clause" in text and member.name in text
    auth.logout()
    assert _cached(client.get("/library")) is None  # it says "signed out": not kept
    # Kept again (signing in wrote the member's last sign-in: a new generation), and a
    # visitor's page, not the member's.
    page = client.get("/library")
    assert _cached(page) == "miss" and _cached(client.get("/library")) == "hit"
    text = page.get_data(as_text=True)
    assert "Members-only servers clause" not in text and member.name not in text


def test_an_item_page_is_kept_until_a_member_comments(app, client, member):
    from buyergroup.library import service

    item = _item(member, "Living wage clause")
    assert _cached(client.get(f"/library/{item.id}")) == "miss"
    assert _cached(client.get(f"/library/{item.id}")) == "hit"
    service.add_comment(member, item, "We used this in our 2026 laptop tender.")
    db.session.commit()
    page = client.get(f"/library/{item.id}")
    assert _cached(page) == "miss"
    assert "We used this in our 2026 laptop tender." in page.get_data(as_text=True)


def test_a_page_holding_the_visitor_s_form_token_is_never_kept(app, client, monkeypatch):
    from buyergroup.core import page_cache

    # The sign-in page, were it on the list: its form carries this visitor's token.
    monkeypatch.setattr(page_cache, "CACHED_ENDPOINTS",
                        page_cache.CACHED_ENDPOINTS | {"accounts.login"})
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        first, second = client.get("/login"), app.test_client().get("/login")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _cached(first) is None and _cached(second) is None
    token = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
    assert token.search(first.get_data(as_text=True)).group(1) != token.search(
        second.get_data(as_text=True)).group(1)


def test_a_remember_cookie_is_never_answered_from_the_cache(app, client, member):
    client.get("/library")
    client.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), "anything")
    assert _cached(client.get("/library")) is None


def test_each_language_and_time_zone_has_its_own_page(app, member):
    _item(member, "Fair ICT clause")
    english = app.test_client()
    dutch = app.test_client()
    dutch.post("/language", data={"language": "nl", "next": "/library"})
    assert _cached(english.get("/library")) == "miss"
    page = dutch.get("/library")
    assert _cached(page) == "miss" and 'lang="nl"' in page.get_data(as_text=True)
    assert _cached(dutch.get("/library")) == "hit"
    assert 'lang="en"' in english.get("/library").get_data(as_text=True)


def test_a_message_waiting_for_the_visitor_is_shown_not_kept(app, client):
    client.get("/")
    with client.session_transaction() as browser:
        browser["_flashes"] = [("info", "Your email address is confirmed.")]
    page = client.get("/")
    assert _cached(page) is None
    assert "Your email address is confirmed." in page.get_data(as_text=True)
    assert "Your email address is confirmed." not in client.get("/").get_data(as_text=True)


def test_a_registration_and_an_update_statement_alone_change_the_generation(
        app, make_group, organiser, member):
    """A registration, and a change made by an ``update()`` with no object flushed (as the
    seat counter's conditional UPDATE is), each make the kept pages old."""
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from buyergroup.events import service as events
    from buyergroup.events.models import Event
    from buyergroup.network.service import add_member

    group = make_group("Fair servers", organiser=organiser)
    add_member(group, member)
    start = datetime.now().replace(microsecond=0) + timedelta(days=3)
    event = events.create_event(organiser, group, events.EventData(
        title="Servers workshop", starts_local=start, ends_local=start + timedelta(hours=1),
        capacity=5))
    db.session.commit()
    before = content_generation()
    events.register(member, event)
    db.session.commit()
    after_registration = content_generation()
    assert after_registration > before
    db.session.execute(update(Event).where(Event.id == event.id)
                       .values(capacity=Event.capacity + 1))
    db.session.commit()
    assert content_generation() > after_registration


def test_writes_no_visitor_sees_leave_the_kept_pages(client, member):
    from buyergroup.audit.models import AuditAction
    from buyergroup.audit.service import record

    client.get("/")
    before = content_generation()
    record(AuditAction.role_changed, actor=member, target=member)  # no page shows the log
    db.session.commit()
    assert content_generation() == before
    assert _cached(client.get("/")) == "hit"


def test_every_content_commit_moves_the_generation(member):
    generations = []
    for title in ("One clause", "Two clause"):
        _item(member, title)
        generations.append(content_generation())
    assert generations[0] < generations[1]


def test_a_visitor_s_language_form_holds_no_token_and_a_member_s_does(app, client, member,
                                                                      auth):
    token = re.compile(r'name="csrf_token"')
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/").get_data(as_text=True)
        form = page[page.index('class="language-form"'):page.index("</form>",
                                                                   page.index("language-form"))]
        assert not token.search(form)
        # A visitor changes language without one.
        answer = client.post("/language", data={"language": "fr", "next": "/"})
        assert answer.status_code == 302
        assert 'lang="fr"' in client.get("/").get_data(as_text=True)
        login_page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"',
                         login_page).group(1)
        client.post("/login", data={"email": member.email, "password": "correct horse battery",
                                    "csrf_token": csrf})
        page = client.get("/").get_data(as_text=True)
        form = page[page.index('class="language-form"'):page.index("</form>",
                                                                   page.index("language-form"))]
        assert token.search(form)
        # A member's account is changed only with their form's token.
        assert client.post("/language", data={"language": "de", "next": "/"}).status_code == 400
        db.session.expire_all()
        assert member.locale != "de"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_no_private_word_reaches_a_visitor_through_a_kept_page(app, world, clients):  # noqa: F811
    """The authorisation matrix's world (a private group, its members-only event, group-only
    and unpublished items, hidden organisation, ...), with the cache on: every page a
    visitor can open, first opened by a member of the private group and by an
    administrator, then twice by a visitor (the second answered from the cache), holds
    none of the private words the matrix's visitor walk looks for."""
    from tests import test_authorisation_matrix as matrix

    urls = [matrix.url_of(app, case) for case in matrix.cases(world.ids)
            if case.read is not None and matrix.V in case.read]
    urls += ["/", "/library", "/library?q=groupsecret", "/events", "/groups",
             "/organisations", "/library?q=servers"]
    private = [matrix.SECRET_LINK, matrix.SECRET_ITEM, matrix.REVIEW_ITEM,
               matrix.SECRET_MINUTES, matrix.HIDDEN_ORGANISATION, matrix.SECRET_COMMENT,
               matrix.SECRET_THREAD, matrix.SECRET_DRAFT, matrix.SECRET_TRANSLATION,
               *world.emails]
    kept, leaks = 0, []
    for url in urls:
        for role in (matrix.M, matrix.A):
            clients[role].send("GET", url)
        for _ in range(2):
            response = clients[matrix.V].send("GET", url)
            kept += _cached(response) == "hit"
            body = matrix._body(response).lower()
            leaks += [f"{url}: {word}" for word in private if word.lower() in body]
    assert not leaks, "\n".join(leaks)
    assert kept >= 10, kept  # the walk did go through the cache


# --- Members' kept regions (core/kept_regions.py) -------------------------------------------


def test_a_member_s_results_are_kept_for_their_audience_only(app, world, clients):  # noqa: F811
    """The library's results and filters are kept per audience: the same search, opened
    first by the private group's member and organiser, a site organiser and an
    administrator, then twice by a member outside the group, gives the outsider none of the
    group's words nor another reader's baskets, and their second look comes from what was
    kept. The group's member, after them all, still finds the group's item."""
    from tests import test_authorisation_matrix as matrix

    urls = ["/library", "/library?q=groupsecret", "/library?q=servers", "/library?q=minutes",
            "/library?q=kick-off", "/library?q=threadsecret", "/library?kind=clause",
            "/library?q=fair+servers&sort=newest", "/library?language=fr",
            "/library?theme=due_diligence"]
    private = [matrix.SECRET_ITEM, matrix.SECRET_MINUTES, matrix.SECRET_THREAD,
               matrix.SECRET_TRANSLATION, matrix.SECRET_DRAFT, matrix.REVIEW_ITEM,
               matrix.SECRET_BASKET, matrix.SHARED_BASKET, "Mats&#39;s shared servers basket",
               "Mats's shared servers basket"]
    regions = app.extensions["kept_regions"]
    leaks = []
    for url in urls:
        for role in (matrix.M, matrix.G, matrix.S, matrix.A):
            assert clients[role].send("GET", url).status_code == 200, (role, url)
        for _ in range(2):
            hits = regions.hits
            response = clients[matrix.O].send("GET", url)
            assert response.status_code == 200, url
            body = matrix._body(response)
            leaks += [f"{url}: {word}" for word in private if word.lower() in body.lower()]
        assert regions.hits == hits + 1, url  # the outsider's second look was kept
    assert not leaks, "\n".join(leaks)
    found = matrix._body(clients[matrix.M].send("GET", "/library?q=groupsecret"))
    assert matrix.SECRET_ITEM.lower() in found.lower()


def test_a_kept_results_page_carries_each_reader_s_own_baskets_and_token(
        app, world, clients):  # noqa: F811
    """The basket controls in kept results are the reader's own: the group's organiser
    opens the library first; the member, given the same kept results (a list of library
    items is the same for both), finds their own basket in the menus (the organiser may
    only read it: not in theirs), and the form beside it, with the member's own token,
    puts the item into it. A search is kept for its searcher only (other sources'
    documents may name their readers)."""
    from lxml import html

    from buyergroup.toolkit.models import Basket
    from tests import test_authorisation_matrix as matrix

    url = "/library?sort=title"
    regions = app.extensions["kept_regions"]
    organisers = clients[matrix.G].send("GET", url).get_data(as_text=True)
    hits = regions.hits
    page = clients[matrix.M].send("GET", url)
    assert regions.hits == hits + 1  # the organiser's results, kept
    assert matrix.SHARED_BASKET not in organisers
    tree = html.fromstring(page.data)
    basket = db.session.scalar(db.select(Basket).where(Basket.name == matrix.SHARED_BASKET))
    form = tree.xpath('//form[starts-with(@id, "basket-add-")]')[0]
    item_id = int(form.get("id").removeprefix("basket-add-"))
    menu = tree.get_element_by_id(f"add{item_id}-basket_id")
    assert matrix.SHARED_BASKET in menu.xpath("option/text()")
    data = {i.name: i.value for i in form.xpath(".//input")}
    assert data["csrf_token"] not in organisers
    data[menu.name] = str(basket.id)
    response = clients[matrix.M].client.post(form.action, data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert item_id in [entry.item_id for entry in db.session.get(Basket, basket.id).entries]
    clients[matrix.G].send("GET", "/library?q=laptops")
    hits = regions.hits
    clients[matrix.M].send("GET", "/library?q=laptops")
    assert regions.hits == hits


def test_a_member_s_kept_results_show_what_was_published_since(app, client, member, auth,
                                                               make_user):
    """An edit and a new members-only item are on the member's next kept search at once;
    signed out, the same search does not show the members-only item."""
    from buyergroup.library import service

    auth.login(member)
    item = _item(member, "Cobalt due diligence clause")
    client.get("/library?q=cobalt")
    regions = app.extensions["kept_regions"]
    hits = regions.hits
    with statements() as sent:
        assert "Cobalt due diligence clause" in client.get("/library?q=cobalt").get_data(True)
    assert regions.hits == hits + 1
    # The account (the content generation with it) and the reader's baskets, nothing more.
    assert len(sent) == 2, sent
    admin = make_user("moderator@example.org", role="admin")
    service.update_item(admin, item, title="Cobalt and mica due diligence clause")
    db.session.commit()
    assert "Cobalt and mica" in client.get("/library?q=cobalt").get_data(as_text=True)
    _item(member, "Cobalt refinery audit clause", visibility="members")
    assert "Cobalt refinery audit" in client.get("/library?q=cobalt").get_data(as_text=True)
    auth.logout()
    assert "Cobalt refinery audit" not in client.get("/library?q=cobalt").get_data(True)
