"""Event pages through the test client: what each person sees and may do, bad input kept with
its message, the participant list and its CSV, agenda, materials, series."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from buyergroup.events import service
from buyergroup.events.models import Event, EventMaterial, EventSeries, RegistrationState
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from tests.events.conftest import ZONE, event_data, local_days_ahead, reload
from tests.network.pages import error_by, html, main_text
from tests.network.pages import input_value as raw_input_value

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database

FORM_FORMAT = "%Y-%m-%dT%H:%M"


def event_form(group, **overrides) -> dict:
    starts = local_days_ahead(14)
    form = {
        "group_id": str(group.id),
        "title": "Repairable laptops",
        "kind": "workshop",
        "language": "en",
        "description": "How to ask for **spare parts**.",
        "timezone": ZONE,
        "starts_local": starts.strftime(FORM_FORMAT),
        "ends_local": (starts + timedelta(hours=2)).strftime(FORM_FORMAT),
        "mode": "online",
        "video_url": "https://meet.example.org/laptops",
        "capacity": "20",
        "reminder_minutes": ["1440", "60"],
    }
    form.update(overrides)
    return form


def input_value(response, name: str) -> str | None:
    # Browsers drop the newline right after <textarea>; lxml keeps it.
    value = raw_input_value(response, name)
    return value.removeprefix("\r").removeprefix("\n") if value is not None else None


def flashes(response) -> str:
    return " ".join(html(response).xpath("string(//*[contains(@class,'flashes')])").split())


# --- The calendar -----------------------------------------------------------------------------


class TestCalendarPages:
    def test_visitors_see_upcoming_events_in_their_zone_with_the_events_zone_named(
        self, client, make_event
    ):
        make_event(title="Helsinki webinar", timezone="Europe/Helsinki",
                   starts_local=datetime(2030, 10, 14, 10, 0),
                   ends_local=datetime(2030, 10, 14, 11, 0), kind="webinar")
        page = client.get("/events")
        assert page.status_code == 200
        text = main_text(page)
        # Visitors get the site's default zone, Brussels: 09:00 there is 10:00 in Helsinki.
        assert "Monday, October 14, 2030, 9:00 AM – 10:00 AM Europe/Brussels time" in text
        assert "10:00 AM – 11:00 AM Europe/Helsinki time, where the event is organised" in text
        assert html(page).xpath("//a[@href='/events/groups/fair-ict-buyers.ics']")

    def test_a_members_own_zone_is_used(self, client, auth, make_event, make_member):
        make_event(title="Brussels workshop", starts_local=datetime(2030, 10, 14, 10, 0),
                   ends_local=datetime(2030, 10, 14, 12, 0))
        helsinki = make_member("aino@example.org", timezone="Europe/Helsinki", locale="en")
        auth.login(helsinki)
        text = main_text(client.get("/events"))
        assert "11:00 AM – 1:00 PM Europe/Helsinki time" in text
        assert "10:00 AM – 12:00 PM Europe/Brussels time, where the event is organised" in text

    def test_filters_by_group_language_and_kind_and_past(self, client, make_event, make_group,
                                                         organiser):
        other = make_group("Servers group", organiser=organiser)
        make_event(title="English workshop")
        make_event(title="Dutch webinar", language="nl", kind="webinar")
        make_event(other, title="Server meeting", kind="meeting")
        make_event(title="Old conference", kind="conference",
                   starts_local=local_days_ahead(-30))

        def titles(query):
            page = client.get("/events" + query)
            return sorted(a.text for a in html(page).xpath("//li[@class='card']//h2/a"))

        assert titles("") == ["Dutch webinar", "English workshop", "Server meeting"]
        assert titles("?language=nl") == ["Dutch webinar"]
        assert titles("?kind=meeting") == ["Server meeting"]
        assert titles(f"?group={other.slug}") == ["Server meeting"]
        assert titles("?when=past") == ["Old conference"]
        assert titles("?group=no-such-group&kind=nonsense") == titles("")

    def test_events_of_hidden_groups_are_for_members_only(self, client, auth, make_group,
                                                          organiser, member):
        hidden = make_group("Quiet pilots", organiser=organiser, is_public=False)
        event = service.create_event(organiser, hidden, event_data(title="Quiet meeting"))
        db.session.commit()
        assert "Quiet meeting" not in main_text(client.get("/events"))
        assert client.get(f"/events/{event.id}").status_code == 404
        auth.login(member)
        assert "Quiet meeting" in main_text(client.get("/events"))

    def test_a_member_s_home_lists_their_next_events_and_waiting_places(
            self, client, auth, make_event, member, make_member):
        """The personal home's "My next events": the member's upcoming registrations, soonest
        first, each linked, the waiting list said; not a cancelled one nor someone else's."""
        later = make_event(title="Later workshop", starts_local=local_days_ahead(9))
        full = make_event(title="Full workshop", capacity=1, starts_local=local_days_ahead(3))
        left = make_event(title="Left workshop")
        other = make_event(title="Not my workshop")
        service.register(make_member(), full)
        for event in (full, later, left):
            service.register(member, event)
        service.register(make_member(), other)
        db.session.commit()
        service.cancel_registration(member, left)
        db.session.commit()
        auth.login(member)
        page = html(client.get("/"))
        rows = page.xpath('//section[@aria-labelledby="events-title"]//li')
        assert [row.xpath("string(a)") for row in rows] == ["Full workshop", "Later workshop"]
        assert rows[0].xpath("a/@href") == [f"/events/{full.id}"]
        assert "on the waiting list" in rows[0].text_content()
        assert "on the waiting list" not in rows[1].text_content()
        assert rows[1].xpath(".//time/@datetime")[0].startswith(
            later.starts_at.isoformat(timespec="seconds")[:10])

    def test_each_member_s_home_lists_their_own_events_and_drafts(
            self, client, auth, make_event, member, make_member):
        """Two members one after the other in the same process: the home page's lists are
        made from statements built once, and each must be run for its own reader."""
        from buyergroup.library import service as library
        from buyergroup.library.models import Visibility

        other = make_member(name="Otto Other")
        for reader, title in ((member, "Mine"), (other, "Theirs")):
            service.register(reader, make_event(title=f"{title} workshop"))
            library.create_item(None, created_by=reader, authors=[reader], kind="clause",
                                title=f"{title} unfinished clause", language="en",
                                body="Draft text.", visibility=Visibility.members)
        db.session.commit()

        def home_lists(reader):
            auth.login(reader)
            page = html(client.get("/"))
            client.post("/logout")
            return [" ".join(page.xpath(f'string(//section[@aria-labelledby="{section}"])')
                             .split()) for section in ("events-title", "drafts-title")]

        mine_events, mine_drafts = home_lists(member)
        assert "Mine workshop" in mine_events and "Theirs workshop" not in mine_events
        assert "Mine unfinished clause" in mine_drafts and "Theirs" not in mine_drafts
        theirs_events, theirs_drafts = home_lists(other)
        assert "Theirs workshop" in theirs_events and "Mine workshop" not in theirs_events
        assert "Theirs unfinished clause" in theirs_drafts and "Mine" not in theirs_drafts

    def test_the_group_page_lists_its_upcoming_events(self, client, group, make_event):
        make_event(title="Next workshop")
        text = main_text(client.get(f"/groups/{group.slug}"))
        assert "Upcoming events" in text and "Next workshop" in text


# --- One event and registering ----------------------------------------------------------------


class TestEventPage:
    def test_the_video_link_is_for_registered_participants(self, client, auth, make_event,
                                                           member):
        event = make_event()
        assert "meet.example.org" not in client.get(f"/events/{event.id}").get_data(as_text=True)
        auth.login(member)
        page = client.get(f"/events/{event.id}")
        assert "meet.example.org" not in page.get_data(as_text=True)
        assert "Registered participants see the link" in main_text(page)
        client.post(f"/events/{event.id}/register")
        page = client.get(f"/events/{event.id}")
        assert html(page).xpath("//a[@href='https://meet.example.org/fair-laptops']")

    def test_register_then_waiting_list_then_promotion(self, client, new_client, make_event,
                                                       member, make_member):
        event = make_event(capacity=1)
        other = make_member("other@example.org")
        first = client
        from tests.conftest import Auth

        Auth(first).login(member)
        response = first.post(f"/events/{event.id}/register", follow_redirects=True)
        assert "You are registered." in flashes(response)
        assert "1 of 1 seat taken" in main_text(response)

        second = new_client()
        Auth(second).login(other)
        page = second.get(f"/events/{event.id}")
        assert html(page).xpath("//button[normalize-space()='Join the waiting list']")
        response = second.post(f"/events/{event.id}/register", follow_redirects=True)
        assert "you are number 1 on the waiting list" in flashes(response)
        assert "You are number 1 on the waiting list." in main_text(response)

        response = first.post(f"/events/{event.id}/unregister", follow_redirects=True)
        assert "Your registration has been cancelled." in flashes(response)
        page = second.get(f"/events/{event.id}")
        assert "You are registered." in main_text(page)

    def test_registration_closed_is_explained(self, client, auth, make_event, member):
        closes = wall_clock(datetime.now().astimezone() - timedelta(hours=1), ZONE)
        event = make_event(registration_closes_local=closes)
        auth.login(member)
        page = client.get(f"/events/{event.id}")
        assert "Registration is closed." in main_text(page)
        assert not html(page).xpath("//form[contains(@action,'/register')]")
        response = client.post(f"/events/{event.id}/register",
                               headers={"Referer": f"http://localhost/events/{event.id}"},
                               follow_redirects=True)
        assert "Registration closed on" in flashes(response)
        assert service.counts(event) == (0, 0)

    def test_a_non_member_is_sent_to_the_group_and_refused(self, client, auth, make_event,
                                                           make_user):
        event = make_event()
        outsider = make_user("outsider@example.org")
        auth.login(outsider)
        assert "Join the group to register." in main_text(client.get(f"/events/{event.id}"))
        response = client.post(f"/events/{event.id}/register")
        assert response.status_code == 403
        assert service.counts(event) == (0, 0)

    def test_visitors_are_asked_to_sign_in(self, client, make_event):
        event = make_event()
        assert "Sign in to register" in main_text(client.get(f"/events/{event.id}"))
        response = client.post(f"/events/{event.id}/register")
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_the_agenda_links_library_items_the_reader_may_see(self, client, make_event,
                                                               organiser):
        from buyergroup.library.service import create_item

        public = create_item(None, title="EW contract conditions", kind="clause",
                             language="en", visibility="public", status="published")
        hidden = create_item(None, title="Members-only clause", kind="clause", language="en",
                             visibility="members", status="published")
        event = make_event()
        service.save_agenda_item(organiser, event, starts_local=event_data().starts_local,
                                 title="Contract clauses", library_item_ids=[public.id,
                                                                             hidden.id])
        db.session.commit()
        page = client.get(f"/events/{event.id}")
        assert html(page).xpath(f"//a[@href='/library/{public.id}']")
        assert not html(page).xpath(f"//a[@href='/library/{hidden.id}']")


# --- Planning ---------------------------------------------------------------------------------


class TestPlanningPages:
    def test_an_organiser_creates_an_event(self, client, auth, group, organiser):
        auth.login(organiser)
        response = client.post("/events/new", data=event_form(group))
        assert response.status_code == 302
        event = db.session.scalar(select(Event))
        assert event.title == "Repairable laptops"
        assert wall_clock(event.starts_at, ZONE).hour == 10
        assert event.reminder_offsets == [1440, 60]
        assert event.created_by_id == organiser.id

    @pytest.mark.parametrize(
        ("overrides", "field_id", "message"),
        [
            ({"ends_local": local_days_ahead(13).strftime(FORM_FORMAT)}, "ends_local",
             "The event must end after it starts."),
            ({"timezone": "Mars/Olympus_Mons"}, "timezone",
             "“Mars/Olympus_Mons” is not a time zone we know."),
            ({"mode": "venue", "video_url": ""}, "venue_address",
             "Give the venue's name and address."),
            ({"registration_closes_local": local_days_ahead(20).strftime(FORM_FORMAT)},
             "registration_closes_local", "Registration must close before the event ends."),
            ({"starts_local": "tomorrow at ten"}, "starts_local", "Not a valid datetime value"),
        ],
    )
    def test_bad_input_is_shown_by_its_field_and_nothing_typed_is_lost(
        self, client, auth, group, organiser, overrides, field_id, message
    ):
        auth.login(organiser)
        form = event_form(group, description="My long description", **overrides)
        response = client.post("/events/new", data=form)
        assert response.status_code == 200
        assert message in error_by(response, field_id)
        assert input_value(response, "description") == "My long description"
        assert input_value(response, "title") == "Repairable laptops"
        if field_id != "timezone":  # an unknown zone is not among the choices
            assert input_value(response, "timezone") == ZONE
        assert db.session.scalar(select(Event)) is None

    def test_every_problem_is_shown_after_one_submit(self, client, auth, group, organiser):
        auth.login(organiser)
        starts = local_days_ahead(14)
        form = event_form(
            group, title="", capacity="0", mode="venue", video_url="",
            ends_local=(starts - timedelta(hours=1)).strftime(FORM_FORMAT),
            registration_closes_local=(starts + timedelta(days=3)).strftime(FORM_FORMAT),
        )
        response = client.post("/events/new", data=form)
        assert response.status_code == 200
        assert "required" in error_by(response, "title").lower()
        assert "The event must end after it starts." in error_by(response, "ends_local")
        assert "between 1 and" in error_by(response, "capacity")
        assert "Give the venue's name and address." in error_by(response, "venue_address")
        assert input_value(response, "description") == "How to ask for **spare parts**."
        assert db.session.scalar(select(Event)) is None

    def test_members_cannot_plan_or_manage(self, client, auth, make_event, member):
        event = make_event()
        auth.login(member)
        for url in ("/events/new", "/events/series/new", f"/events/{event.id}/edit",
                    f"/events/{event.id}/participants", f"/events/{event.id}/participants.csv",
                    f"/events/{event.id}/agenda", f"/events/{event.id}/materials/new",
                    "/events/manage"):
            assert client.get(url).status_code == 403, url
        assert client.post(f"/events/{event.id}/cancel").status_code == 403
        assert client.post(f"/events/{event.id}/edit",
                           data=event_form(event.group)).status_code == 403
        assert reload(event).status.value == "scheduled"

    def test_organisers_of_another_group_cannot_manage(self, client, auth, make_event,
                                                      make_user, make_group):
        event = make_event()
        stranger = make_user("stranger@example.org", role="organiser")
        make_group("Their own group", organiser=stranger)
        auth.login(stranger)
        assert client.get(f"/events/{event.id}/edit").status_code == 403
        page = client.get("/events/new")
        options = html(page).xpath("//select[@name='group_id']/option/text()")
        assert options == ["Their own group"]
        # Posting another group's id is refused by the form's choices.
        response = client.post("/events/new", data=event_form(event.group))
        assert response.status_code == 200
        assert "Not a valid choice" in error_by(response, "group_id")

    def test_a_capacity_below_the_registrations_is_refused_by_the_field(
        self, client, auth, make_event, make_member, organiser
    ):
        event = make_event(capacity=10)
        for _ in range(3):
            service.register(make_member(), event)
        db.session.commit()
        auth.login(organiser)
        form = event_form(event.group, capacity="2", title="Renamed")
        form.pop("group_id")
        response = client.post(f"/events/{event.id}/edit", data=form)
        assert response.status_code == 200
        assert "3 people are already registered" in error_by(response, "capacity")
        assert input_value(response, "capacity") == "2"
        assert input_value(response, "title") == "Renamed"
        assert reload(event).capacity == 10 and reload(event).title == "Fair laptops workshop"

    def test_an_organiser_cancels_an_event(self, client, auth, make_event, organiser):
        event = make_event()
        auth.login(organiser)
        response = client.post(f"/events/{event.id}/cancel", data={"reason": "Strike"},
                               follow_redirects=True)
        assert "The event has been cancelled." in flashes(response)
        assert "This event has been cancelled. Strike" in main_text(response)
        assert reload(event).status.value == "cancelled"

    def test_a_series_from_the_form_and_an_edit_of_all_later_sessions(
        self, client, auth, group, organiser
    ):
        auth.login(organiser)
        form = event_form(group, title_pattern="Workshop {n}: fair phones", count="3",
                          every_weeks="1",
                          starts_local="2030-10-21T10:00", ends_local="2030-10-21T12:00")
        response = client.post("/events/series/new", data=form)
        assert response.status_code == 302
        series = db.session.scalar(select(EventSeries))
        page = client.get(f"/events/series/{series.id}")
        assert [a.text for a in html(page).xpath("//tbody//th/a")] == [
            "Workshop 1: fair phones", "Workshop 2: fair phones", "Workshop 3: fair phones"]
        assert main_text(page).count("10:00 AM – 12:00 PM Europe/Brussels time") == 3

        second = series.events[1]
        edit = client.get(f"/events/{second.id}/edit")
        assert input_value(edit, "starts_local") == "2030-10-28T10:00"
        assert input_value(edit, "scope") == "this"
        form = event_form(group, title=second.title, starts_local="2030-10-28T15:00",
                          ends_local="2030-10-28T17:00", scope="future")
        form.pop("group_id")
        client.post(f"/events/{second.id}/edit", data=form)
        db.session.expire_all()
        assert [wall_clock(e.starts_at, ZONE).strftime("%d %H:%M") for e in series.events] == [
            "21 10:00", "28 15:00", "04 15:00"]

    def test_a_series_title_without_the_number_is_refused(self, client, auth, group,
                                                          organiser):
        auth.login(organiser)
        response = client.post("/events/series/new", data=event_form(
            group, title_pattern="Workshop", count="2", every_weeks="1"))
        assert "Put {n} where the session number goes" in error_by(response, "title_pattern")
        assert db.session.scalar(select(Event)) is None

    def test_the_dashboard_counts_seats_and_the_waiting_list(self, client, auth, make_event,
                                                             make_member, organiser):
        event = make_event(capacity=1, title="Popular")
        make_event(title="Quiet")
        for _ in range(3):
            service.register(make_member(), event)
        db.session.commit()
        auth.login(organiser)
        page = client.get("/events/manage")
        rows = {
            row.xpath("string(th/a)"): [" ".join(td.text_content().split())
                                        for td in row.xpath("td")]
            for row in html(page).xpath("//tbody/tr")
        }
        assert rows["Popular"][1:4] == ["1 Full", "1", "2"]
        assert rows["Quiet"][1:4] == ["0", "No limit", "0"]


# --- Participants -----------------------------------------------------------------------------


class TestParticipants:
    def test_add_remove_attendance_and_csv(self, client, auth, make_event, make_member,
                                           make_user, organiser):
        event = make_event(capacity=2)
        ann = make_member("ann@example.org", name="Ann")
        bob = make_member("bob@example.org", name="=HYPERLINK(\"x\")")
        make_user("cyd@example.org", name="Cyd")
        service.register(ann, event)
        service.register(bob, event)
        db.session.commit()
        auth.login(organiser)

        response = client.post(f"/events/{event.id}/participants",
                               data={"email": "cyd@example.org"}, follow_redirects=True)
        assert "The event is full: Cyd is on the waiting list." in flashes(response)
        response = client.post(f"/events/{event.id}/participants",
                               data={"email": "nobody@example.org"})
        assert "No member has this email address." in error_by(response, "email")

        ann_registration = event.registration_of(ann)
        client.post(f"/events/{event.id}/attendance",
                    data={"present": [str(ann_registration.id)]})
        assert reload(ann_registration).attended is True

        bob_registration = event.registration_of(bob)
        client.post(f"/events/{event.id}/participants/{bob_registration.id}/remove")
        db.session.expire_all()
        assert {r.user.email: r.state for r in event.registrations} == {
            "ann@example.org": RegistrationState.registered,
            "bob@example.org": RegistrationState.cancelled,
            "cyd@example.org": RegistrationState.registered,  # promoted
        }

        response = client.get(f"/events/{event.id}/participants.csv")
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        assert rows[0][:5] == ["Name", "Email", "Organisation", "Country", "Status"]
        by_email = {row[1]: row for row in rows[1:]}
        assert by_email["ann@example.org"][4] == "Registered"
        assert by_email["ann@example.org"][7] == "yes"
        assert by_email["cyd@example.org"][4] == "Registered"
        assert by_email["bob@example.org"][4] == "Cancelled"
        assert by_email["bob@example.org"][0] == "'=HYPERLINK(\"x\")"  # not a formula

    def test_the_participants_page_shows_counts_against_capacity(self, client, auth,
                                                                 make_event, make_member,
                                                                 organiser):
        event = make_event(capacity=1)
        for _ in range(2):
            service.register(make_member(), event)
        db.session.commit()
        auth.login(organiser)
        stats = [" ".join(li.text_content().split())
                 for li in html(client.get(f"/events/{event.id}/participants")).xpath(
                     "//ul[@class='stats']/li")]
        assert stats == ["1 / 1 seats taken", "1 on the waiting list", "0 cancelled"]


# --- Agenda and materials ---------------------------------------------------------------------


class TestAgendaAndMaterials:
    def test_an_agenda_item_with_a_bad_library_reference_is_kept_with_the_message(
        self, client, auth, make_event, organiser
    ):
        event = make_event()
        auth.login(organiser)
        starts = event_data().starts_local.strftime(FORM_FORMAT)
        response = client.post(f"/events/{event.id}/agenda", data={
            "starts_local": starts, "title": "Clauses", "speakers": "Lotte",
            "library_items": "999"})
        assert "There is no library item 999" in error_by(response, "library_items")
        assert input_value(response, "speakers") == "Lotte"
        response = client.post(f"/events/{event.id}/agenda", data={
            "starts_local": starts, "title": "Clauses", "library_items": ""})
        assert response.status_code == 302
        assert [i.title for i in reload(event).agenda_items] == ["Clauses"]

    def test_materials_for_participants_only(self, client, auth, new_client, make_event,
                                             member, organiser):
        from tests.conftest import Auth

        event = make_event()
        service.register(member, event)
        db.session.commit()
        auth.login(organiser)
        response = client.post(f"/events/{event.id}/materials/new", data={
            "title": "Slides", "visibility": "participants", "agenda_item_id": "",
            "file": (io.BytesIO(b"# Slides\n\nRepairability scores."), "slides.md"),
        }, content_type="multipart/form-data")
        assert response.status_code == 302
        material = db.session.scalar(select(EventMaterial))
        url = f"/events/{event.id}/materials/{material.id}/file"

        visitor = new_client()
        assert visitor.get(url).status_code == 404
        assert "Slides" not in main_text(visitor.get(f"/events/{event.id}"))
        assert "1 more document is for members or registered participants only" in main_text(
            visitor.get(f"/events/{event.id}"))

        participant = new_client()
        Auth(participant).login(member)
        download = participant.get(url)
        assert download.status_code == 200
        assert download.get_data() == b"# Slides\n\nRepairability scores."
        assert 'filename=slides.md' in download.headers["Content-Disposition"]

    def test_a_file_that_is_not_what_it_says_is_refused_by_the_field(self, client, auth,
                                                                     make_event, organiser):
        event = make_event()
        auth.login(organiser)
        response = client.post(f"/events/{event.id}/materials/new", data={
            "title": "Report", "visibility": "public", "note": "Kept note",
            "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf"),
        }, content_type="multipart/form-data")
        assert response.status_code == 200
        assert "is named .pdf but its content is not" in error_by(response, "file")
        assert input_value(response, "note") == "Kept note"
        assert db.session.scalar(select(EventMaterial)) is None

    def test_a_material_needs_a_file_or_a_note(self, client, auth, make_event, organiser):
        event = make_event()
        auth.login(organiser)
        response = client.post(f"/events/{event.id}/materials/new",
                               data={"title": "Empty", "visibility": "public"})
        assert "Attach a file or write a note." in error_by(response, "note")


class TestMyCalendar:
    def test_lists_my_registrations(self, client, auth, make_event, member):
        event = make_event(title="Mine")
        make_event(title="Not mine")
        service.register(member, event)
        db.session.commit()
        auth.login(member)
        text = main_text(client.get("/events/mine"))
        assert "Mine" in text and "Not mine" not in text
        assert "Create my calendar link" in text


class TestSeriesAsAWhole:
    @pytest.fixture
    def weekly(self, group, organiser):
        series = service.create_series(organiser, group, title_pattern="Workshop {n}")
        first = event_data(starts_local=local_days_ahead(7))
        sessions = service.add_sessions(organiser, series, first, count=3)
        db.session.commit()
        return series, sessions

    def test_an_organiser_renames_the_series_and_its_upcoming_sessions(
            self, client, auth, organiser, weekly):
        series, sessions = weekly
        sessions[1].title = "Workshop 2: a title of its own"
        db.session.commit()
        auth.login(organiser)
        page = client.get(f"/events/series/{series.id}/edit")
        assert input_value(page, "title_pattern") == "Workshop {n}"
        response = client.post(f"/events/series/{series.id}/edit", data={
            "title_pattern": "Fair ICT workshop {n}", "description": "Four *hands-on* sessions"})
        assert response.status_code == 302
        titles = [reload(event).title for event in sessions]
        assert titles == ["Fair ICT workshop 1", "Workshop 2: a title of its own",
                          "Fair ICT workshop 3"]
        assert reload(series).description == "Four *hands-on* sessions"
        shown = main_text(client.get(f"/events/series/{series.id}"))
        assert "Fair ICT workshop" in shown and "hands-on" in shown

    def test_a_pattern_without_its_number_is_refused_and_kept(self, client, auth, organiser,
                                                             weekly):
        series, _sessions = weekly
        auth.login(organiser)
        response = client.post(f"/events/series/{series.id}/edit",
                               data={"title_pattern": "Fair ICT workshop", "description": "x"})
        assert response.status_code == 200
        assert "{n}" in error_by(response, "title_pattern")
        assert input_value(response, "title_pattern") == "Fair ICT workshop"
        assert reload(series).title_pattern == "Workshop {n}"

    def test_cancelling_the_series_cancels_every_upcoming_session_and_tells_participants(
            self, client, auth, organiser, member, weekly, mailbox):
        series, sessions = weekly
        for event in sessions:
            service.register(member, event)
        db.session.commit()
        mailbox.clear()
        auth.login(organiser)
        response = client.post(f"/events/series/{series.id}/cancel",
                               data={"reason": "The task force has finished its work."})
        assert response.status_code == 302
        assert [reload(event).is_cancelled for event in sessions] == [True, True, True]
        assert len(mailbox.to(member.email)) == 3
        assert "3 upcoming sessions have been cancelled" in main_text(
            client.get(f"/events/series/{series.id}"))

    def test_members_cannot_rename_or_cancel_a_series(self, client, auth, member, weekly):
        series, sessions = weekly
        auth.login(member)
        assert client.get(f"/events/series/{series.id}/edit").status_code == 403
        assert client.post(f"/events/series/{series.id}/edit",
                           data={"title_pattern": "Hijacked {n}"}).status_code == 403
        assert client.post(f"/events/series/{series.id}/cancel").status_code == 403
        assert reload(series).title_pattern == "Workshop {n}"
        assert not any(reload(event).is_cancelled for event in sessions)
