"""iCalendar (.ics) for events, series, working groups and personal feeds (``icalendar``).

Every VEVENT carries its event's own zone (DTSTART;TZID=Europe/Brussels with a VTIMEZONE),
so calendar programs keep the wall-clock time when daylight saving time changes. The UID is
stable for the life of an event; SEQUENCE rises with every change, so a client replaces its
copy; a cancelled event, or a cancelled registration in the member's own feed, comes as
STATUS:CANCELLED.

Each VTIMEZONE lists one observance per clock change (its own DTSTART, no multi-valued
RDATE): Mozilla's ical.js (Thunderbird) and vobject read only the first date of an RDATE
line with several, and then show events after the next change an hour off. Files sent by
email are iTIP messages (RFC 5546): METHOD:REQUEST with ORGANIZER and ATTENDEE, or
METHOD:CANCEL with the same UID and a higher SEQUENCE, so Outlook offers to add the event
and removes a cancelled one. DESCRIPTION is plain text (the Markdown is rendered and its
tags dropped), and every text, the calendar's name included, is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import markdown as markdown_lib
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import (
    Calendar,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vText,
)
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


class _TextOfHtml(HTMLParser):
    """The text of rendered Markdown: paragraphs apart, list items as "- ", links with
    their address in brackets."""

    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
              "ul", "ol", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("br", "tr"):
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                self.parts.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data):
        if data.strip() or "\n" not in data:  # not the newlines between block tags
            self.parts.append(data)


def plain_text(markdown_text: str) -> str:
    """Markdown as the plain text a calendar program shows (no ``**``, no tags)."""
    parser = _TextOfHtml()
    parser.feed(markdown_lib.markdown(html.escape(markdown_text or "", quote=False),
                                      extensions=["sane_lists"]))
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(line.strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _location(event: Event, show_link: bool) -> str:
    if event.mode is EventMode.venue:
        parts = [event.venue_name, " ".join(event.venue_address.split())]
        return ", ".join(p for p in parts if p)
    if show_link and event.video_url:
        return _("Online: %(url)s", url=event.video_url)
    return _("Online")


def _description(event: Event, entry: Entry) -> str:
    description = plain_text(event.description)
    lines = [description] if description else []
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


def _transitions(zone: ZoneInfo, start: datetime, end: datetime):
    """(UTC instant, offset before, offset after, DST after, name after) of every clock
    change of ``zone`` between ``start`` and ``end`` (aware UTC datetimes)."""
    step = timedelta(hours=6)
    moment = start
    before = moment.astimezone(zone)
    while moment < end:
        later = min(moment + step, end)
        after = later.astimezone(zone)
        if after.utcoffset() != before.utcoffset() or after.tzname() != before.tzname():
            low, high = moment, later  # the change is in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == before.utcoffset() and (
                    middle.astimezone(zone).tzname() == before.tzname()
                ):
                    low = middle
                else:
                    high = middle
            instant = high.replace(microsecond=0)
            local = instant.astimezone(zone)
            yield instant, before.utcoffset(), local.utcoffset(), bool(local.dst()), \
                local.tzname()
        moment, before = later, after


def vtimezone(name: str, first: date, last: date) -> Timezone:
    """A VTIMEZONE for ``name`` valid from ``first`` to ``last``: one observance for the
    offset in force on ``first``, then one per clock change, each with its own DTSTART."""
    zone = ZoneInfo(name)
    component = Timezone()
    component.add("tzid", name)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC)
    initial = start.astimezone(zone)

    def observance(daylight: bool, local_start: datetime, before, after, tzname: str):
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.add("dtstart", local_start)
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        if tzname:
            part.add("tzname", tzname)
        return part

    component.add_component(observance(
        bool(initial.dst()), initial.replace(tzinfo=None), initial.utcoffset(),
        initial.utcoffset(), initial.tzname()))
    for instant, before, after, daylight, tzname in _transitions(zone, start, end):
        # DTSTART is the wall-clock time of the change in the offset before it.
        local_start = (instant + before).replace(tzinfo=None)
        component.add_component(observance(daylight, local_start, before, after, tzname))
    return component


def organizer_address(event: Event) -> vCalAddress:
    """The organiser every file names (RFC 5546 wants one, for PUBLISH too): the working
    group, at the site's own address (nobody's private email; replies to it are not read:
    the registration on the site is the answer)."""
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(event.group.name if event.group else (name or "Buyergroup"))
    return organizer


def vevent(entry: Entry, *, attendee: tuple[str, str] | None = None) -> VEvent:
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
    component.add("organizer", organizer_address(event))
    if attendee is not None:
        name, address = attendee
        person = vCalAddress(f"mailto:{address}")
        person.params["cn"] = vText(name or address)
        person.params["role"] = "REQ-PARTICIPANT"
        person.params["partstat"] = {"CONFIRMED": "ACCEPTED", "TENTATIVE": "TENTATIVE"}.get(
            status, "DECLINED")
        person.params["rsvp"] = "FALSE"
        component.add("attendee", person)
    return component


def last_modified(entries: Iterable[Entry]) -> datetime | None:
    """When the newest of these entries last changed (for Last-Modified)."""
    stamps = []
    for entry in entries:
        stamps.append(entry.event.updated_at)
        if entry.registration is not None:
            stamps.append(entry.registration.updated_at)
    stamps = [s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps if s is not None]
    return max(stamps).astimezone(UTC) if stamps else None


def build(
    entries: Iterable[Entry], *, name: str, locale: str = "en", refresh_hours: int | None = None,
    method: str = "PUBLISH", attendee: tuple[str, str] | None = None,
) -> bytes:
    """One VCALENDAR with a VEVENT per entry and the VTIMEZONEs they use.

    ``method`` "REQUEST" or "CANCEL" with ``attendee`` (name, email) makes an iTIP message
    for that one person: ORGANIZER and ATTENDEE on every VEVENT.
    """
    entries = list(entries)
    with force_locale(locale):
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", method)
        calendar.add("x-wr-calname", vText(name))
        if refresh_hours:
            # How often subscribers should look again (Outlook reads the X- one).
            calendar.add("refresh-interval", timedelta(hours=refresh_hours),
                         parameters={"VALUE": "DURATION"})
            calendar.add("x-published-ttl", vDuration(timedelta(hours=refresh_hours)))
        for entry in entries:
            calendar.add_component(vevent(entry, attendee=attendee))
    if entries:
        # VTIMEZONE rules only for the years the events span, plus one either side.
        first = min(e.event.starts_at for e in entries).date()
        last = max(e.event.ends_at for e in entries).date()
        zones = sorted({e.event.timezone for e in entries})
        # Before the events that use them (some readers resolve TZIDs in one pass).
        calendar.subcomponents[:0] = [
            vtimezone(zone, date(first.year - 1, 1, 1), date(last.year + 2, 1, 1))
            for zone in zones
        ]
    return calendar.to_ical()


def event_calendar(
    event: Event, *, registration: Registration | None = None, show_link: bool = False,
    locale: str = "en",
) -> bytes:
    return build(
        [Entry(event, registration, show_link)], name=event.title, locale=locale
    )


def invitation_method(event: Event, registration: Registration | None) -> str:
    """CANCEL when the event, or this person's seat, is cancelled; else REQUEST."""
    if event.is_cancelled or (
        registration is not None and registration.state is RegistrationState.cancelled
    ):
        return "CANCEL"
    return "REQUEST"


def invitation(
    event: Event, *, attendee: tuple[str, str], registration: Registration | None = None,
    show_link: bool = False, locale: str = "en",
) -> bytes:
    """The iTIP file an email carries: REQUEST (add or update) or CANCEL (remove)."""
    return build(
        [Entry(event, registration, show_link)], name=event.title, locale=locale,
        method=invitation_method(event, registration), attendee=attendee,
    )


def filename_for(text: str) -> str:
    from buyergroup.database import slugify

    return f"{slugify(text, 60)}.ics"
