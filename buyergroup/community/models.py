"""Follows, notifications, email preferences and the digest runs that send each period once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import LabelledEnum, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db

if TYPE_CHECKING:
    from buyergroup.accounts.models import User


class Frequency(LabelledEnum):
    immediately = "immediately"
    daily = "daily"
    weekly = "weekly"
    never = "never"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.immediately: _l("Immediately"),
            cls.daily: _l("Daily digest"),
            cls.weekly: _l("Weekly digest"),
            cls.never: _l("Never"),
        }


class Kind(LabelledEnum):
    """What a notification is about: each kind has its own email preference."""

    new_item = "new_item"  # published in a followed group, organisation, product group, theme
    item_update = "item_update"  # a new version or translation of a followed item
    comment = "comment"  # a comment on a followed item
    discussion = "discussion"  # a reply, an accepted answer, an @mention
    event = "event"  # an event of a followed series or group changed
    review = "review"  # organisers: an item waits for review
    join_request = "join_request"  # organisers: someone asked to join

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.new_item: _l("New items in what I follow"),
            cls.item_update: _l("New versions and translations of items I follow"),
            cls.comment: _l("Comments on items I follow"),
            cls.discussion: _l("Replies, accepted answers and mentions in discussions"),
            cls.event: _l("Changes to events I follow"),
            cls.review: _l("Items waiting for my review"),
            cls.join_request: _l("Requests to join"),
        }


#: What a member gets until they choose: what needs them at once comes at once, the rest
#: in a digest. Join requests already email organisers on their own (network, onboarding),
#: so their digest entry is a reminder, not a second immediate email.
DEFAULT_FREQUENCIES: dict[Kind, Frequency] = {
    Kind.new_item: Frequency.daily,
    Kind.item_update: Frequency.weekly,
    Kind.comment: Frequency.daily,
    Kind.discussion: Frequency.immediately,
    Kind.event: Frequency.daily,
    Kind.review: Frequency.immediately,
    Kind.join_request: Frequency.daily,
}

#: Kinds only organisers receive (the preferences page shows them to organisers only).
ORGANISER_KINDS = (Kind.review, Kind.join_request)


class Follow(db.Model):
    """A member follows a target (``targets`` registry: group, item, series, ...).

    ``target_key`` is the target's id as text, or its code (product groups and themes).
    ``automatic`` follows were made for the member (their own item, a group they joined, a
    series they registered for); removing one keeps the row with ``stopped_at`` set, so it
    is not made again behind their back.
    """

    __tablename__ = "community_follows"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_key"),
        Index("ix_community_follows_target", "target_type", "target_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    target_type: Mapped[str] = mapped_column(String(30), nullable=False)
    target_key: Mapped[str] = mapped_column(String(64), nullable=False)
    automatic: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None


class Notification(db.Model):
    """One thing one member is told about. The target decides, at display time too, whether
    the member may still see it; ``title`` is the target's label when it was made."""

    __tablename__ = "community_notifications"
    __table_args__ = (
        Index("ix_community_notifications_unread", "user_id", "read_at"),
        Index("ix_community_notifications_pending", "emailed_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[Kind] = mapped_column(string_enum(Kind, "notification_kind"), nullable=False)
    #: What happened, finer than the kind ("published", "version", "translation", "reply").
    event: Mapped[str] = mapped_column(String(30), nullable=False)
    target_type: Mapped[str] = mapped_column(String(30), nullable=False)
    target_key: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    detail: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: The working group it belongs to, for grouping digests (None: the whole network).
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set once it went out by email (immediately or in a digest), or was decided never to.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class NotificationPreference(db.Model):
    """A member's choice for one kind; no row means ``DEFAULT_FREQUENCIES``."""

    __tablename__ = "community_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[Kind] = mapped_column(string_enum(Kind, "notification_kind"), nullable=False)
    frequency: Mapped[Frequency] = mapped_column(
        string_enum(Frequency, "notification_frequency"), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class DigestRun(db.Model):
    """One digest sent to one member for one period: the unique key makes it once only.

    It is inserted in the same transaction as the digest's outbox row and the marks on its
    notifications, so two schedulers running at once send it once, and a run killed
    half-way has sent (and marked) exactly the members it committed.
    """

    __tablename__ = "community_digest_runs"
    __table_args__ = (UniqueConstraint("user_id", "frequency", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    frequency: Mapped[Frequency] = mapped_column(
        string_enum(Frequency, "notification_frequency"), nullable=False
    )
    period: Mapped[str] = mapped_column(String(20), nullable=False)  # 2026-12-01, 2026-W49
    notifications: Mapped[int] = mapped_column(default=0, nullable=False)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
