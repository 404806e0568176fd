"""iCalendar (.ics) for events, series, working groups and personal feeds (``icalendar``).

Every VEVENT carries its event's own zone (DTSTART;TZID=Europe/Brussels with a VTIMEZONE),
so calendar programs keep the wall-clock time when daylight saving time changes. The UID is
stable for the life of an event; SEQUENCE rises with every change, so a client replaces its
copy; a cancelled event, or a cancelled registration in the member's own feed, comes as
STATUS:CANCELLED.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, vDuration
from icalendar import Event as VEvent

from buyergroup.accounts.service import external_url
from buyergroup.events.models import Event, EventMode, Registration, RegistrationState
from buyergroup.events.times import to_local

PRODID = "-//Buyergroup//Events//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class Entry:
    """One event as one calendar should show it."""

    event: Event
    registration: Registration | None = None
    show_link: bool = False  # the video link: registered participants and organisers only


def _location(event: Event, show_link: bool) -> str:
    if event.mode is EventMode.venue:
        parts = [event.venue_name, " ".join(event.venue_address.split())]
        return ", ".join(p for p in parts if p)
    if show_link and event.video_url:
        return _("Online: %(url)s", url=event.video_url)
    return _("Online")


def _description(event: Event, entry: Entry) -> str:
    lines = [event.description.strip()] if event.description.strip() else []
    if entry.registration is not None and entry.registration.is_waiting:
        lines.insert(0, _("You are on the waiting list for this event."))
    if event.is_cancelled:
        lines.insert(0, _("This event has been cancelled."))
    if event.mode is EventMode.online and entry.show_link and event.video_url:
        lines.append(_("Join online: %(url)s", url=event.video_url))
    if event.agenda_items:
        lines.append(_("Agenda") + ":")
        for item in event.agenda_items:
            clock = to_local(item.starts_at, event.timezone).strftime("%H:%M")
            speakers = f" ({item.speakers})" if item.speakers else ""
            lines.append(f"{clock} {item.title}{speakers}")
    lines.append(external_url("events.detail", event_id=event.id))
    return "\n\n".join(lines)


def _status_and_sequence(entry: Entry) -> tuple[str, int, str]:
    event, registration = entry.event, entry.registration
    sequence = event.sequence + (registration.sequence if registration is not None else 0)
    summary = event.title
    if event.is_cancelled:
        return "CANCELLED", sequence, _("Cancelled: %(title)s", title=summary)
    if registration is not None and registration.state is RegistrationState.cancelled:
        return "CANCELLED", sequence, summary
    if registration is not None and registration.is_waiting:
        return "TENTATIVE", sequence, _("Waiting list: %(title)s", title=summary)
    return "CONFIRMED", sequence, summary


def vevent(entry: Entry) -> VEvent:
    event = entry.event
    status, sequence, summary = _status_and_sequence(entry)
    component = VEvent()
    component.add("uid", event.uid)
    # DTSTAMP: when this version was last changed, so an unchanged feed stays byte-stable.
    stamps = [event.updated_at]
    if entry.registration is not None:
        stamps.append(entry.registration.updated_at)
    component.add("dtstamp", max(stamps).astimezone(UTC))
    component.add("created", event.created_at.astimezone(UTC))
    component.add("last-modified", max(stamps).astimezone(UTC))
    component.add("sequence", sequence)
    component.add("summary", summary)
    component.add("dtstart", to_local(event.starts_at, event.timezone))
    component.add("dtend", to_local(event.ends_at, event.timezone))
    component.add("status", status)
    component.add("location", _location(event, entry.show_link))
    component.add("description", _description(event, entry))
    component.add("url", external_url("events.detail", event_id=event.id))
    component.add("categories", [event.kind.label])
    if event.language:
        component.add("x-buyergroup-language", event.language)
    if event.is_cancelled or status == "CANCELLED":
        component.add("transp", "TRANSPARENT")
    return component


def build(
    entries: Iterable[Entry], *, name: str, locale: str = "en", refresh_hours: int | None = None
) -> bytes:
    """One VCALENDAR with a VEVENT per entry and the VTIMEZONEs they use."""
    entries = list(entries)
    with force_locale(locale):
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", name)
        if refresh_hours:
            # How often subscribers should look again (Outlook reads the X- one).
            calendar.add("refresh-interval", timedelta(hours=refresh_hours),
                         parameters={"VALUE": "DURATION"})
            calendar.add("x-published-ttl", vDuration(timedelta(hours=refresh_hours)))
        for entry in entries:
            calendar.add_component(vevent(entry))
    if entries:
        # VTIMEZONE rules only for the years the events span (the default is 1970-2038).
        first = min(e.event.starts_at for e in entries).date()
        last = max(e.event.ends_at for e in entries).date()
        calendar.add_missing_timezones(
            first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1)
        )
    return calendar.to_ical()


def event_calendar(
    event: Event, *, registration: Registration | None = None, show_link: bool = False,
    locale: str = "en",
) -> bytes:
    return build(
        [Entry(event, registration, show_link)], name=event.title, locale=locale
    )


def filename_for(text: str) -> str:
    from buyergroup.database import slugify

    return f"{slugify(text, 60)}.ics"
