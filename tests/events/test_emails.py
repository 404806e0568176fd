"""Every kind of event email, received by a real SMTP server and read as the member would:
their language, times in their own time zone, and the calendar file parsed with icalendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext
from icalendar import Calendar

from buyergroup.events import service
from buyergroup.events.storage import store_upload
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from tests.conftest import body_of

# Monday 14 October 2030, 10:00 in Brussels (CEST, UTC+2) = 11:00 in Helsinki (EEST).
START = datetime(2030, 10, 14, 10, 0)


@pytest.fixture
def dutch_member_in_helsinki(make_member):
    return make_member("aino@example.org", name="Aino Virtanen", locale="nl",
                       timezone="Europe/Helsinki")


@pytest.fixture
def workshop(make_event, organiser):
    event = make_event(title="Workshop 3: remediation", starts_local=START,
                       ends_local=START + timedelta(hours=2), capacity=1)
    service.save_agenda_item(organiser, event, starts_local=START, title="Welcome")
    service.save_agenda_item(organiser, event, starts_local=START + timedelta(minutes=15),
                             title="Remediation in practice", speakers="Electronics Watch")
    db.session.commit()
    return event


def tr(locale: str, msgid: str, **values) -> str:
    """The interface string as the member's language has it (English until translated)."""
    with force_locale(locale):
        return gettext(msgid, **values)


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


TITLE = "Workshop 3: remediation"


def deliver(mailbox) -> None:
    db.session.commit()
    deliver_due()


def calendar_of(message) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "expected one calendar attachment"
    assert parts[0].get_filename().endswith(".ics")
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def language_of(message) -> str | None:
    """Content-Language of the message, or of its text part: with an attachment the mail
    service's header moves to the text part (EmailMessage.make_mixed moves Content-*)."""
    if message["Content-Language"]:
        return message["Content-Language"]
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return part["Content-Language"]
    return None


def only_event(cal: Calendar):
    [vevent] = cal.walk("VEVENT")
    return vevent


class TestConfirmation:
    def test_in_the_members_language_and_zone_with_a_calendar_file(
        self, mailbox, workshop, dutch_member_in_helsinki
    ):
        service.register(dutch_member_in_helsinki, workshop)
        deliver(mailbox)
        message = mailbox.last_to("aino@example.org")
        assert subject_of(message) == tr("nl", "You are registered: %(title)s", title=TITLE)
        assert subject_of(message) == "Je bent ingeschreven: Workshop 3: remediation"
        assert language_of(message) == "nl"
        body = body_of(message)
        assert body.startswith("Beste Aino Virtanen,")  # the Dutch greeting
        # Her own zone first (11:00 in Helsinki), in Dutch; then the event's own zone.
        assert "maandag 14 oktober 2030, 11:00 – 13:00 (Europe/Helsinki)" in body
        assert "maandag 14 oktober 2030, 10:00 – 12:00 (Europe/Brussels)" in body
        assert "11:15  Remediation in practice (Electronics Watch)" in body
        assert "https://meet.example.org/fair-laptops" in body  # she has a seat
        vevent = only_event(calendar_of(message))
        assert vevent["uid"] == workshop.uid
        assert vevent.decoded("dtstart") == START.replace(tzinfo=workshop.zone)
        assert vevent["dtstart"].params["TZID"] == "Europe/Brussels"
        assert vevent["status"] == "CONFIRMED"
        assert "https://meet.example.org/fair-laptops" in vevent["location"]
        assert [tz["tzid"] for tz in calendar_of(message).walk("VTIMEZONE")] == [
            "Europe/Brussels"]

    def test_waiting_list_then_promotion_with_a_calendar_file(
        self, mailbox, workshop, member, dutch_member_in_helsinki
    ):
        service.register(member, workshop)
        service.register(dutch_member_in_helsinki, workshop)
        deliver(mailbox)
        waiting = mailbox.last_to("aino@example.org")
        assert subject_of(waiting) == tr("nl", "On the waiting list: %(title)s", title=TITLE)
        assert tr("nl", "This event is full. You are number %(position)d on the waiting list:",
                  position=1) in body_of(waiting)
        assert "meet.example.org" not in body_of(waiting)  # no seat, no link
        assert not [p for p in waiting.walk() if p.get_content_type() == "text/calendar"]
        mailbox.clear()

        service.cancel_registration(member, workshop)
        deliver(mailbox)
        [promotion] = mailbox.to("aino@example.org")
        assert subject_of(promotion) == tr("nl", "A seat is yours: %(title)s", title=TITLE)
        assert tr("nl", "Good news: a seat has become free and you have been moved from the "
                  "waiting list. You are now registered for this event:") in body_of(promotion)
        assert "https://meet.example.org/fair-laptops" in body_of(promotion)
        assert only_event(calendar_of(promotion))["status"] == "CONFIRMED"
        assert mailbox.to(member.email) == []  # cancelling yourself sends nothing


class TestReminder:
    def test_with_the_agenda_and_the_link_in_the_members_zone(
        self, mailbox, make_event, make_member, organiser
    ):
        french_in_new_york = make_member("claire@example.org", name="Claire", locale="fr",
                                         timezone="America/New_York")
        start = datetime.now().replace(microsecond=0, second=0) + timedelta(days=3)
        event = make_event(title="Webinaire", starts_local=start,
                           ends_local=start + timedelta(hours=1))
        service.save_agenda_item(organiser, event, starts_local=start, title="Accueil")
        service.register(french_in_new_york, event)
        deliver(mailbox)
        mailbox.clear()
        assert service.send_due_reminders(now=event.starts_at - timedelta(minutes=45)) == 1
        deliver(mailbox)
        [reminder] = mailbox.to("claire@example.org")
        assert language_of(reminder) == "fr"
        body = body_of(reminder)
        assert body.startswith("Bonjour Claire,")
        new_york = event.starts_at.astimezone(ZoneInfo("America/New_York"))
        assert f"{new_york:%H:%M}  Accueil" in body
        assert "(America/New York)" in body
        assert "https://meet.example.org/fair-laptops" in body
        # (The outbox folds the subject's whitespace, French no-break spaces included.)
        assert subject_of(reminder).startswith(" ".join(
            tr("fr", "Reminder: %(title)s, %(when)s", title="Webinaire", when="X").split()
        ).removesuffix("X"))


class TestChanges:
    def test_a_new_time_is_emailed_with_the_old_one_and_an_updated_calendar_file(
        self, mailbox, workshop, dutch_member_in_helsinki, organiser
    ):
        service.register(dutch_member_in_helsinki, workshop)
        deliver(mailbox)
        confirmed = only_event(calendar_of(mailbox.last_to("aino@example.org")))
        mailbox.clear()
        data = service.EventData.of(workshop)
        data.starts_local += timedelta(days=1, hours=4)
        data.ends_local += timedelta(days=1, hours=4)
        service.update_event(organiser, workshop, data)
        deliver(mailbox)
        [notice] = mailbox.to("aino@example.org")
        assert subject_of(notice) == tr("nl", "New date or time: %(title)s", title=TITLE)
        body = body_of(notice)
        assert tr("nl", "The date or time of this event has changed. It was %(old)s (%(zone)s).",
                  old="maandag 14 oktober 2030, 11:00 – 13:00",
                  zone="Europe/Helsinki") in body
        assert "dinsdag 15 oktober 2030, 15:00 – 17:00 (Europe/Helsinki)" in body
        vevent = only_event(calendar_of(notice))
        # The same UID with a higher SEQUENCE: the calendar replaces its copy.
        assert vevent["uid"] == confirmed["uid"]
        assert vevent["sequence"] == confirmed["sequence"] + 1
        assert vevent.decoded("dtstart").hour == 14  # 14:00 Brussels time

    def test_a_new_place_is_emailed(self, mailbox, workshop, member, organiser):
        service.register(member, workshop)
        deliver(mailbox)
        mailbox.clear()
        data = service.EventData.of(workshop)
        data.mode = "venue"
        data.venue_name = "Herman Teirlinck building"
        data.venue_address = "Havenlaan 88\n1000 Brussels"
        service.update_event(organiser, workshop, data)
        deliver(mailbox)
        [notice] = mailbox.to(member.email)
        assert notice["Subject"] == "New place: Workshop 3: remediation"
        assert "Where: Herman Teirlinck building, Havenlaan 88, 1000 Brussels" in body_of(notice)
        assert "Havenlaan 88" in only_event(calendar_of(notice))["location"]

    def test_a_cancellation_is_emailed_with_a_cancelled_calendar_entry(
        self, mailbox, workshop, member, dutch_member_in_helsinki, organiser
    ):
        service.register(member, workshop)
        service.register(dutch_member_in_helsinki, workshop)  # waiting
        deliver(mailbox)
        mailbox.clear()
        service.cancel_event(organiser, workshop, "Our speaker is ill.")
        deliver(mailbox)
        assert sorted(m["To"] for m in mailbox.messages) == sorted(
            [member.email, "aino@example.org"])
        notice = mailbox.last_to(member.email)
        assert notice["Subject"] == "Cancelled: Workshop 3: remediation"
        assert "Our speaker is ill." in body_of(notice)
        vevent = only_event(calendar_of(notice))
        assert vevent["status"] == "CANCELLED"
        assert vevent["sequence"] == workshop.sequence > 0

    def test_a_participant_removed_by_an_organiser_is_told(self, mailbox, workshop, member,
                                                          organiser):
        service.register(member, workshop)
        deliver(mailbox)
        mailbox.clear()
        service.cancel_registration(member, workshop, actor=organiser)
        deliver(mailbox)
        [notice] = mailbox.to(member.email)
        assert notice["Subject"] == "Registration cancelled: Workshop 3: remediation"
        assert only_event(calendar_of(notice))["status"] == "CANCELLED"


class TestMinutes:
    def test_posting_minutes_tells_the_registered_participants_only(
        self, mailbox, workshop, member, dutch_member_in_helsinki, make_member, organiser,
        tmp_path,
    ):
        service.register(member, workshop)
        service.register(dutch_member_in_helsinki, workshop)  # waiting: not told
        make_member("bystander@example.org")
        deliver(mailbox)
        mailbox.clear()
        notes = tmp_path / "minutes.md"
        notes.write_text("# Minutes\n\nWe agreed on a joint clause.", encoding="utf-8")
        with notes.open("rb") as stream:
            stored = store_upload(stream, "minutes.md")
        service.add_material(organiser, workshop, title="Minutes of workshop 3",
                             is_minutes=True, stored=stored)
        deliver(mailbox)
        assert [m["To"] for m in mailbox.messages] == [member.email]
        message = mailbox.messages[0]
        assert message["Subject"] == "Minutes posted: Workshop 3: remediation"
        assert "“Minutes of workshop 3”" in body_of(message)
        assert f"/events/{workshop.id}#materials" in body_of(message)

    def test_ordinary_materials_send_nothing(self, mailbox, workshop, member, organiser):
        service.register(member, workshop)
        deliver(mailbox)
        mailbox.clear()
        service.add_material(organiser, workshop, title="Slides", note="See the library.")
        deliver(mailbox)
        assert mailbox.messages == []


def test_an_organiser_registering_someone_says_so(mailbox, workshop, make_user, organiser):
    speaker = make_user("speaker@example.org", name="Sam Speaker")
    service.register(speaker, workshop, actor=organiser)
    deliver(mailbox)
    message = mailbox.last_to("speaker@example.org")
    assert "An organiser has registered you" in body_of(message)
    assert language_of(message) == "en"
