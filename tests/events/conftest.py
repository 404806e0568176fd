"""Factories for events: a working group with an organiser and members, and events in it
created through the service (so test data is always valid data)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from buyergroup.database import utcnow
from buyergroup.events import service
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from buyergroup.network.service import add_member

ZONE = "Europe/Brussels"


def local_days_ahead(days: int, hour: int = 10, minute: int = 0, zone: str = ZONE) -> datetime:
    """A naive wall-clock time ``days`` from today at ``hour``:``minute`` in ``zone``."""
    today = wall_clock(utcnow(), zone).date()
    return datetime(today.year, today.month, today.day, hour, minute) + timedelta(days=days)


def event_data(**overrides) -> service.EventData:
    starts = overrides.pop("starts_local", None) or local_days_ahead(7)
    fields = {
        "title": "Fair laptops workshop",
        "kind": "workshop",
        "mode": "online",
        "timezone": ZONE,
        "language": "en",
        "starts_local": starts,
        "ends_local": starts + timedelta(hours=2),
        "video_url": "https://meet.example.org/fair-laptops",
        "description": "We compare **tender clauses** for laptops.",
        "capacity": None,
    }
    fields.update(overrides)
    return service.EventData(**fields)


@pytest.fixture
def group(make_group, organiser, member):
    group = make_group("Fair ICT buyers", organiser=organiser, languages=["en", "nl"])
    add_member(group, member)
    db.session.commit()
    return group


@pytest.fixture
def make_member(make_user, group):
    """A member of ``group``: ``make_member(locale="nl", timezone="Europe/Helsinki")``."""

    def factory(email=None, **fields):
        user = make_user(email, **fields)
        add_member(group, user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_event(group, organiser):
    def factory(target_group=None, actor=organiser, **overrides):
        event = service.create_event(actor, target_group or group, event_data(**overrides))
        db.session.commit()
        return event

    return factory


def reload(instance):
    """Read a row again: requests commit in their own session, not the test's."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(type(instance), instance.id)


@pytest.fixture
def new_client(app):
    """Another browser with its own cookies: ``new_client()``."""
    return app.test_client
