"""What crawlers and feed readers get: robots.txt, sitemap.xml, Atom feeds of new library
items (site-wide and per group) and of a group's events, and the item page's description,
Open Graph, canonical and hreflang links. Public content only, whoever asks."""

from __future__ import annotations

import lxml.etree
import lxml.html
from sqlalchemy import select

from buyergroup.events.models import Event
from buyergroup.extensions import db
from buyergroup.library.models import ItemStatus, LibraryItem, Visibility
from buyergroup.network.models import WorkingGroup
from tests.clients.test_html_valid import sign_in

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def published(visibility=None):
    query = select(LibraryItem).where(LibraryItem.status == ItemStatus.published)
    if visibility is not None:
        query = query.where(LibraryItem.visibility == visibility)
    return db.session.scalars(query.order_by(LibraryItem.id)).all()


def test_robots_points_to_the_sitemap_and_keeps_crawlers_off_private_pages(seeded_app):
    response = seeded_app.test_client().get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "Sitemap: http://buyergroup.test/sitemap.xml" in text
    for path in ("/api/", "/manage/", "/profile", "/events/feed/"):
        assert f"Disallow: {path}" in text


def test_the_sitemap_lists_public_content_only(seeded_app):
    client = seeded_app.test_client()
    sign_in(client, "admin@example.org")  # an admin sees all; the sitemap still does not
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    tree = lxml.etree.fromstring(response.get_data())
    urls = {loc.text for loc in tree.iter(f"{SITEMAP}loc")}
    public = published(Visibility.public)
    hidden = [i for i in published() if i.visibility is not Visibility.public]
    assert public and hidden
    assert {f"http://buyergroup.test/library/{i.id}" for i in public} <= urls
    assert not {f"http://buyergroup.test/library/{i.id}" for i in hidden} & urls
    private_groups = db.session.scalars(
        select(WorkingGroup).where(WorkingGroup.is_public.is_(False))).all()
    for group in private_groups:
        assert f"http://buyergroup.test/groups/{group.slug}" not in urls
    assert "http://buyergroup.test/" in urls


def entries(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/atom+xml"
    tree = lxml.etree.fromstring(response.get_data())
    assert tree.tag == f"{ATOM}feed"
    assert tree.find(f"{ATOM}id").text and tree.find(f"{ATOM}updated").text
    return [
        {"id": e.find(f"{ATOM}id").text, "title": e.find(f"{ATOM}title").text,
         "link": e.find(f"{ATOM}link").get("href"),
         "summary": e.find(f"{ATOM}summary").text or ""}
        for e in tree.iter(f"{ATOM}entry")
    ]


def test_the_library_feed_has_the_newest_public_items(seeded_app):
    client = seeded_app.test_client()
    sign_in(client, "admin@example.org")
    response = client.get("/library/feed.atom")
    found = entries(response)
    links = {e["link"] for e in found}
    public = {f"http://buyergroup.test/library/{i.id}" for i in published(Visibility.public)}
    assert found and links <= public
    assert all("**" not in e["summary"] for e in found)
    again = client.get("/library/feed.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_group_feeds_of_items_and_events(seeded_app):
    client = seeded_app.test_client()
    group = db.session.scalar(
        select(WorkingGroup).join(Event, Event.group_id == WorkingGroup.id)
        .where(WorkingGroup.is_public.is_(True)).limit(1))
    items = entries(client.get(f"/groups/{group.slug}/library.atom"))
    mine = {f"http://buyergroup.test/library/{i.id}" for i in published(Visibility.public)
            if i.group_id == group.id}
    assert {e["link"] for e in items} == mine or {e["link"] for e in items} <= mine
    events = entries(client.get(f"/groups/{group.slug}/events.atom"))
    expected = db.session.scalars(select(Event).where(Event.group_id == group.id)).all()
    assert len(events) == min(len(expected), 50) and events
    assert {e["link"] for e in events} <= {
        f"http://buyergroup.test/events/{e.id}" for e in expected}
    summaries = " ".join(x["summary"] for x in events)
    for event in expected:  # the meeting link is for participants only
        if event.video_url:
            assert event.video_url not in summaries


def test_a_hidden_groups_feeds_are_404(seeded_app):
    client = seeded_app.test_client()
    hidden = db.session.scalar(select(WorkingGroup).where(WorkingGroup.is_public.is_(False)))
    if hidden is None:
        hidden = db.session.scalar(select(WorkingGroup).limit(1))
        hidden.is_public = False
        db.session.commit()
    assert client.get(f"/groups/{hidden.slug}/library.atom").status_code == 404
    assert client.get(f"/groups/{hidden.slug}/events.atom").status_code == 404
    assert client.get("/groups/no-such-group/events.atom").status_code == 404


def test_item_pages_describe_themselves(seeded_app):
    client = seeded_app.test_client()
    translated = next(i for i in published(Visibility.public) if any(
        o.id != i.id and o.status is ItemStatus.published and o.visibility is Visibility.public
        and o.language != i.language
        for o in db.session.scalars(select(LibraryItem).where(
            LibraryItem.translation_key == i.translation_key))))
    page = lxml.html.fromstring(client.get(f"/library/{translated.id}").get_data(as_text=True))
    url = f"http://buyergroup.test/library/{translated.id}"
    assert page.xpath("//link[@rel='canonical']/@href") == [url]
    description = page.xpath("//meta[@name='description']/@content")
    assert description and 20 < len(description[0]) <= 201 and "**" not in description[0]
    assert page.xpath("//meta[@property='og:title']/@content") == [translated.title]
    assert page.xpath("//meta[@property='og:url']/@content") == [url]
    alternates = dict(zip(page.xpath("//link[@rel='alternate']/@hreflang"),
                          page.xpath("//link[@rel='alternate']/@href"), strict=True))
    assert alternates[translated.language] == url
    assert len(alternates) >= 2
