"""Column types and helpers shared by every domain's models."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from buyergroup.extensions import db
from buyergroup.i18n import current_locale_name


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones and hands back naive values; comparing those with aware
    ``utcnow()`` raises. This stores UTC and always returns aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC datetime is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII, lowercase, hyphenated: "Ville de Liège" -> "ville-de-liege"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def string_enum(enum_class: type[enum.Enum], name: str, length: int = 30) -> Enum:
    """An enum column stored as a string, not a native enum type.

    Adding a value is then a plain code change on every backend (PostgreSQL's native enums
    need ALTER TYPE, SQLite has none).
    """
    return Enum(enum_class, name=name, native_enum=False, length=length)


_LABELS: dict[tuple[str, enum.Enum], str] = {}


class LabelledEnum(enum.Enum):
    """An enum whose members carry their translated label, kept beside the enum itself.

    A subclass defines ``_labels`` (a classmethod returning ``{member: lazy_gettext(...)}``);
    templates show ``member.label`` or ``member|label``. Each domain's labels then live in
    that domain's models, not in one table of every domain's values.
    """

    @classmethod
    def _labels(cls) -> dict:
        raise NotImplementedError(f"{cls.__name__} defines no labels")

    @property
    def label(self) -> str:
        # Asked dozens of times a page (facets, badges, selects), and each time the class
        # built its labels and the catalogue was asked again: kept per language and member
        # (the members are few, the catalogues fixed for the life of the process).
        key = (current_locale_name(), self)
        found = _LABELS.get(key)
        if found is None:
            found = _LABELS[key] = str(self._labels().get(self, self.value))
        return found

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs for a form's select, in definition order."""
        return [(member.value, member.label) for member in cls]



def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """On SQLite, every new connection gets WAL mode and a busy timeout.

    In SQLite's default rollback-journal mode a reader holding its shared lock makes a
    writer's commit wait, and a writer makes readers wait: under a few concurrent requests
    the losers answered "database is locked". With write-ahead logging readers read the last
    committed snapshot while one writer writes, so readers never block the writer nor it
    them; writers still take turns, and ``busy_timeout`` makes the next one wait its turn
    (up to ``busy_timeout_ms``) instead of failing at once. WAL is a property of the
    database file, set again on each connection (cheap, and it covers a file restored from
    a backup); an in-memory database has no WAL and keeps its own journal. A no-op on other
    engines, and when called twice for one engine.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_buyergroup_sqlite", False):
        return
    timeout = max(0, int(busy_timeout_ms))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout}")
            database_file = cursor.execute("PRAGMA database_list").fetchone()[2]
            if database_file:  # "" for an in-memory or temporary database
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    engine._buyergroup_sqlite = True  # type: ignore[attr-defined]


# --- Answers kept for the rest of a transaction's reading ----------------------------------

_KEPT = "buyergroup.kept_until_flush"


def kept_until_flush(key: tuple, compute):
    """``compute()``'s answer, asked once per transaction until something is flushed.

    For the read-only questions a page asks several times (a member's groups, whether they
    may sign for their organisation): kept in the session's ``info`` and forgotten at the
    next flush, commit or rollback, so a change made in this transaction is seen at once."""
    kept = db.session().info.setdefault(_KEPT, {})
    if key not in kept:
        kept[key] = compute()
    return kept[key]


def keep_until_flush(key: tuple, value) -> None:
    """Give ``kept_until_flush`` an answer learnt another way (with the account, say)."""
    db.session().info.setdefault(_KEPT, {})[key] = value


def _forget_kept(session, *args) -> None:
    session.info.pop(_KEPT, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget_kept)
