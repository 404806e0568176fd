"""Wall-clock times in named zones, and formatting them for a reader in another zone.

Events are planned in local time ("every Monday at 10:00 in Brussels") and stored in UTC.
Converting through the zone *by name* for every date keeps 10:00 at 10:00 when daylight
saving time starts or ends between two sessions.

Formatting goes through Flask-Babel (the reader's language) with ``rebase=False`` after
converting to the reader's zone with zoneinfo: Flask-Babel would otherwise convert to the
zone of the current request (or the default zone in a job), not the recipient's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import format_date, format_datetime, format_time, get_locale, get_timezone

from buyergroup.i18n import is_valid_timezone


def to_utc(local: datetime, zone: str) -> datetime:
    """A naive wall-clock time in ``zone`` as an aware UTC datetime."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def exists_in_zone(local: datetime, zone: str) -> bool:
    """False for a wall-clock time the clocks skip (02:30 on the night they go forward).

    zoneinfo silently shifts such a time by an hour; a round trip through UTC shows it.
    """
    return wall_clock(to_utc(local, zone), zone) == local.replace(tzinfo=None)


def to_local(moment: datetime, zone: str) -> datetime:
    """``moment`` (aware, or naive meaning UTC) as an aware datetime in ``zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone))


def wall_clock(moment: datetime, zone: str) -> datetime:
    """The naive local time in ``zone``: what a form shows and what a series steps through."""
    return to_local(moment, zone).replace(tzinfo=None)


def step_wall_clock(moment: datetime, zone: str, delta: timedelta) -> datetime:
    """``moment`` moved by ``delta`` in local wall-clock time, back in UTC.

    ``step_wall_clock(Mon 10:00 CEST, "Europe/Brussels", 7 days)`` is Mon 10:00 CET, which
    is 25 hours of real time later when the clocks go back in between.
    """
    return to_utc(wall_clock(moment, zone) + delta, zone)


def zone_label(zone: str) -> str:
    return zone.replace("_", " ")


def viewer_zone() -> str:
    return str(get_timezone())


def known_zone(zone: str | None) -> bool:
    return bool(zone) and is_valid_timezone(zone)


def format_moment(moment: datetime | None, zone: str, fmt: str = "medium") -> str:
    """Date and time in ``zone``, in the current locale (use inside ``force_locale``)."""
    if moment is None:
        return ""
    return format_datetime(to_local(moment, zone), fmt, rebase=False)


def format_span(start: datetime, end: datetime, zone: str) -> str:
    """"Monday 20 October 2025, 10:00 – 12:00" in ``zone`` and the current locale."""
    local_start, local_end = to_local(start, zone), to_local(end, zone)
    day = format_date(local_start.date(), "full")
    start_time = format_time(local_start, "short", rebase=False)
    end_time = format_time(local_end, "short", rebase=False)
    if local_start.date() == local_end.date():
        return f"{day}, {start_time} – {end_time}"
    end_day = format_date(local_end.date(), "full")
    return f"{day}, {start_time} – {end_day}, {end_time}"


def format_day(moment: datetime, zone: str) -> str:
    """A short day ("Thu 21 Nov"), for agendas of events over several days."""
    return format_skeleton("MMMEd", to_local(moment, zone), locale=get_locale() or "en")


def spans_days(start: datetime, end: datetime, zone: str) -> bool:
    return to_local(start, zone).date() != to_local(end - timedelta(seconds=1), zone).date()


def format_clock(moment: datetime, zone: str) -> str:
    return format_time(to_local(moment, zone), "short", rebase=False)


def iso_local(moment: datetime | None, zone: str) -> str | None:
    return to_local(moment, zone).isoformat() if moment is not None else None
