"""The durable queue of pending search-index updates.

A row is written in the same transaction as the change it reflects, so a rollback leaves
no ghost entry and a crash loses nothing: whatever is queued is applied after commit, at the
next scheduler tick, or at the next start.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from buyergroup.database import UTCDateTime, utcnow
from buyergroup.extensions import db


class PendingIndexUpdate(db.Model):
    __tablename__ = "search_pending_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What to bring up to date, e.g. "library_item:42"; the index is made to match the
    # database row as it is when the update is applied (deleted or hidden -> removed).
    document_ref: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    attempts: Mapped[int] = mapped_column(default=0, nullable=False)
    last_error: Mapped[str] = mapped_column(String(500), default="", nullable=False)
