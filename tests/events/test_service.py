"""The event rules without HTTP: seats and the waiting list, planning checks, series across
daylight-saving changes, changes and cancellations, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from buyergroup.database import utcnow
from buyergroup.errors import AlreadyExists, NotAllowed, ValidationFailed
from buyergroup.events import service
from buyergroup.events.models import Event, EventStatus, RegistrationState
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from tests.events.conftest import ZONE, event_data, local_days_ahead


def outbox(template_subject_start: str = "") -> list[OutboxMessage]:
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [m for m in rows if m.subject.startswith(template_subject_start)]


def states(event) -> dict[str, str]:
    db.session.expire_all()
    return {r.user.email: r.state.value for r in event.registrations}


# --- Seats and the waiting list ---------------------------------------------------------------


class TestRegistration:
    def test_a_member_gets_a_seat_and_a_confirmation_with_a_calendar_file(
        self, make_event, member
    ):
        event = make_event(capacity=10)
        registration = service.register(member, event)
        db.session.commit()
        assert registration.state is RegistrationState.registered
        assert service.counts(event) == (1, 0)
        [mail] = outbox()
        assert mail.recipient == member.email
        assert mail.subject == "You are registered: Fair laptops workshop"
        assert '"filename": "fair-laptops-workshop.ics"' in mail.attachments_json

    def test_a_full_event_puts_members_on_the_waiting_list_in_order(
        self, make_event, make_member
    ):
        event = make_event(capacity=1)
        first, second, third = (make_member() for _ in range(3))
        for user in (first, second, third):
            service.register(user, event)
            db.session.commit()
        assert states(event) == {first.email: "registered", second.email: "waiting",
                                 third.email: "waiting"}
        positions = [service.waiting_position(event.registration_of(u)) for u in (second, third)]
        assert positions == [1, 2]
        assert [m.subject for m in outbox("On the waiting list")] == [
            "On the waiting list: Fair laptops workshop"
        ] * 2

    def test_a_freed_seat_goes_to_the_longest_waiting_member_who_is_emailed(
        self, make_event, make_member
    ):
        event = make_event(capacity=1)
        first, second, third = (make_member() for _ in range(3))
        for user in (first, second, third):
            service.register(user, event)
            db.session.commit()
        service.cancel_registration(first, event)
        db.session.commit()
        assert states(event) == {first.email: "cancelled", second.email: "registered",
                                 third.email: "waiting"}
        [promotion] = outbox("A seat is yours")
        assert promotion.recipient == second.email
        assert "text/calendar" in promotion.attachments_json
        # The next seat goes to the next in line.
        service.cancel_registration(second, event)
        db.session.commit()
        assert states(event)[third.email] == "registered"

    def test_leaving_the_waiting_list_keeps_the_order_of_the_others(
        self, make_event, make_member
    ):
        event = make_event(capacity=1)
        users = [make_member() for _ in range(4)]
        for user in users:
            service.register(user, event)
            db.session.commit()
        service.cancel_registration(users[1], event)  # first in line leaves
        db.session.commit()
        assert service.counts(event) == (1, 2)
        assert service.waiting_position(event.registration_of(users[2])) == 1
        assert not outbox("A seat is yours")

    def test_coming_back_after_cancelling_joins_the_end_of_the_queue(
        self, make_event, make_member
    ):
        event = make_event(capacity=1)
        a, b, c = (make_member() for _ in range(3))
        for user in (a, b):
            service.register(user, event)
            db.session.commit()
        service.cancel_registration(b, event)  # b leaves the waiting list
        service.register(c, event)
        db.session.commit()
        service.register(b, event)  # b comes back: behind c
        db.session.commit()
        service.cancel_registration(a, event)
        db.session.commit()
        assert states(event) == {a.email: "cancelled", b.email: "waiting", c.email: "registered"}

    def test_registering_twice_is_refused(self, make_event, member):
        event = make_event()
        service.register(member, event)
        db.session.commit()
        with pytest.raises(AlreadyExists, match="already registered"):
            service.register(member, event)

    def test_raising_the_capacity_promotes_the_waiting_list(self, make_event, make_member,
                                                           organiser):
        event = make_event(capacity=1)
        users = [make_member() for _ in range(3)]
        for user in users:
            service.register(user, event)
            db.session.commit()
        data = service.EventData.of(event)
        data.capacity = 2
        service.update_event(organiser, event, data)
        db.session.commit()
        assert service.counts(event) == (2, 1)
        assert [m.recipient for m in outbox("A seat is yours")] == [users[1].email]

    def test_the_capacity_cannot_go_below_the_registrations(self, make_event, make_member,
                                                           organiser):
        event = make_event(capacity=5)
        for _ in range(3):
            service.register(make_member(), event)
            db.session.commit()
        data = service.EventData.of(event)
        data.capacity = 2
        with pytest.raises(ValidationFailed) as refused:
            service.update_event(organiser, event, data)
        assert refused.value.field == "capacity"
        assert "3 people are already registered" in str(refused.value.message)
        db.session.rollback()
        assert db.session.get(Event, event.id).capacity == 5

    def test_registration_after_the_closing_date_is_refused(self, make_event, member):
        closes = wall_clock(utcnow() - timedelta(hours=1), ZONE)
        event = make_event(registration_closes_local=closes)
        with pytest.raises(ValidationFailed, match="Registration closed on"):
            service.register(member, event)
        assert service.counts(event) == (0, 0)

    def test_registration_before_it_opens_is_refused(self, make_event, member):
        event = make_event(registration_opens_local=local_days_ahead(2))
        with pytest.raises(ValidationFailed, match="Registration opens on"):
            service.register(member, event)

    def test_a_cancelled_or_finished_event_takes_no_registrations(self, make_event, member,
                                                                 organiser):
        event = make_event()
        service.cancel_event(organiser, event)
        db.session.commit()
        with pytest.raises(ValidationFailed, match="cancelled"):
            service.register(member, event)
        past = make_event(starts_local=local_days_ahead(-3))
        with pytest.raises(ValidationFailed, match="over"):
            service.register(member, past)

    def test_only_group_members_register_unless_the_event_is_public(
        self, make_event, make_user
    ):
        outsider = make_user("outsider@example.org")
        event = make_event()
        with pytest.raises(NotAllowed, match="for the members of Fair ICT buyers"):
            service.register(outsider, event)
        public = make_event(is_public=True)
        assert service.register(outsider, public).is_registered

    def test_an_organiser_adds_anyone_outside_the_registration_period(
        self, make_event, make_user, organiser
    ):
        outsider = make_user("speaker@example.org")
        closes = wall_clock(utcnow() - timedelta(hours=1), ZONE)
        event = make_event(capacity=1, registration_closes_local=closes)
        assert service.register(outsider, event, actor=organiser).is_registered
        db.session.commit()
        late = make_user("late@example.org")
        # Full: an organiser's addition joins the waiting list too.
        assert service.register(late, event, actor=organiser).is_waiting

    def test_a_member_cannot_add_someone_else(self, make_event, member, make_member):
        event = make_event()
        with pytest.raises(NotAllowed):
            service.register(make_member(), event, actor=member)


# --- Planning checks --------------------------------------------------------------------------


class TestPlanning:
    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"title": "  "}, "title", "give the event a title"),
            ({"timezone": "Europe/Atlantis"}, "timezone", "“Europe/Atlantis” is not a time zone"),
            ({"ends_local": local_days_ahead(6)}, "ends_local", "must end after it starts"),
            ({"mode": "venue"}, "venue_address", "venue's name and address"),
            ({"capacity": 0}, "capacity", "at least 1"),
            ({"video_url": "meet.example.org"}, "video_url", "https://"),
            ({"registration_opens_local": local_days_ahead(3),
              "registration_closes_local": local_days_ahead(2)},
             "registration_closes_local", "close after it opens"),
            ({"registration_closes_local": local_days_ahead(9)},
             "registration_closes_local", "close before the event ends"),
            ({"reminder_minutes": [7]}, "reminder_minutes", "from the list"),
        ],
    )
    def test_bad_input_is_refused_by_its_field(self, group, organiser, overrides, field,
                                               message):
        with pytest.raises(ValidationFailed) as refused:
            service.create_event(organiser, group, event_data(**overrides))
        assert refused.value.field == field
        assert message in str(refused.value.message)

    def test_a_time_the_clocks_skip_is_refused(self, group, organiser):
        # 29 March 2026, 02:30 does not exist in Brussels: the clocks jump from 02:00 to 03:00.
        with pytest.raises(ValidationFailed) as refused:
            service.create_event(organiser, group, event_data(
                timezone="Europe/Brussels", starts_local=datetime(2026, 3, 29, 2, 30),
                ends_local=datetime(2026, 3, 29, 4, 0)))
        assert refused.value.field == "starts_local"
        assert "does not exist in Europe/Brussels" in str(refused.value.message)

    def test_only_the_groups_organisers_plan_its_events(self, group, member, make_user):
        with pytest.raises(NotAllowed):
            service.create_event(member, group, event_data())
        other_organiser = make_user("other@example.org", role="organiser")
        with pytest.raises(NotAllowed):
            service.create_event(other_organiser, group, event_data())

    def test_times_are_stored_in_utc_and_the_zone_by_name(self, group, organiser):
        event = service.create_event(organiser, group, event_data(
            timezone="America/New_York", starts_local=datetime(2030, 7, 1, 9, 0),
            ends_local=datetime(2030, 7, 1, 11, 0)))
        db.session.commit()
        db.session.expire_all()
        assert event.timezone == "America/New_York"
        assert event.starts_at == datetime(2030, 7, 1, 13, 0, tzinfo=UTC)
        assert event.local_start.hour == 9

    def test_moving_an_event_moves_its_agenda(self, make_event, organiser):
        event = make_event()
        item = service.save_agenda_item(
            organiser, event, starts_local=event_data().starts_local + timedelta(minutes=30),
            title="Welcome")
        db.session.commit()
        data = service.EventData.of(event)
        data.starts_local += timedelta(hours=3)
        data.ends_local += timedelta(hours=3)
        service.update_event(organiser, event, data)
        db.session.commit()
        assert wall_clock(item.starts_at, ZONE).strftime("%H:%M") == "13:30"

    def test_an_agenda_item_must_be_during_the_event(self, make_event, organiser):
        event = make_event()
        with pytest.raises(ValidationFailed) as refused:
            service.save_agenda_item(organiser, event, title="Coffee",
                                     starts_local=event_data().starts_local - timedelta(hours=1))
        assert refused.value.field == "starts_local"

    def test_agenda_items_link_library_items_by_number_or_link(self):
        assert service.parse_library_refs("12, 15 https://x.test/library/7 #3 12") == [
            12, 15, 7, 3]
        with pytest.raises(ValidationFailed):
            service.parse_library_refs("twelve")


# --- Series and daylight-saving time ----------------------------------------------------------

# The last Sunday of October 2030 is the 27th: Brussels goes from UTC+2 to UTC+1.
MONDAY_BEFORE = datetime(2030, 10, 14, 10, 0)


def brussels_sessions(group, organiser, count=4):
    series = service.create_series(organiser, group, title_pattern="Workshop {n}: fair ICT")
    sessions = service.add_sessions(
        organiser, series,
        event_data(starts_local=MONDAY_BEFORE, ends_local=MONDAY_BEFORE + timedelta(hours=2)),
        count=count,
    )
    db.session.commit()
    return series, sessions


class TestSeries:
    def test_a_weekly_series_keeps_10_00_brussels_time_across_the_clock_change(
        self, group, organiser
    ):
        series, sessions = brussels_sessions(group, organiser)
        assert [s.title for s in sessions] == [f"Workshop {n}: fair ICT" for n in (1, 2, 3, 4)]
        assert [wall_clock(s.starts_at, ZONE).strftime("%a %d %b %H:%M") for s in sessions] == [
            "Mon 14 Oct 10:00", "Mon 21 Oct 10:00", "Mon 28 Oct 10:00", "Mon 04 Nov 10:00"]
        # In UTC the clock change shows: 08:00 before, 09:00 after.
        assert [s.starts_at.hour for s in sessions] == [8, 8, 9, 9]
        assert sessions[2].starts_at - sessions[1].starts_at == timedelta(days=7, hours=1)

    def test_editing_one_session_changes_only_that_one(self, group, organiser):
        series, sessions = brussels_sessions(group, organiser)
        data = service.EventData.of(sessions[1])
        data.starts_local = data.starts_local.replace(hour=14)
        data.ends_local = data.ends_local.replace(hour=16)
        service.update_event(organiser, sessions[1], data, scope="this")
        db.session.commit()
        assert [wall_clock(s.starts_at, ZONE).hour for s in sessions] == [10, 14, 10, 10]

    def test_editing_all_future_sessions_keeps_their_local_time_and_own_titles(
        self, group, organiser
    ):
        series, sessions = brussels_sessions(group, organiser)
        data = service.EventData.of(sessions[1])
        data.starts_local = data.starts_local.replace(hour=14)
        data.ends_local = data.ends_local.replace(hour=17)  # also an hour longer
        data.mode, data.venue_name, data.venue_address = "venue", "Herman Teirlinck", "Brussels"
        changed = service.update_event(organiser, sessions[1], data, scope="future")
        db.session.commit()
        assert changed == sessions[1:]
        assert [wall_clock(s.starts_at, ZONE).strftime("%d %b %H:%M") for s in sessions] == [
            "14 Oct 10:00", "21 Oct 14:00", "28 Oct 14:00", "04 Nov 14:00"]
        assert [s.starts_at.hour for s in sessions] == [8, 12, 13, 13]
        assert [(s.ends_at - s.starts_at).seconds // 3600 for s in sessions] == [2, 3, 3, 3]
        assert [s.venue_name for s in sessions] == ["", *["Herman Teirlinck"] * 3]
        assert [s.title for s in sessions] == [f"Workshop {n}: fair ICT" for n in (1, 2, 3, 4)]
        assert [s.sequence for s in sessions] == [0, 1, 1, 1]

    def test_changing_the_zone_of_future_sessions_keeps_their_wall_clock_time(
        self, group, organiser
    ):
        series, sessions = brussels_sessions(group, organiser, count=2)
        data = service.EventData.of(sessions[0])
        data.timezone = "Europe/Helsinki"
        service.update_event(organiser, sessions[0], data, scope="future")
        db.session.commit()
        assert [wall_clock(s.starts_at, "Europe/Helsinki").hour for s in sessions] == [10, 10]
        assert {s.timezone for s in sessions} == {"Europe/Helsinki"}

    def test_a_series_title_needs_the_number(self, group, organiser):
        with pytest.raises(ValidationFailed) as refused:
            service.create_series(organiser, group, title_pattern="Workshop")
        assert refused.value.field == "title_pattern"


# --- Changes, cancellations, reminders --------------------------------------------------------


class TestChangesAndReminders:
    def test_a_new_time_is_announced_to_participants_and_the_waiting_list(
        self, make_event, make_member, organiser
    ):
        event = make_event(capacity=1)
        seated, waiting = make_member(), make_member()
        service.register(seated, event)
        service.register(waiting, event)
        db.session.commit()
        data = service.EventData.of(event)
        data.starts_local += timedelta(days=1)
        data.ends_local += timedelta(days=1)
        service.update_event(organiser, event, data)
        db.session.commit()
        notices = outbox("New date or time")
        assert sorted(m.recipient for m in notices) == sorted([seated.email, waiting.email])
        assert event.sequence == 1

    def test_a_new_description_is_not_emailed_but_changes_the_calendar(self, make_event,
                                                                       member, organiser):
        event = make_event()
        service.register(member, event)
        db.session.commit()
        data = service.EventData.of(event)
        data.description = "New text"
        service.update_event(organiser, event, data)
        db.session.commit()
        assert not outbox("New")
        assert event.sequence == 1

    def test_cancelling_an_event_tells_everyone_registered(self, make_event, member,
                                                           organiser):
        event = make_event()
        service.register(member, event)
        db.session.commit()
        service.cancel_event(organiser, event, "The speaker is ill.")
        db.session.commit()
        assert event.status is EventStatus.cancelled
        assert event.sequence == 1
        [notice] = outbox("Cancelled")
        assert "The speaker is ill." in notice.body_text

    def test_reminders_are_sent_once_at_each_offset(self, make_event, member, make_member):
        event = make_event(starts_local=local_days_ahead(3))
        other = make_member()
        for user in (member, other):
            service.register(user, event)
        db.session.commit()
        start = event.starts_at
        assert service.send_due_reminders(now=start - timedelta(hours=25)) == 0
        assert service.send_due_reminders(now=start - timedelta(hours=23)) == 2
        assert service.send_due_reminders(now=start - timedelta(hours=22)) == 0
        assert service.send_due_reminders(now=start - timedelta(minutes=59)) == 2
        assert service.send_due_reminders(now=start - timedelta(minutes=30)) == 0
        keys = sorted(m.dedupe_key for m in outbox("Reminder"))
        registration = event.registration_of(member)
        assert f"reminder:{registration.id}:1440:" in " ".join(keys)
        assert len(keys) == 4

    def test_no_reminder_for_cancelled_registrations_or_events(self, make_event, member,
                                                               make_member, organiser):
        event = make_event(starts_local=local_days_ahead(3))
        leaver = make_member()
        service.register(member, event)
        service.register(leaver, event)
        service.cancel_registration(leaver, event)
        db.session.commit()
        assert service.send_due_reminders(now=event.starts_at - timedelta(hours=1)) == 1
        service.cancel_event(organiser, event)
        db.session.commit()
        assert service.send_due_reminders(now=event.starts_at - timedelta(minutes=10)) == 0

    def test_a_late_registration_gets_only_the_reminders_still_ahead(self, make_event, member):
        event = make_event(starts_local=local_days_ahead(3))
        service.register(member, event)
        registration = event.registration_of(member)
        registration.registered_at = event.starts_at - timedelta(hours=3)  # registered late
        db.session.commit()
        assert service.send_due_reminders(now=event.starts_at - timedelta(hours=2)) == 0
        assert service.send_due_reminders(now=event.starts_at - timedelta(minutes=50)) == 1
        [reminder] = outbox("Reminder")
        assert reminder.dedupe_key.startswith(f"reminder:{registration.id}:60:")

    def test_reminder_offsets_are_per_event(self, make_event, member):
        event = make_event(starts_local=local_days_ahead(10), reminder_minutes=[10080])
        service.register(member, event)
        db.session.commit()
        assert service.send_due_reminders(now=event.starts_at - timedelta(days=6)) == 1
        assert service.send_due_reminders(now=event.starts_at - timedelta(minutes=30)) == 0


def test_counts_are_per_event(make_event, make_member):
    a, b = make_event(capacity=1), make_event(capacity=3)
    users = [make_member() for _ in range(2)]
    for user in users:
        service.register(user, a)
        service.register(user, b)
    db.session.commit()
    assert service.counts_for([a, b]) == {a.id: (1, 1), b.id: (2, 0)}
    assert db.session.scalar(select(func.count()).select_from(Event)) == 2
