"""The events in seed/events.yaml load through the services, once, with the facts right."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from buyergroup.database import utcnow
from buyergroup.events import service
from buyergroup.events.models import Event, EventSeries
from buyergroup.events.times import wall_clock
from buyergroup.extensions import db
from buyergroup.seeding import SeedError, load_seed

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


@pytest.fixture
def seeded(seeded_app):
    """The demo seed, loaded once per run (tests/conftest.py), rolled back after each test."""
    return seeded_app.seed_report


def events_of(group_name: str) -> list[Event]:
    return [e for e in db.session.scalars(select(Event).order_by(Event.starts_at))
            if e.group.name == group_name]


def test_the_historical_events(seeded):
    belgian = events_of("Belgian ICT Buyer Group")
    sessions_2021 = [e for e in belgian if e.starts_at.year == 2021]
    assert len(sessions_2021) == 4
    assert [e.series_number for e in sessions_2021] == [1, 2, 3, 4]
    assert all(e.mode.value == "online" and e.timezone == "Europe/Brussels"
               for e in sessions_2021)

    european = events_of("European working group on ethical ICT procurement")
    workshops = [e for e in european if e.series is not None]
    assert len(workshops) == 10
    assert {e.starts_at.year for e in workshops} == {2021, 2022}
    assert workshops[6].title == "Workshop 7: remediation"
    assert any(e.kind.value == "meeting" and e.starts_at.year == 2021 for e in european)

    [conference] = [e for e in european if e.kind.value == "conference"]
    assert (conference.starts_at.year, conference.starts_at.month) == (2024, 11)
    assert conference.venue_name == "Herman Teirlinck building"
    assert "Brussels" in conference.venue_address
    assert conference.is_public
    titles = [item.title for item in conference.agenda_items]
    assert titles[0] == "Welcome by the co-host"
    linked = {li.seed_key for item in conference.agenda_items for li in item.library_items}
    assert "worker-driven-monitoring-guide-en" in linked


def test_demo_events_are_upcoming_and_one_is_full_with_a_waiting_list(seeded):
    upcoming = db.session.scalars(select(Event).where(Event.starts_at > utcnow())).all()
    assert len(upcoming) >= 4
    full = [e for e in upcoming if e.capacity and service.counts(e)[0] >= e.capacity]
    assert len(full) == 1
    registered, waiting = service.counts(full[0])
    assert (registered, waiting) == (4, 2)
    assert full[0].group.name == "European working group on ethical ICT procurement"
    member = next(r for r in full[0].registrations if r.user.email == "member@example.org")
    assert service.waiting_position(member) == 1
    helsinki = next(e for e in upcoming if e.timezone == "Europe/Helsinki")
    assert wall_clock(helsinki.starts_at, "Europe/Helsinki").hour == 11


def test_loading_again_creates_nothing_and_renews_past_demo_events(seeded):
    counts = (db.session.scalar(select(func.count()).select_from(Event)),
              db.session.scalar(select(func.count()).select_from(EventSeries)))
    again = load_seed(SEED_DIR, password="buyergroup-demo")
    db.session.commit()
    assert again.events.created == 0 and again.event_series.created == 0
    assert (db.session.scalar(select(func.count()).select_from(Event)),
            db.session.scalar(select(func.count()).select_from(EventSeries))) == counts

    # Loaded two months ago, the demo events are over by now: loading again adds fresh
    # upcoming copies and keeps the old ones as past events.
    demo = db.session.scalars(select(Event).where(Event.seed_key.like("demo-%"))).all()
    for event in demo:
        event.starts_at -= timedelta(days=60)
        event.ends_at -= timedelta(days=60)
        event.seed_key = event.seed_key.split("@")[0] + "@2000-01-01"
    db.session.commit()
    later = load_seed(SEED_DIR, password="buyergroup-demo")
    db.session.commit()
    assert later.events.created == len(demo)
    assert db.session.scalar(
        select(func.count()).select_from(Event).where(Event.starts_at > utcnow())
    ) == len(demo)


def test_a_bad_event_entry_is_reported_with_its_place(app, tmp_path):
    folder = tmp_path / "seed"
    folder.mkdir()
    for name in ("organisations.yaml", "members.yaml", "groups.yaml"):
        (folder / name).write_text((SEED_DIR / name).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    (folder / "events.yaml").write_text(
        "events:\n  - key: x\n    group: Belgian ICT Buyer Group\n    title: X\n"
        "    timezone: Europe/Atlantis\n    starts: '2030-01-01 10:00'\n"
        "    ends: '2030-01-01 11:00'\n", encoding="utf-8")
    with pytest.raises(SeedError, match="events entry 1: timezone: .Europe/Atlantis. is not"):
        load_seed(folder)
