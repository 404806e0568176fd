"""The .ics feeds, parsed with icalendar: the event's zone, SEQUENCE on changes, cancellations,
and the member's secret personal feed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from buyergroup.events import service
from buyergroup.events.models import CalendarFeed
from buyergroup.extensions import db
from tests.events.conftest import event_data

MONDAY = datetime(2030, 10, 21, 10, 0)  # the clocks go back on Sunday 27 October 2030


def parse(response) -> Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.get_data())


def vevents(cal: Calendar) -> dict[str, object]:
    return {str(v["summary"]): v for v in cal.walk("VEVENT")}


def test_an_events_file_carries_its_time_zone_and_hides_the_link_from_visitors(
    client, auth, make_event, member
):
    event = make_event(title="Helsinki webinar", timezone="Europe/Helsinki",
                       starts_local=MONDAY, ends_local=MONDAY + timedelta(hours=1),
                       is_public=True)
    cal = parse(client.get(f"/events/{event.id}.ics"))
    [vevent] = cal.walk("VEVENT")
    assert vevent["dtstart"].params["TZID"] == "Europe/Helsinki"
    assert vevent.decoded("dtstart").replace(tzinfo=None) == MONDAY
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    assert vevent["uid"] == event.uid
    assert vevent["location"] == "Online"
    assert "meet.example.org" not in cal.to_ical().decode()
    assert vevent["url"].endswith(f"/events/{event.id}")
    # A registered participant's copy has the link.
    service.register(member, event)
    db.session.commit()
    auth.login(member)
    [mine] = parse(client.get(f"/events/{event.id}.ics")).walk("VEVENT")
    assert "https://meet.example.org/fair-laptops" in mine["location"]


def test_a_series_file_keeps_local_time_across_the_clock_change(client, group, organiser):
    series = service.create_series(organiser, group, title_pattern="Session {n}")
    service.add_sessions(organiser, series, event_data(
        starts_local=MONDAY, ends_local=MONDAY + timedelta(hours=2)), count=2)
    db.session.commit()
    cal = parse(client.get(f"/events/series/{series.id}.ics"))
    events = vevents(cal)
    assert set(events) == {"Session 1", "Session 2"}
    assert [e.decoded("dtstart").strftime("%d %H:%M %Z") for e in events.values()] == [
        "21 10:00 CEST", "28 10:00 CET"]
    assert cal["x-wr-calname"] == "Session"


def test_a_change_raises_the_sequence_and_a_cancellation_shows_as_cancelled(
    client, group, make_event, organiser
):
    kept = make_event(title="Kept")
    moved = make_event(title="Moved")
    url = f"/events/groups/{group.slug}.ics"
    before = vevents(parse(client.get(url)))
    data = service.EventData.of(moved)
    data.starts_local += timedelta(hours=1)
    data.ends_local += timedelta(hours=1)
    service.update_event(organiser, moved, data)
    db.session.commit()
    after = vevents(parse(client.get(url)))
    assert after["Moved"]["uid"] == before["Moved"]["uid"]
    assert after["Moved"]["sequence"] == before["Moved"]["sequence"] + 1
    assert after["Kept"]["sequence"] == before["Kept"]["sequence"]
    assert after["Moved"].decoded("dtstart") == before["Moved"].decoded("dtstart") + timedelta(
        hours=1)

    service.cancel_event(organiser, kept, "No room.")
    db.session.commit()
    final = vevents(parse(client.get(url)))
    cancelled = final["Cancelled: Kept"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["sequence"] == after["Kept"]["sequence"] + 1
    assert final["Moved"]["status"] == "CONFIRMED"


def test_a_hidden_groups_calendar_is_not_for_visitors(client, auth, make_group, organiser,
                                                      member):
    hidden = make_group("Quiet pilots", organiser=organiser, is_public=False)
    event = service.create_event(organiser, hidden, event_data())
    db.session.commit()
    assert client.get(f"/events/groups/{hidden.slug}.ics").status_code == 404
    assert client.get(f"/events/{event.id}.ics").status_code == 404
    auth.login(member)
    assert parse(client.get(f"/events/groups/{hidden.slug}.ics")).walk("VEVENT")


class TestPersonalFeed:
    def create_link(self, client, auth, user) -> str:
        auth.login(user)
        response = client.post("/events/mine/feed")
        assert response.status_code == 302  # post/redirect/get: a reload keeps the link
        html = client.get(response.headers["Location"]).get_data(as_text=True)
        start = html.index("http://buyergroup.test/events/feed/")
        return html[start: html.index(".ics", start) + 4].removeprefix("http://buyergroup.test")

    def test_lists_the_members_own_registrations_including_waiting_and_cancelled(
        self, client, auth, make_event, member, make_member
    ):
        seat = make_event(title="With a seat", capacity=5)
        full = make_event(title="Full", capacity=1)
        left = make_event(title="Left")
        other = make_event(title="Not mine")
        service.register(make_member(), full)
        service.register(member, full)  # waiting
        service.register(member, seat)
        service.register(member, left)
        service.register(make_member(), other)
        db.session.commit()
        sequence_before = left.registration_of(member).sequence
        service.cancel_registration(member, left)
        db.session.commit()

        link = self.create_link(client, auth, member)
        auth.logout()
        response = client.get(link)  # a calendar program: no cookies
        assert response.headers["Cache-Control"] == "private, no-cache"
        cal = parse(response)
        events = vevents(cal)
        assert set(events) == {"With a seat", "Waiting list: Full", "Left"}
        assert events["With a seat"]["status"] == "CONFIRMED"
        assert "meet.example.org" in events["With a seat"]["location"]
        assert events["Waiting list: Full"]["status"] == "TENTATIVE"
        assert "meet.example.org" not in events["Waiting list: Full"].to_ical().decode()
        assert events["Left"]["status"] == "CANCELLED"
        assert events["Left"]["sequence"] == left.sequence + sequence_before + 1
        # Subscribers look again every hour (Outlook reads the X- property).
        assert cal["refresh-interval"].to_ical() == b"PT1H"
        assert cal["x-published-ttl"].to_ical() == b"PT1H"

    def test_the_link_is_stored_hashed_and_can_be_revoked(self, client, auth, make_event,
                                                          member):
        service.register(member, make_event())
        db.session.commit()
        link = self.create_link(client, auth, member)
        secret = link.removeprefix("/events/feed/").removesuffix(".ics")
        stored = db.session.scalars(select(CalendarFeed)).all()
        assert len(stored) == 1 and secret not in (stored[0].token_hash, stored[0].prefix)
        assert client.get(link).status_code == 200

        client.post("/events/mine/feed/revoke")
        assert client.get(link).status_code == 404

        # A new link works; the old one still does not.
        new_link = self.create_link(client, auth, member)
        assert new_link != link
        assert client.get(new_link).status_code == 200
        assert client.get(link).status_code == 404

    def test_a_made_up_link_finds_nothing(self, client):
        assert client.get("/events/feed/cal_not-a-real-secret.ics").status_code == 404


@pytest.mark.parametrize("path", ["/events/999.ics", "/events/series/999.ics",
                                  "/events/groups/nobody.ics"])
def test_unknown_calendars_are_404(client, path):
    assert client.get(path).status_code == 404
