"""Calendar feeds: a member's secret personal feed, and the feeds of series and groups."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from buyergroup.accounts.models import User
from buyergroup.database import utcnow
from buyergroup.events import calendar
from buyergroup.events.models import (
    CalendarFeed,
    Event,
    Registration,
)
from buyergroup.events.permissions import (
    may_see_private_details,
)
from buyergroup.events.service.constants import FEED_PREFIX
from buyergroup.extensions import db
from buyergroup.network.models import WorkingGroup
from buyergroup.tokens import hash_secret, new_secret

FEED_HISTORY_DAYS = 365
FEED_LAST_READ_PRECISION = timedelta(hours=1)


def active_feed(user: User) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                   CalendarFeed.revoked_at.is_(None))
    )


def _derived_secret(user_id: int, prefix: str) -> str:
    """The secret of a feed: its random prefix and an HMAC of it under SECRET_KEY.

    Only the hash is stored, yet the member's page can show the link again on every visit
    (and a reload does not replace it). Whoever holds SECRET_KEY can sign in as anyone
    already, so deriving the link from it exposes nothing more.
    """
    key = current_app.config["SECRET_KEY"]
    key = key.encode("utf-8") if isinstance(key, str) else key
    mac = hmac.new(key, f"calendar-feed:{user_id}:{prefix}".encode(), hashlib.sha256)
    return prefix + base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def create_feed(user: User) -> tuple[CalendarFeed, str]:
    """A new secret feed link (any previous one stops working)."""
    revoke_feed(user)
    prefix = (FEED_PREFIX + new_secret(12))[:12]
    secret = _derived_secret(user.id, prefix)
    feed = CalendarFeed(user=user, prefix=prefix, token_hash=hash_secret(secret))
    db.session.add(feed)
    db.session.flush()
    return feed, secret


def feed_secret(feed: CalendarFeed) -> str | None:
    """The secret of an active feed, or None for a link made before links were derived
    (or under another SECRET_KEY): its owner makes a new one to see it."""
    secret = _derived_secret(feed.user_id, feed.prefix)
    return secret if hmac.compare_digest(hash_secret(secret), feed.token_hash) else None


def revoke_feed(user: User) -> bool:
    revoked = False
    for feed in db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                   CalendarFeed.revoked_at.is_(None))
    ):
        feed.revoked_at = utcnow()
        revoked = True
    db.session.flush()
    return revoked


def user_for_feed(secret: str) -> User | None:
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_secret(secret))
    )
    if feed is None or not feed.is_active or not feed.user.is_active:
        return None
    # The member's calendar page says when a calendar last read the link. Calendars poll
    # with GET every few minutes: remember it at most once an hour, not on every read.
    now = utcnow()
    if feed.last_used_at is None or now - feed.last_used_at >= FEED_LAST_READ_PRECISION:
        feed.last_used_at = now
        db.session.flush()
    return feed.user




def personal_entries(user: User) -> list[calendar.Entry]:
    """The member's registrations (also waiting and cancelled ones), from a year ago on."""
    since = utcnow() - timedelta(days=FEED_HISTORY_DAYS)
    registrations = db.session.scalars(
        select(Registration)
        .join(Event, Registration.event_id == Event.id)
        .where(Registration.user_id == user.id, Event.ends_at >= since)
        .order_by(Event.starts_at)
    )
    return [
        calendar.Entry(r.event, r, show_link=r.is_registered and not r.event.is_cancelled)
        for r in registrations
    ]


def feed_entries(events, user: User | None) -> list[calendar.Entry]:
    return [
        calendar.Entry(event, None, show_link=may_see_private_details(user, event))
        for event in events
    ]


def group_events(group: WorkingGroup) -> list[Event]:
    since = utcnow() - timedelta(days=FEED_HISTORY_DAYS)
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.group_id == group.id, Event.ends_at >= since)
            .order_by(Event.starts_at)
        )
    )
