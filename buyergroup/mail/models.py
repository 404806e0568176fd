"""The outbox: every email is first a row written in the transaction that causes it.

A sender *claims* one row at a time (``claimed_by`` and ``lease_until``, set by one
conditional UPDATE), sends it, and marks it sent in its own short transaction before it
claims the next, so any number of senders (the scheduler, the request hand-over, a cron
``flask mail deliver``) never send one row twice. A sender killed mid-message leaves its
claim behind; the lease then expires and another sender takes the row.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from buyergroup.database import UTCDateTime, utcnow
from buyergroup.extensions import db


class OutboxState(enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # set aside after repeated failure; ``last_error`` says why


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optional idempotency key: the same key is never queued twice (e.g. one reminder).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    # JSON list of {"filename", "content_type", "data" (base64)}.
    attachments_json: Mapped[str | None] = mapped_column(Text)
    # An HTML alternative to ``body_text``, and extra headers as a JSON object
    # (List-Unsubscribe for notification mail); both optional.
    body_html: Mapped[str | None] = mapped_column(Text)
    headers_json: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(5), default="en", nullable=False)
    state: Mapped[OutboxState] = mapped_column(
        Enum(OutboxState, name="outbox_state", native_enum=False, length=20),
        default=OutboxState.pending,
        nullable=False,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_error: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # The sender that claimed the row last ("host:pid:nonce"), kept after sending for the
    # record; the claim itself holds only while ``lease_until`` is set and in the future.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
