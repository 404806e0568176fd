"""Organisations, their affiliations, working groups and who belongs to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.accounts.permissions import is_signed_in
from buyergroup.database import (
    LabelledEnum,
    TimestampMixin,
    UTCDateTime,
    string_enum,
    utcnow,
)
from buyergroup.extensions import db

if TYPE_CHECKING:
    from buyergroup.accounts.models import User



class OrganisationKind(LabelledEnum):
    federal_authority = "federal_authority"
    regional_authority = "regional_authority"
    local_authority = "local_authority"
    central_purchasing_body = "central_purchasing_body"
    university = "university"
    ngo = "ngo"
    monitoring_organisation = "monitoring_organisation"
    other = "other"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.federal_authority: _l("Federal authority"),
            cls.regional_authority: _l("Regional authority"),
            cls.local_authority: _l("Local authority"),
            cls.central_purchasing_body: _l("Central purchasing body"),
            cls.university: _l("University"),
            cls.ngo: _l("NGO"),
            cls.monitoring_organisation: _l("Monitoring organisation"),
            cls.other: _l("Other"),
        }


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(90), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    short_name: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    kind: Mapped[OrganisationKind] = mapped_column(
        string_enum(OrganisationKind, "organisation_kind"), nullable=False
    )
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    is_public: Mapped[bool] = mapped_column(default=True, nullable=False)

    members: Mapped[list[User]] = relationship(back_populates="organisation")
    affiliations: Mapped[list[Affiliation]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="Affiliation.since",
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Affiliation(db.Model):
    """Membership of a network or programme, e.g. "Electronics Watch affiliate since 2020-03"."""

    __tablename__ = "affiliations"
    __table_args__ = (UniqueConstraint("organisation_id", "name", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    organisation: Mapped[Organisation] = relationship(back_populates="affiliations")


class JoinPolicy(LabelledEnum):
    open = "open"
    approval = "approval"

    @classmethod
    def _labels(cls) -> dict:
        return {cls.open: _l("Open to all members"), cls.approval: _l("Joining needs approval")}


class GroupRole(LabelledEnum):
    organiser = "organiser"
    member = "member"

    @classmethod
    def _labels(cls) -> dict:
        return {cls.organiser: _l("Organiser"), cls.member: _l("Member")}


class MembershipState(LabelledEnum):
    pending = "pending"  # asked to join a group whose joining needs approval
    active = "active"

    @classmethod
    def _labels(cls) -> dict:
        return {cls.pending: _l("Pending"), cls.active: _l("Active")}


class WorkingGroup(TimestampMixin, db.Model):
    __tablename__ = "working_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(90), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    summary: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Working languages as space-separated codes ("en fr"): a short, display-only list.
    language_codes: Mapped[str] = mapped_column(String(60), default="en", nullable=False)
    join_policy: Mapped[JoinPolicy] = mapped_column(
        string_enum(JoinPolicy, "join_policy"), default=JoinPolicy.approval, nullable=False
    )
    is_public: Mapped[bool] = mapped_column(default=True, nullable=False)
    founded_on: Mapped[date | None] = mapped_column(Date)
    host_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )

    host_organisation: Mapped[Organisation | None] = relationship()
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    @property
    def languages(self) -> list[str]:
        return self.language_codes.split()

    @languages.setter
    def languages(self, codes: list[str]) -> None:
        self.language_codes = " ".join(dict.fromkeys(codes))

    @property
    def active_memberships(self) -> list[GroupMembership]:
        return [m for m in self.memberships if m.state is MembershipState.active]

    @property
    def listed_member_count(self) -> int:
        """Active members who chose to appear in member lists: the count shown to anyone
        who is not an organiser, so it never tells that someone unlisted is there."""
        return sum(1 for m in self.active_memberships if m.user.listed_in_directory)

    @property
    def pending_memberships(self) -> list[GroupMembership]:
        return [m for m in self.memberships if m.state is MembershipState.pending]

    @property
    def organisers(self) -> list[User]:
        return [m.user for m in self.active_memberships if m.role is GroupRole.organiser]

    def membership_of(self, user: User | None) -> GroupMembership | None:
        if not is_signed_in(user):
            return None
        return next((m for m in self.memberships if m.user_id == user.id), None)

    def __repr__(self) -> str:
        return f"<WorkingGroup {self.slug}>"


class GroupMembership(db.Model):
    """One member in one group; the unique key lets the database refuse a duplicate join."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[GroupRole] = mapped_column(
        string_enum(GroupRole, "group_role"), default=GroupRole.member, nullable=False
    )
    state: Mapped[MembershipState] = mapped_column(
        string_enum(MembershipState, "membership_state"),
        default=MembershipState.active,
        nullable=False,
    )
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    group: Mapped[WorkingGroup] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])

    @property
    def is_active(self) -> bool:
        return self.state is MembershipState.active


class RequestState(LabelledEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.pending: _l("Pending"),
            cls.approved: _l("Approved"),
            cls.declined: _l("Declined"),
        }


class JoinRequest(TimestampMixin, db.Model):
    """A visitor's request to join the network; an organiser approves (invites) or declines."""

    __tablename__ = "join_requests"
    # One pending request per address, refused by the database itself (a double submit).
    __table_args__ = (
        Index(
            "uq_join_requests_pending_email",
            "email",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    organisation_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    job_title: Mapped[str] = mapped_column(String(160), default="", nullable=False)
    country: Mapped[str | None] = mapped_column(String(2))
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    locale: Mapped[str] = mapped_column(String(5), default="en", nullable=False)
    state: Mapped[RequestState] = mapped_column(
        string_enum(RequestState, "request_state"), default=RequestState.pending, nullable=False
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    organisation: Mapped[Organisation | None] = relationship()
    decided_by: Mapped[User | None] = relationship()
