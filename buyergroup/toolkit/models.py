"""The tender toolkit: baskets of criteria and clauses, and where clauses were used.

A basket is one member's selection for a tender ("Laptops 2027 – framework agreement"):
library items in procurement order, each with a note and, for clauses with national legal
variants, the variant to use. Baskets are private unless their owner shares them with the
members of their organisation or of one working group (to read, or also to change).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import LabelledEnum, TimestampMixin, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db
from buyergroup.library.models import Phase

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.library.models import LibraryItem
    from buyergroup.network.models import Organisation, WorkingGroup

_enum = partial(string_enum, length=20)

NAME_MAX = 120
NOTE_MAX = 2000
OUTPUT_LANGUAGES = ("en", "nl", "fr", "de")

# Procurement order: the order of a tender's documents, and of a basket's sections.
PHASE_ORDER: tuple[Phase, ...] = (
    Phase.exclusion,
    Phase.selection,
    Phase.technical_specification,
    Phase.award_criterion,
    Phase.contract_performance_clause,
)


class BasketShare(LabelledEnum):
    private = "private"
    organisation = "organisation"  # the members of the owner's organisation
    group = "group"  # the members of one working group

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.private: _l("Only me"),
            cls.organisation: _l("The members of my organisation"),
            cls.group: _l("The members of one working group"),
        }


class Basket(TimestampMixin, db.Model):
    __tablename__ = "toolkit_baskets"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="en", nullable=False)
    share: Mapped[BasketShare] = mapped_column(
        _enum(BasketShare, "basket_share"), default=BasketShare.private, nullable=False
    )
    # Who it is shared with: the owner's organisation when it was shared, or one group.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    shared_editable: Mapped[bool] = mapped_column(default=False, nullable=False)

    owner: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    group: Mapped[WorkingGroup | None] = relationship()
    entries: Mapped[list[BasketEntry]] = relationship(
        back_populates="basket", cascade="all, delete-orphan",
        order_by="(BasketEntry.position, BasketEntry.id)",
    )

    def __repr__(self) -> str:
        return f"<Basket {self.id} {self.name!r}>"


class BasketEntry(db.Model):
    """One library item in a basket, with the member's note and chosen legal variant."""

    __tablename__ = "toolkit_basket_entries"
    __table_args__ = (UniqueConstraint("basket_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    basket_id: Mapped[int] = mapped_column(
        ForeignKey("toolkit_baskets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Order within the item's phase (the phase itself comes from the item).
    position: Mapped[int] = mapped_column(default=0, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_items.id", ondelete="SET NULL")
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    basket: Mapped[Basket] = relationship(back_populates="entries")
    item: Mapped[LibraryItem] = relationship(foreign_keys=[item_id])
    variant: Mapped[LibraryItem | None] = relationship(foreign_keys=[variant_id])


class UseOutcome(LabelledEnum):
    awarded = "awarded"
    no_bids = "no_bids"
    cancelled = "cancelled"
    ongoing = "ongoing"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.awarded: _l("Awarded"),
            cls.no_bids: _l("No suitable bids"),
            cls.cancelled: _l("Cancelled"),
            cls.ongoing: _l("Still running"),
        }


class ClauseUse(db.Model):
    """"Used in a tender": one member's record that a library item went into a tender."""

    __tablename__ = "toolkit_clause_uses"
    __table_args__ = (
        CheckConstraint("bids_received IS NULL OR bids_received >= 0", name="bids_not_negative"),
        Index("ix_toolkit_clause_uses_item_hidden", "item_id", "hidden_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    contracting_authority: Mapped[str] = mapped_column(String(200), nullable=False)
    tender_title: Mapped[str] = mapped_column(String(300), nullable=False)
    reference: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    used_on: Mapped[date] = mapped_column(Date, nullable=False)
    lots: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    product_group: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    bids_received: Mapped[int | None] = mapped_column()
    outcome: Mapped[UseOutcome | None] = mapped_column(_enum(UseOutcome, "use_outcome"))
    lessons: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    item: Mapped[LibraryItem] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None
