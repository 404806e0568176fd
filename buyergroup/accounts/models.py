"""Members, their credentials and the single-use tokens that reach them by email."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import LabelledEnum, TimestampMixin, UTCDateTime, utcnow
from buyergroup.extensions import db

if TYPE_CHECKING:
    from buyergroup.network.models import GroupMembership, Organisation


class Role(LabelledEnum):
    """Site-wide roles. Each includes the permissions of the ones below it."""

    member = "member"
    organiser = "organiser"
    admin = "admin"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.member: _l("Member"),
            cls.organiser: _l("Organiser"),
            cls.admin: _l("Administrator"),
        }

    @property
    def rank(self) -> int:
        return {"member": 0, "organiser": 1, "admin": 2}[self.value]


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", native_enum=False, length=20),
        default=Role.member,
        nullable=False,
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    job_title: Mapped[str] = mapped_column(String(160), default="", nullable=False)
    country: Mapped[str | None] = mapped_column(String(2))
    bio: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Interface language; None means "follow the browser".
    locale: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels", nullable=False)
    is_active_account: Mapped[bool] = mapped_column(default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Privacy choices (buyergroup.privacy): other members see the email only when allowed;
    # someone not listed is left out of the directory and the member lists of groups and
    # organisations; the last one is the default of "Show my name on the participant
    # list" when registering (off: turning it off also hides every registration's name).
    email_visible: Mapped[bool] = mapped_column(
        default=False, server_default=sa_false(), nullable=False
    )
    listed_in_directory: Mapped[bool] = mapped_column(
        default=True, server_default=sa_true(), nullable=False
    )
    listed_on_participant_lists: Mapped[bool] = mapped_column(
        default=False, server_default=sa_false(), nullable=False
    )

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")
    language_links: Mapped[list[UserLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserLanguage.code"
    )
    expertise_links: Mapped[list[UserExpertise]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserExpertise.code"
    )
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="GroupMembership.user_id",
    )
    api_tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    #: The server-side session this object was loaded for or signed in with; set by
    #: ``accounts.sessions``, never stored on the row (a plain attribute, not a column).
    session_key = None

    def get_id(self) -> str:
        """Flask-Login's identity, kept in the session and the remember cookie.

        "<user id>:<session key>": the key names one row of ``user_sessions``, so ending
        that row ends this session and its remember cookie together (see accounts.sessions).
        """
        if not self.session_key:
            raise RuntimeError("Sign members in with accounts.sessions.sign_in(), not login_user()")
        return f"{self.id}:{self.session_key}"

    # UserMixin compares get_id(), which now names a session too: compare members by id,
    # as before (the hash stays object identity, as UserMixin's).
    def __eq__(self, other):
        if isinstance(other, User):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    # Flask-Login asks is_active; an admin can deactivate an account without deleting it.
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.is_active_account

    @property
    def languages(self) -> list[str]:
        return [link.code for link in self.language_links]

    @languages.setter
    def languages(self, codes: list[str]) -> None:
        _sync_codes(self.language_links, codes, UserLanguage)

    @property
    def expertise(self) -> list[str]:
        return [link.code for link in self.expertise_links]

    @expertise.setter
    def expertise(self, codes: list[str]) -> None:
        _sync_codes(self.expertise_links, codes, UserExpertise)

    def has_role(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def is_organiser(self) -> bool:
        return self.has_role(Role.organiser)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def _sync_codes(links: list, codes: list[str], link_class: type) -> None:
    wanted = list(dict.fromkeys(codes))
    for link in list(links):
        if link.code not in wanted:
            links.remove(link)
    present = {link.code for link in links}
    links.extend(link_class(code=code) for code in wanted if code not in present)


class UserLanguage(db.Model):
    __tablename__ = "user_languages"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(8), primary_key=True)


class UserExpertise(db.Model):
    __tablename__ = "user_expertise"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class UserSession(db.Model):
    """One signed-in browser: its session cookie and remember cookie both name this row.

    Only a hash of the key is stored; signing out, a password change or reset, a
    deactivation or "sign out everywhere" sets ``ended_at`` and the cookies stop working.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_agent: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class PasswordReset(db.Model):
    """A single-use, expiring password reset link; only a hash of its secret is kept."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class InvitationState(LabelledEnum):
    pending = "pending"
    accepted = "accepted"
    revoked = "revoked"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.pending: _l("Pending"),
            cls.accepted: _l("Accepted"),
            cls.revoked: _l("Revoked"),
        }


class Invitation(db.Model):
    """An invitation to create an account that belongs to an organisation."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL")
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="invitation_role", native_enum=False, length=20),
        default=Role.member,
        nullable=False,
    )
    locale: Mapped[str] = mapped_column(String(5), default="en", nullable=False)
    message: Mapped[str] = mapped_column(Text, default="", nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    state: Mapped[InvitationState] = mapped_column(
        Enum(InvitationState, name="invitation_state", native_enum=False, length=20),
        default=InvitationState.pending,
        nullable=False,
    )
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def is_usable(self) -> bool:
        return self.state is InvitationState.pending and self.expires_at > utcnow()


class TokenScope(LabelledEnum):
    """What a personal API token may do: ``write`` includes reading."""

    read = "read"
    write = "write"

    @classmethod
    def _labels(cls) -> dict:
        return {cls.read: _l("Read only"), cls.write: _l("Read and write")}


class ApiToken(db.Model):
    """A personal API token. The secret is shown once; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scope: Mapped[TokenScope] = mapped_column(
        Enum(TokenScope, name="token_scope", native_enum=False, length=10),
        default=TokenScope.write,
        server_default=TokenScope.write.value,
        nullable=False,
    )
    # None: the token works until it is revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="api_tokens")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @property
    def is_usable(self) -> bool:
        return self.is_active and not self.is_expired and self.user.is_active

    @property
    def can_write(self) -> bool:
        return self.scope is TokenScope.write
