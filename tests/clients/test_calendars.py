"""Every kind of calendar file read by three readers nobody here wrote: Mozilla's ical.js
(Thunderbird), vobject and python-icalendar. Events on both sides of a clock change must
come out at the same instants in all three (and as stored), and emailed files are iTIP
messages: REQUEST with ORGANIZER and ATTENDEE, CANCEL with the same UID and a higher
SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import vobject
from icalendar import Calendar

from buyergroup.events import calendar, service
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from tests.events.conftest import event_data

# The clocks go back in Brussels and Helsinki on Sunday 27 October 2030 and forward on
# Sunday 30 March 2031: one event before, two after.
BEFORE = datetime(2030, 10, 21, 10, 0)
AFTER = datetime(2030, 10, 28, 10, 0)
SPRING = datetime(2031, 3, 31, 10, 0)


def utc(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def expected(events) -> dict[str, tuple[str, str]]:
    return {e.uid: (utc(e.starts_at), utc(e.ends_at)) for e in events}


def read_icaljs(icaljs, data: bytes) -> dict[str, tuple[str, str]]:
    return {e["uid"]: (e["start"][:19], e["end"][:19]) for e in icaljs(data)["events"]}


def read_vobject(data: bytes) -> dict[str, tuple[str, str]]:
    # vobject keeps the first VTIMEZONE it reads for each TZID for the rest of the process
    # and reads every later file's times with it: a zone from an earlier test's file (its
    # rules cover that file's years only) put this file's October events in winter time
    # when the tests ran in another order. Read each file as a fresh client does.
    zones = vars(vobject.icalendar)["__tzidMap"]
    kept = {tzid: zone for tzid, zone in zones.items() if tzid == "UTC"}
    zones.clear()
    zones.update(kept)
    parsed = vobject.readOne(data.decode("utf-8"))
    return {v.uid.value: (utc(v.dtstart.value), utc(v.dtend.value))
            for v in parsed.contents.get("vevent", [])}


def read_icalendar(data: bytes) -> dict[str, tuple[str, str]]:
    parsed = Calendar.from_ical(data)
    return {str(v["uid"]): (utc(v.decoded("dtstart")), utc(v.decoded("dtend")))
            for v in parsed.walk("VEVENT")}


def assert_read_alike(icaljs, data: bytes, events) -> None:
    want = expected(events)
    assert len(want) == len(events)
    assert read_icaljs(icaljs, data) == want, "ical.js (Thunderbird)"
    assert read_vobject(data) == want, "vobject"
    assert read_icalendar(data) == want, "python-icalendar"


def assert_one_change_per_rdate(data: bytes) -> None:
    for line in data.decode().splitlines():
        assert not (line.startswith("RDATE") and "," in line), line


@pytest.fixture
def dst_events(make_event, organiser, group):
    """A weekly series across the autumn change and a Helsinki event after the spring one."""
    series = service.create_series(organiser, group, title_pattern="Clinic {n}")
    sessions = service.add_sessions(organiser, series, event_data(
        starts_local=BEFORE, ends_local=BEFORE + timedelta(hours=2)), count=2)
    helsinki = make_event(title="Helsinki spring", timezone="Europe/Helsinki",
                          starts_local=SPRING, ends_local=SPRING + timedelta(hours=1),
                          is_public=True)
    db.session.commit()
    return series, sessions, helsinki


def test_the_series_crosses_the_change_at_ten_oclock_local_both_times(dst_events):
    _series, sessions, _ = dst_events
    assert [utc(s.starts_at) for s in sessions] == ["2030-10-21T08:00:00",
                                                    "2030-10-28T09:00:00"]


def test_event_series_and_group_feeds_read_alike_in_every_reader(
    client, icaljs, dst_events, group
):
    series, sessions, helsinki = dst_events
    for path, events in [
        (f"/events/{sessions[1].id}.ics", [sessions[1]]),
        (f"/events/{helsinki.id}.ics", [helsinki]),
        (f"/events/series/{series.id}.ics", sessions),
        (f"/events/groups/{group.slug}.ics", [*sessions, helsinki]),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        data = response.get_data()
        assert_one_change_per_rdate(data)
        assert_read_alike(icaljs, data, events)
        assert icaljs(data)["method"] == "PUBLISH"


def test_the_personal_feed_reads_alike_and_bears_the_members_name(
    client, auth, icaljs, dst_events, make_member
):
    _series, sessions, helsinki = dst_events
    dutch = make_member("daan@example.org", name="Daan de Vries", locale="nl")
    for event in (*sessions, helsinki):
        service.register(dutch, event)
    db.session.commit()
    auth.login(dutch)
    page = client.get(client.post("/events/mine/feed").headers["Location"])
    html = page.get_data(as_text=True)
    start = html.index("http://buyergroup.test/events/feed/")
    link = html[start: html.index(".ics", start) + 4]
    assert "webcal://buyergroup.test/events/feed/" in html
    # Reloading the page shows the same link (it is not replaced, nothing is resent).
    again = client.get("/events/mine").get_data(as_text=True)
    assert link in again
    auth.logout()

    response = client.get(link.removeprefix("http://buyergroup.test"))
    data = response.get_data()
    assert_one_change_per_rdate(data)
    assert_read_alike(icaljs, data, [*sessions, helsinki])
    name = vobject.readOne(data.decode()).x_wr_calname.value
    assert "Daan de Vries" in name
    assert name != "My Buyergroup events"


def test_names_and_texts_are_escaped_and_the_description_is_plain_text(
    client, icaljs, make_event
):
    event = make_event(title="Laptops; servers, and \\ screens",
                       description="We compare **tender clauses**, see [the guide]"
                                   "(https://example.org/guide).\n\n- one\n- two")
    data = client.get(f"/events/{event.id}.ics").get_data()
    read = icaljs(data)
    # X-WR-CALNAME is TEXT (RFC 5545 3.8.8.2's default); ical.js hands X- values over raw.
    assert vobject.readOne(data.decode()).x_wr_calname.value == (
        "Laptops; servers, and \\ screens")
    assert read["name"] == "Laptops\\; servers\\, and \\\\ screens"
    [vevent] = read["events"]
    assert vevent["summary"] == "Laptops; servers, and \\ screens"
    description = vevent["description"]
    assert "**" not in description and "<" not in description
    assert "We compare tender clauses, see the guide (https://example.org/guide)." in description
    assert "- one\n- two" in description


def test_feeds_answer_conditional_requests(client, group, make_event, organiser):
    event = make_event(title="Polled")
    url = f"/events/groups/{group.slug}.ics"
    first = client.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    unchanged = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    service.cancel_event(organiser, event, "No room.")
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and b"CANCELLED" in changed.get_data()


def calendar_parts(message):
    return [p for p in message.walk() if p.get_content_type() == "text/calendar"]


def test_emailed_files_are_requests_then_cancellations(
    icaljs, mailbox, dst_events, make_member, organiser
):
    _series, sessions, _ = dst_events
    event = sessions[1]  # after the change
    person = make_member("ines@example.org", name="Inès Lefèvre", locale="fr")
    service.register(person, event)
    db.session.commit()
    deliver_due()
    [part] = calendar_parts(mailbox.last_to(person.email))
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    data = part.get_payload(decode=True)
    read = icaljs(data)
    assert read["method"] == "REQUEST"
    [invited] = read["events"]
    assert invited["organizer"].startswith("mailto:")
    assert invited["attendees"] == ["mailto:ines@example.org"]
    assert_read_alike(icaljs, data, [event])

    service.cancel_event(organiser, event, "No room.")
    db.session.commit()
    deliver_due()
    [part] = calendar_parts(mailbox.last_to(person.email))
    assert part.get_param("method") == "CANCEL"
    cancelled = icaljs(part.get_payload(decode=True))
    assert cancelled["method"] == "CANCEL"
    [gone] = cancelled["events"]
    assert gone["uid"] == invited["uid"]
    assert gone["sequence"] > invited["sequence"]
    assert gone["status"] == "CANCELLED"
    assert gone["organizer"] == invited["organizer"]


def test_a_vtimezone_lists_each_change_once_with_its_own_start():
    zone = calendar.vtimezone("Europe/Brussels", datetime(2030, 1, 1).date(),
                              datetime(2032, 1, 1).date())
    starts = [str(p["dtstart"].to_ical().decode()) for p in zone.subcomponents]
    assert starts == ["20300101T010000", "20300331T020000", "20301027T030000",
                      "20310330T020000", "20311026T030000"]


def test_every_file_passes_libicals_itip_check(
    client, auth, libical, mailbox, dst_events, group, make_member, organiser
):
    """RFC 5546 as libical checks it: PUBLISH feeds and emailed REQUEST and CANCEL."""
    series, sessions, helsinki = dst_events
    person = make_member("ines@example.org", name="Inès Lefèvre", locale="fr")
    service.register(person, sessions[0])
    db.session.commit()
    deliver_due()
    service.cancel_event(organiser, sessions[0], "No room.")
    db.session.commit()
    deliver_due()
    files = {
        "event": client.get(f"/events/{helsinki.id}.ics").get_data(),
        "series": client.get(f"/events/series/{series.id}.ics").get_data(),
        "group": client.get(f"/events/groups/{group.slug}.ics").get_data(),
    }
    for message in mailbox.to(person.email):
        for part in calendar_parts(message):
            files[f"mail {part.get_param('method')}"] = part.get_payload(decode=True)
    auth.login(person)
    page = client.get(client.post("/events/mine/feed").headers["Location"]).get_data(
        as_text=True)
    start = page.index("http://buyergroup.test/events/feed/")
    auth.logout()
    files["personal"] = client.get(
        page[start: page.index(".ics", start) + 4].removeprefix("http://buyergroup.test")
    ).get_data()
    assert {"mail REQUEST", "mail CANCEL"} <= set(files)
    errors = {name: libical(data) for name, data in files.items()}
    assert not any(errors.values()), errors
