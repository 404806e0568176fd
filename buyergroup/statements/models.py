"""Joint action statements of a working group, their signatures, and their roadmaps.

A statement is drafted in versions (Markdown), then opened for signature: organisations
sign it through a member their organisation authorised (``SigningAuthority``), with the
date. Its roadmap lists actions with an owning organisation, a due date and a status.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import LabelledEnum, TimestampMixin, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.network.models import Organisation, WorkingGroup


class StatementState(LabelledEnum):
    draft = "draft"
    open = "open"  # open for signature
    closed = "closed"  # signatures no longer taken; the text and signatories stay public

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.draft: _l("Draft"),
            cls.open: _l("Open for signature"),
            cls.closed: _l("Closed for signature"),
        }


class ActionStatus(LabelledEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.planned: _l("Planned"),
            cls.in_progress: _l("In progress"),
            cls.done: _l("Done"),
        }


class Statement(TimestampMixin, db.Model):
    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The seed's key (or any stable name): loading the seed twice creates nothing twice.
    key: Mapped[str | None] = mapped_column(String(80), unique=True)
    state: Mapped[StatementState] = mapped_column(
        string_enum(StatementState, "statement_state"), default=StatementState.draft,
        nullable=False,
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[WorkingGroup] = relationship()
    versions: Mapped[list[StatementVersion]] = relationship(
        back_populates="statement", cascade="all, delete-orphan",
        order_by="StatementVersion.number",
    )
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="statement", cascade="all, delete-orphan",
        order_by="(Signature.signed_on, Signature.id)",
    )
    actions: Mapped[list[RoadmapAction]] = relationship(
        back_populates="statement", cascade="all, delete-orphan",
        order_by="(RoadmapAction.position, RoadmapAction.id)",
    )

    @property
    def current(self) -> StatementVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def title(self) -> str:
        return self.current.title if self.current else ""

    @property
    def is_public(self) -> bool:
        return self.state is not StatementState.draft

    def signature_of(self, organisation_id: int | None) -> Signature | None:
        return next((s for s in self.signatures if s.organisation_id == organisation_id), None)

    @property
    def progress(self) -> int:
        """Per cent of the roadmap's actions done (an action in progress counts half)."""
        if not self.actions:
            return 0
        weight = {ActionStatus.done: 2, ActionStatus.in_progress: 1, ActionStatus.planned: 0}
        return round(100 * sum(weight[a.status] for a in self.actions) / (2 * len(self.actions)))


class StatementVersion(db.Model):
    __tablename__ = "statement_versions"
    __table_args__ = (UniqueConstraint("statement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    statement: Mapped[Statement] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()


class SigningAuthority(db.Model):
    """A member whom their organisation authorised to sign statements on its behalf (recorded
    by a site organiser or an administrator, who keep the organisations)."""

    __tablename__ = "statement_signing_authorities"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Signature(db.Model):
    """One organisation's signature of one statement (the database refuses a second)."""

    __tablename__ = "statement_signatures"
    __table_args__ = (UniqueConstraint("statement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), nullable=False, index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who signed, as the signature names them ("the federal Minister for Climate"): kept
    # when the account is gone, and for signatures recorded from before the site existed.
    signatory: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    version_number: Mapped[int] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    statement: Mapped[Statement] = relationship(back_populates="signatures")
    # Every list of signatures names their organisations: joined, not one lookup each.
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    signed_by: Mapped[User | None] = relationship()


class RoadmapAction(TimestampMixin, db.Model):
    __tablename__ = "statement_roadmap_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        string_enum(ActionStatus, "roadmap_action_status"), default=ActionStatus.planned,
        nullable=False,
    )
    position: Mapped[int] = mapped_column(default=0, nullable=False)

    statement: Mapped[Statement] = relationship(back_populates="actions")
    organisation: Mapped[Organisation | None] = relationship()
