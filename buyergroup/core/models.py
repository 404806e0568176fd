"""The site's own state: what the page cache keys on."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from buyergroup.extensions import db


class ContentState(db.Model):
    """One row: the generation of what visitors can see, changed by every transaction that
    writes content (``core/page_cache.py``). Cached pages are kept per generation, so a
    publish, an edit or a hide makes every older page unreachable at its commit."""

    __tablename__ = "content_state"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
