"""Events in a real browser: an organiser plans a series; a member joins the waiting list, is
promoted when a seat frees up, and finds the event in their personal calendar feed."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from buyergroup.events import service
from buyergroup.events.models import Event
from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.library.models import ItemStatus, Visibility
from buyergroup.network.service import add_member
from buyergroup.search.service import apply_pending
from tests.browser.helpers import sign_in, sign_out
from tests.events.conftest import event_data, local_days_ahead

pytestmark = pytest.mark.browser




@pytest.fixture
def people(make_group, make_user, organiser, member):
    group = make_group("Fair phones task force", organiser=organiser)
    first = make_user("first@example.org", name="Fiona First")
    for user in (member, first):
        add_member(group, user)
    db.session.commit()
    return group, first


def test_series_waiting_list_promotion_and_personal_feed(page, live_server, people, organiser,
                                                         member):
    group, first = people
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" confirmations

    # An organiser plans a weekly series of three sessions, across the clock change.
    sign_in(page, live_server, organiser)
    page.get_by_role("link", name="Events", exact=True).click()
    page.get_by_role("link", name="Plan events").click()
    page.get_by_role("link", name="Plan a series").click()
    page.get_by_label("Working group").select_option(label="Fair phones task force")
    page.get_by_label("Title of the sessions").fill("Workshop {n}: fair phones")
    page.get_by_label("Kind of event").select_option("workshop")
    page.get_by_label("Time zone").select_option("Europe/Brussels")
    page.get_by_label("First session starts").fill("2030-10-21T10:00")
    page.get_by_label("First session ends").fill("2030-10-21T12:00")
    page.get_by_label("Online or at a venue").select_option("online")
    page.get_by_label("Video call link").fill("https://meet.example.org/phones")
    page.get_by_label("Capacity").fill("1")
    page.get_by_label("Number of sessions").fill("3")
    page.get_by_label("Every how many weeks").fill("1")
    page.get_by_role("button", name="Create series").click()

    expect(page.get_by_role("status")).to_contain_text("created with 3 sessions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workshop: fair phones")
    rows = page.get_by_role("row")
    expect(rows).to_have_count(4)
    # 10:00 in Brussels every week, also after the clocks go back on 27 October.
    for row in range(1, 4):
        expect(rows.nth(row)).to_contain_text("10:00 AM – 12:00 PM Europe/Brussels time")
    sign_out(page)

    # The first member takes the only seat of session 1; the demo member lands on the list.
    session = db.session.scalar(select(Event).where(Event.series_number == 1))
    sign_in(page, live_server, first)
    page.goto(f"{live_server}/events/{session.id}")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("You are registered.")
    sign_out(page)

    sign_in(page, live_server, member)
    page.goto(f"{live_server}/events/{session.id}")
    expect(page.get_by_text("1 of 1 seat taken")).to_be_visible()
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("status")).to_contain_text("you are number 1 on the waiting list")
    expect(page.get_by_text("You are number 1 on the waiting list.", exact=True)).to_be_visible()
    sign_out(page)

    # The first member cancels: the seat goes to the demo member.
    sign_in(page, live_server, first)
    page.goto(f"{live_server}/events/{session.id}")
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.get_by_role("status")).to_contain_text("Your registration has been cancelled.")
    sign_out(page)

    sign_in(page, live_server, member)
    page.goto(f"{live_server}/events/{session.id}")
    expect(page.get_by_text("You are registered.", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Join the video call")).to_have_attribute(
        "href", "https://meet.example.org/phones")

    # Their personal calendar feed lists the registration.
    page.get_by_role("link", name="Events", exact=True).click()
    page.get_by_role("link", name="My events and calendar link").click()
    expect(page.get_by_role("link", name="Workshop 1: fair phones")).to_be_visible()
    page.get_by_role("button", name="Create my calendar link").click()
    link = page.locator("#feed-link").inner_text()
    assert re.fullmatch(r"http://buyergroup\.test/events/feed/cal_[\w-]+\.ics", link)
    response = page.request.get(link.replace("http://buyergroup.test", live_server))
    assert response.ok
    assert response.headers["content-type"].startswith("text/calendar")
    [vevent] = Calendar.from_ical(response.body()).walk("VEVENT")
    assert vevent["summary"] == "Workshop 1: fair phones"
    assert vevent["status"] == "CONFIRMED"
    assert vevent["dtstart"].params["TZID"] == "Europe/Brussels"
    assert "https://meet.example.org/phones" in vevent["location"]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_agenda_reads_as_a_list_that_fits_the_screen(page, live_server, people, organiser,
                                                         member, width):
    group, _first = people
    starts = local_days_ahead(7)
    event = service.create_event(organiser, group, event_data(
        title="Fair phones: comparing award criteria", starts_local=starts))
    service.save_agenda_item(organiser, event, starts_local=starts,
                             title="Three sets of award criteria for smartphones",
                             speakers="Ghent, Flanders and Brussels", notes="Bring your own")
    db.session.commit()

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, member)
    page.goto(f"{live_server}/events/{event.id}")
    agenda = page.locator("#agenda")
    expect(agenda.get_by_role("listitem").first).to_contain_text("10:00")
    expect(agenda.get_by_role("heading", name="Three sets of award criteria")).to_be_visible()
    expect(agenda).to_contain_text("Speakers: Ghent, Flanders and Brussels")
    # Nothing wider than the screen, and the title is not squeezed to a word per line.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    title_box = agenda.get_by_role("heading", name="Three sets of award criteria").bounding_box()
    assert title_box["height"] < 60 if width == 1280 else title_box["height"] < 90


def test_an_organiser_links_library_items_to_the_agenda_by_searching(
        page, live_server, people, organiser):
    group, _first = people
    laptops = library_service.create_item(
        None, created_by=organiser, authors=[organiser], status=ItemStatus.published,
        visibility=Visibility.public, kind="clause", title="Repairable laptops clause",
        language="en", body="Spare parts for seven years.")
    library_service.create_item(
        None, created_by=organiser, authors=[organiser], status=ItemStatus.published,
        visibility=Visibility.public, kind="clause", title="Fair servers clause",
        language="en", body="Servers made without forced labour.")
    starts = local_days_ahead(7)
    event = service.create_event(organiser, group, event_data(starts_local=starts))
    db.session.commit()
    apply_pending()

    sign_in(page, live_server, organiser)
    page.goto(f"{live_server}/events/{event.id}/agenda")
    page.get_by_label("Title", exact=True).fill("Spare parts")
    picker = page.get_by_role("combobox", name="Find library items to link")
    picker.fill("repairable")
    option = page.get_by_role("option", name=re.compile("Repairable laptops clause"))
    expect(option).to_be_visible()
    expect(page.get_by_role("option", name=re.compile("Fair servers"))).to_have_count(0)
    picker.press("ArrowDown")
    picker.press("Enter")
    expect(page.get_by_role("list", name="Linked library items")).to_contain_text(
        "Repairable laptops clause")
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page.get_by_role("status")).to_contain_text("The agenda item has been added")
    db.session.rollback()
    saved = db.session.get(Event, event.id).agenda_items[0]
    assert [item.id for item in saved.library_items] == [laptops.id]
