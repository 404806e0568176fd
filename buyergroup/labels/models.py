"""The labels register: labels, their generations (criteria editions), and who cites them.

A label (TCO Certified, EPEAT, ...) has generations with a publication date and a status;
criteria cite generations, not free text, so that when an organiser marks a generation
superseded or withdrawn the scheduler can flag every criterion that still cites it.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import LabelledEnum, TimestampMixin, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db
from buyergroup.library.models import LabelScope

if TYPE_CHECKING:
    from buyergroup.library.models import LibraryItem

_enum = partial(string_enum, length=40)


class GenerationStatus(LabelledEnum):
    current = "current"
    superseded = "superseded"
    withdrawn = "withdrawn"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.current: _l("Current"),
            cls.superseded: _l("Superseded"),
            cls.withdrawn: _l("Withdrawn"),
        }


class Label(TimestampMixin, db.Model):
    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    issuer: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    scope: Mapped[LabelScope | None] = mapped_column(_enum(LabelScope, "label_scope"))
    # Product group codes (buyergroup.vocabulary.PRODUCT_GROUPS), space separated.
    product_groups_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    url: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    generations: Mapped[list[LabelGeneration]] = relationship(
        back_populates="label", cascade="all, delete-orphan",
        order_by="LabelGeneration.published_on.desc()",
    )

    @property
    def product_groups(self) -> list[str]:
        return self.product_groups_text.split()

    @property
    def current_generation(self) -> LabelGeneration | None:
        return next((g for g in self.generations if g.status is GenerationStatus.current), None)


class LabelGeneration(db.Model):
    """A generation or criteria edition of a label: "generation 10 (2024)"."""

    __tablename__ = "label_generations"
    __table_args__ = (UniqueConstraint("label_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    label_id: Mapped[int] = mapped_column(
        ForeignKey("labels.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    published_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GenerationStatus] = mapped_column(
        _enum(GenerationStatus, "generation_status"), default=GenerationStatus.current,
        nullable=False,
    )
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    url: Mapped[str] = mapped_column(String(500), default="", nullable=False)

    label: Mapped[Label] = relationship(back_populates="generations")

    @property
    def title(self) -> str:
        return f"{self.label.name} {self.name}"


class LabelCitation(db.Model):
    """A library item (criterion or clause) cites a label generation."""

    __tablename__ = "label_citations"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), primary_key=True
    )
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("label_generations.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    item: Mapped[LibraryItem] = relationship()
    generation: Mapped[LabelGeneration] = relationship()


class StaleLabelFlag(db.Model):
    """Set by the stale-label job: the item cites a generation that is no longer current.

    One row per (item, generation); the authors were told once (``notified_at``). Fixing
    the citation removes the row.
    """

    __tablename__ = "label_stale_flags"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), primary_key=True
    )
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("label_generations.id", ondelete="CASCADE"), primary_key=True
    )
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item: Mapped[LibraryItem] = relationship()
    generation: Mapped[LabelGeneration] = relationship()
