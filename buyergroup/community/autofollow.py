"""Automatic follows: members follow their own items (every author's, co-authors added
later too), the groups they join and the series of the events they register for, without
those domains knowing of follows.

An ORM hook (``after_flush``) sees new items, authors linked to a member account,
memberships that became active and registrations, and inserts the follow in the same
transaction with one INSERT ... SELECT that skips any follow row already there, including a
stopped one: a member who stopped following is not made to follow again.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    cast,
    event,
    exists,
    insert,
    inspect,
    literal,
    select,
)
from sqlalchemy.orm import Session

from buyergroup.community.models import Follow
from buyergroup.database import UTCDateTime, utcnow
from buyergroup.extensions import db

_INSTALLED = False


def _insert_missing(session: Session, rows) -> None:
    """Insert automatic follows for ``rows`` (a select of user_id, target_type, target_key)
    that have no follow row yet."""
    source = rows.subquery()
    already = exists().where(
        Follow.user_id == source.c.user_id,
        Follow.target_type == source.c.target_type,
        Follow.target_key == source.c.target_key,
    )
    session.execute(
        insert(Follow.__table__).from_select(
            ["user_id", "target_type", "target_key", "automatic", "created_at"],
            select(
                source.c.user_id, source.c.target_type, source.c.target_key,
                cast(literal(True), Boolean), literal(utcnow(), UTCDateTime()),
            ).where(~already),
        )
    )


def _pair(user_id: int, target_type: str, key) -> object:
    return select(
        cast(literal(user_id), Integer).label("user_id"),
        cast(literal(target_type), String).label("target_type"),
        cast(literal(key), String).label("target_key"),
    )


def ensure(user_id: int, target_type: str, key: str) -> None:
    """Follow automatically, unless a follow row (active or stopped) exists already."""
    _insert_missing(db.session, _pair(user_id, target_type, key))


def _changed_to(obj, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


def _after_flush(session: Session, flush_context) -> None:
    from buyergroup.events.models import Event, Registration, RegistrationState
    from buyergroup.library.models import ItemAuthor, LibraryItem
    from buyergroup.network.models import GroupMembership, MembershipState

    pending = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, LibraryItem) and obj in session.new and obj.created_by_id:
            pending.append(_pair(obj.created_by_id, "item", str(obj.id)))
        elif (
            isinstance(obj, ItemAuthor)
            and obj.user_id and obj.item_id
            and (obj in session.new or _changed_to(obj, "user_id"))
        ):
            # An author the moment they become one (named on a new item, or added to an
            # existing one); one who stopped following keeps their stopped row.
            pending.append(_pair(obj.user_id, "item", str(obj.item_id)))
        elif (
            isinstance(obj, GroupMembership)
            and obj.state is MembershipState.active
            and (obj in session.new or _changed_to(obj, "state"))
            and obj.user_id and obj.group_id
        ):
            pending.append(_pair(obj.user_id, "group", str(obj.group_id)))
        elif (
            isinstance(obj, Registration)
            and obj.state in (RegistrationState.registered, RegistrationState.waiting)
            and (obj in session.new or _changed_to(obj, "state"))
            and obj.user_id and obj.event_id
        ):
            pending.append(
                select(
                    cast(literal(obj.user_id), Integer).label("user_id"),
                    cast(literal("series"), String).label("target_type"),
                    cast(Event.series_id, String).label("target_key"),
                ).where(Event.id == obj.event_id, Event.series_id.is_not(None))
            )
    for rows in pending:
        _insert_missing(session, rows)


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "after_flush", _after_flush)
    _INSTALLED = True
