"""Events of working groups: single events and numbered series, registrations with a waiting
list, agendas, materials and minutes, and the secret links of personal calendar feeds.

Times are stored in UTC (``UTCDateTime``); each event keeps its IANA time zone by name, so
that wall-clock times ("10:00 in Brussels") survive daylight-saving changes and can be
recomputed from local times.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import LabelledEnum, TimestampMixin, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db
from buyergroup.library.models import ExtractionState

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.library.models import LibraryItem
    from buyergroup.network.models import WorkingGroup


class EventKind(LabelledEnum):
    workshop = "workshop"
    webinar = "webinar"
    meeting = "meeting"
    conference = "conference"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.workshop: _l("Workshop"),
            cls.webinar: _l("Webinar"),
            cls.meeting: _l("Meeting"),
            cls.conference: _l("Conference"),
        }


class EventMode(LabelledEnum):
    """Where the event takes place."""

    online = "online"
    venue = "venue"

    @classmethod
    def _labels(cls) -> dict:
        return {cls.online: _l("Online"), cls.venue: _l("At a venue")}


class EventStatus(LabelledEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"

    @classmethod
    def _labels(cls) -> dict:
        return {cls.scheduled: _l("Scheduled"), cls.cancelled: _l("Cancelled")}


class RegistrationState(LabelledEnum):
    registered = "registered"  # has a seat
    waiting = "waiting"  # on the waiting list, first come first served
    cancelled = "cancelled"  # cancelled by the member or removed by an organiser

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.registered: _l("Registered"),
            cls.waiting: _l("On the waiting list"),
            # French and German say it differently of a registration than of an event.
            cls.cancelled: lazy_pgettext("registration", "Cancelled"),
        }


class MaterialVisibility(LabelledEnum):
    public = "public"  # everyone who can see the event
    members = "members"  # signed-in members
    participants = "participants"  # registered participants (and the organisers)

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.public: _l("Everyone, including visitors"),
            cls.members: _l("Members of Buyergroup"),
            cls.participants: _l("Registered participants only"),
        }


DEFAULT_REMINDER_MINUTES = (1440, 60)


def new_uid() -> str:
    return f"{uuid.uuid4()}@buyergroup"


class EventSeries(TimestampMixin, db.Model):
    """Numbered sessions of one working group ("Workshop {n}")."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True, default=new_uid, nullable=False)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title_pattern: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    group: Mapped[WorkingGroup] = relationship()
    events: Mapped[list[Event]] = relationship(
        back_populates="series", order_by="Event.series_number"
    )

    def title_for(self, number: int) -> str:
        return self.title_pattern.replace("{n}", str(number))

    @property
    def name(self) -> str:
        """The pattern without its number, for headings ("Workshop")."""
        name = re.sub(r"\s*\{n\}", "", self.title_pattern).strip(" .:-–")
        return " ".join(name.split()) or self.title_pattern


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("series_id", "series_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The iCalendar UID: stable for the life of the event, whichever feed carries it.
    uid: Mapped[str] = mapped_column(String(120), unique=True, default=new_uid, nullable=False)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), nullable=False, index=True
    )
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_series.id", ondelete="CASCADE"), index=True
    )
    series_number: Mapped[int | None] = mapped_column()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[EventKind] = mapped_column(string_enum(EventKind, "event_kind"), nullable=False)
    mode: Mapped[EventMode] = mapped_column(string_enum(EventMode, "event_mode"), nullable=False)
    # Shown to registered participants (and organisers) only.
    video_url: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    venue_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    venue_address: Mapped[str] = mapped_column(Text, default="", nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    capacity: Mapped[int | None] = mapped_column()  # None: no limit
    # How many registrations hold a seat. Seats are taken only by a conditional
    # ``UPDATE ... SET seats_taken = seats_taken + 1 WHERE seats_taken < capacity`` (the
    # registrations service), so that the database itself refuses a seat past the
    # capacity, on SQLite as on PostgreSQL.
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0", nullable=False)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Minutes before the start at which registered participants are reminded ("1440 60").
    reminder_minutes: Mapped[str] = mapped_column(String(60), default="1440 60", nullable=False)
    # Public events take registrations from every member; others from the group's members.
    is_public: Mapped[bool] = mapped_column(default=False, nullable=False)
    status: Mapped[EventStatus] = mapped_column(
        string_enum(EventStatus, "event_status"), default=EventStatus.scheduled, nullable=False
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancellation_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # iCalendar SEQUENCE: raised whenever what a calendar shows changes.
    sequence: Mapped[int] = mapped_column(default=0, nullable=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    group: Mapped[WorkingGroup] = relationship()
    series: Mapped[EventSeries | None] = relationship(back_populates="events")
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by=lambda: (AgendaItem.starts_at, AgendaItem.id),
    )
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )
    materials: Mapped[list[EventMaterial]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventMaterial.id"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.cancelled

    @property
    def is_past(self) -> bool:
        return self.ends_at <= utcnow()

    @property
    def has_started(self) -> bool:
        return self.starts_at <= utcnow()

    @property
    def reminder_offsets(self) -> list[int]:
        return sorted({int(m) for m in self.reminder_minutes.split() if m.isdigit()}, reverse=True)

    @reminder_offsets.setter
    def reminder_offsets(self, minutes) -> None:
        self.reminder_minutes = " ".join(str(m) for m in sorted(set(minutes), reverse=True))

    def registration_of(self, user: User | None) -> Registration | None:
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return next((r for r in self.registrations if r.user_id == user.id), None)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


agenda_library_items = Table(
    "event_agenda_library_items",
    db.metadata,
    Column(
        "agenda_item_id",
        Integer,
        ForeignKey("event_agenda_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "library_item_id",
        Integer,
        ForeignKey("library_items.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,  # an item page asks which agendas link it (the key starts with the other)
    ),
)


class AgendaItem(db.Model):
    __tablename__ = "event_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Moves with the event when its start changes (the service shifts it).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    speakers: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    event: Mapped[Event] = relationship(back_populates="agenda_items")
    library_items: Mapped[list[LibraryItem]] = relationship(
        secondary=agenda_library_items, order_by="LibraryItem.id"
    )
    materials: Mapped[list[EventMaterial]] = relationship(
        back_populates="agenda_item", order_by="EventMaterial.id"
    )

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.event.zone)


class Registration(TimestampMixin, db.Model):
    """One member at one event; the unique key refuses a second row under any race."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_event_registrations_queue", "event_id", "state", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    # None once anonymised (``anonymised_at``): the retention period after the event has
    # passed, and the row keeps only its state and attendance, for the counts.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[RegistrationState] = mapped_column(
        string_enum(RegistrationState, "registration_state"), nullable=False
    )
    # "Show my name on the participant list": other participants see only those who said
    # yes; the organisers see every registration they run.
    show_name: Mapped[bool] = mapped_column(
        default=False, server_default=sa_false(), nullable=False
    )
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the member (last) asked for a seat: the waiting list is served in this order.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attended: Mapped[bool | None] = mapped_column()
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Added to the event's SEQUENCE in the member's personal feed (a cancelled registration
    # must replace the copy their calendar already has).
    sequence: Mapped[int] = mapped_column(default=0, nullable=False)

    event: Mapped[Event] = relationship(back_populates="registrations")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def is_registered(self) -> bool:
        return self.state is RegistrationState.registered

    @property
    def is_waiting(self) -> bool:
        return self.state is RegistrationState.waiting


class EventMaterial(db.Model):
    """A file or a note (Markdown) for an event or one agenda item; minutes are notes or
    files marked as such, and posting them tells the participants."""

    __tablename__ = "event_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_agenda_items.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    is_minutes: Mapped[bool] = mapped_column(default=False, nullable=False)
    visibility: Mapped[MaterialVisibility] = mapped_column(
        string_enum(MaterialVisibility, "material_visibility"), nullable=False
    )
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    original_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column()
    # The file's text, read outside the request by the library's reader
    # (``events.extraction``) so that the site search finds minutes attached as files.
    # None: a note without a file, nothing to read.
    extraction_state: Mapped[ExtractionState | None] = mapped_column(
        string_enum(ExtractionState, "material_extraction_state", length=20)
    )
    extracted_text: Mapped[str] = mapped_column(
        Text, default="", server_default="", nullable=False
    )
    extraction_error: Mapped[str] = mapped_column(
        String(500), default="", server_default="", nullable=False
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    event: Mapped[Event] = relationship(back_populates="materials")
    agenda_item: Mapped[AgendaItem | None] = relationship(back_populates="materials")
    created_by: Mapped[User | None] = relationship()

    @property
    def has_file(self) -> bool:
        return self.stored_name is not None

    @property
    def text_unreadable(self) -> bool:
        """Its file's text could not be read, so the site search does not find it."""
        return self.extraction_state is ExtractionState.failed


class CalendarFeed(db.Model):
    """The secret link of a member's personal calendar feed; only its SHA-256 is stored."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
