"""Follows, notifications and preferences. Functions flush, never commit.

Visibility is decided twice: when a notification is made (``notify`` tells only members who
may see the target) and when it is shown or counted (``visible_clause`` in SQL for the
header count and the list, then each target's own ``can_view`` for what is displayed), so
an item that became hidden leaves the list and the count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, case, cast, func, or_, select, update

from buyergroup.accounts.models import Role, User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.sessions import Companion, load_with_member
from buyergroup.community import permissions, targets
from buyergroup.community.models import (
    DEFAULT_FREQUENCIES,
    ORGANISER_KINDS,
    Follow,
    Frequency,
    Kind,
    Notification,
    NotificationPreference,
)
from buyergroup.database import keep_until_flush, kept_until_flush, utcnow
from buyergroup.errors import NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library.service import ItemCompanion, load_with_item

# --- Follows --------------------------------------------------------------------------------


def follow(user: User, target_type: str, key: str) -> Follow:
    """Follow a target ``user`` may see (404 otherwise); following twice changes nothing."""
    target = targets.load_visible(user, target_type, key)
    if not permissions.can_follow(user, target_type, target):
        raise NotFound()
    key = targets.get_type(target_type).key_of(target)
    row = db.session.scalar(
        select(Follow).where(
            Follow.user_id == user.id, Follow.target_type == target_type,
            Follow.target_key == key,
        )
    )
    if row is None:
        row = Follow(user_id=user.id, target_type=target_type, target_key=key)
        db.session.add(row)
    elif row.stopped_at is not None:
        row.stopped_at = None
        row.automatic = False
        row.created_at = utcnow()
    db.session.flush()
    return row


#: Ids beyond this fit no integer column on any backend: no such row (not a 500).
MAX_ID = 2**31 - 1


def get_follow(user: User, follow_id: int) -> Follow:
    row = db.session.get(Follow, follow_id) if 0 < follow_id <= MAX_ID else None
    if not permissions.owns(user, row) or not row.is_active:
        raise NotFound()
    return row


def unfollow(user: User, row: Follow) -> None:
    """Stop following. The row stays (stopped), so an automatic follow is not made again."""
    if not permissions.owns(user, row):
        raise NotFound()
    row.stopped_at = utcnow()
    db.session.flush()


def unfollow_target(user: User, target_type: str, key: str) -> None:
    row = following(user, target_type, key)
    if row is None:
        raise NotFound()
    unfollow(user, row)


def following(user: User | None, target_type: str, key: str) -> Follow | None:
    """``user``'s active follow of the target (one query), for a page's Follow button."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Follow).where(
            Follow.user_id == user.id, Follow.target_type == target_type,
            Follow.target_key == str(key), Follow.stopped_at.is_(None),
        )
    )


def is_following(user: User | None, target_type: str, key: str) -> bool:
    """Whether ``user`` follows the target, for a page's Follow button: kept until the next
    flush, so that an answer that came another way (the item page's, with the item) is
    not asked again."""
    if not is_signed_in(user):
        return False
    return kept_until_flush(("following", user.id, target_type, str(key)),
                            lambda: following(user, target_type, key) is not None)


def _follows_item_column(item_id, user_id):
    """The item page's Follow button as a column beside the item (``user_id`` NULL for a
    visitor: no row, so false)."""
    return (
        select(Follow.id)
        .where(Follow.user_id == user_id, Follow.target_type == "item",
               Follow.target_key == cast(item_id, targets.KEY_TYPE),
               Follow.stopped_at.is_(None))
        .exists()
    )


def _keep_item_follow_state(item, user: User | None, follows) -> None:
    if is_signed_in(user):
        keep_until_flush(("following", user.id, "item", str(item.id)), bool(follows))


# The item page shows its Follow button: its state comes with the item (one statement less).
load_with_item(ItemCompanion(column=_follows_item_column, receive=_keep_item_follow_state))


@dataclass(frozen=True)
class FollowEntry:
    follow: Follow
    target: object
    label: str
    path: str


def follows_of(user: User) -> list[FollowEntry]:
    """``user``'s follows whose targets they may still see, by type then label."""
    rows = db.session.scalars(
        select(Follow)
        .where(Follow.user_id == user.id, Follow.stopped_at.is_(None))
        .order_by(Follow.target_type, Follow.created_at)
    ).all()
    found = targets.resolve((r.target_type, r.target_key) for r in rows)
    entries = []
    for row in rows:
        target = found.get((row.target_type, row.target_key))
        if target is None or not permissions.can_be_told(user, row.target_type, target):
            continue
        kind = targets.get_type(row.target_type)
        entries.append(FollowEntry(row, target, kind.label(target),
                                   targets.path_for(row.target_type, target)))
    return entries


def follower_ids(pairs: Iterable[tuple[str, str]]) -> set[int]:
    """Who actively follows any of the (type, key) targets (one query)."""
    conditions = [
        and_(Follow.target_type == name, Follow.target_key == str(key)) for name, key in pairs
    ]
    if not conditions:
        return set()
    return set(
        db.session.scalars(
            select(Follow.user_id).where(Follow.stopped_at.is_(None), or_(*conditions))
        )
    )


# --- Preferences ----------------------------------------------------------------------------


def preferences_of(user: User) -> dict[Kind, Frequency]:
    chosen = {
        p.kind: p.frequency
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {kind: chosen.get(kind, DEFAULT_FREQUENCIES[kind]) for kind in Kind}


def frequencies_for(user_ids: Iterable[int], kind: Kind) -> dict[int, Frequency]:
    """Each member's frequency for ``kind`` (one query for all of them)."""
    ids = list(set(user_ids))
    result = {user_id: DEFAULT_FREQUENCIES[kind] for user_id in ids}
    if ids:
        for user_id, frequency in db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.frequency).where(
                NotificationPreference.user_id.in_(ids), NotificationPreference.kind == kind
            )
        ):
            result[user_id] = frequency
    return result


def parse_preferences(raw: dict) -> dict[Kind, Frequency]:
    """{"new_item": "daily", ...} to enums; each bad name or value is a field error."""
    if not isinstance(raw, dict):
        raise ValidationFailed(_("Send the preferences as an object of kind: frequency."))
    parsed: dict[Kind, Frequency] = {}
    for name, value in raw.items():
        try:
            kind = Kind(name)
        except ValueError:
            raise ValidationFailed(_("There is no such kind of notification."),
                                   field=str(name)) from None
        try:
            parsed[kind] = Frequency(value)
        except (ValueError, TypeError):
            raise ValidationFailed(
                _("Choose immediately, daily, weekly or never."), field=kind.value
            ) from None
    return parsed


def set_preferences(user: User, choices: dict[Kind, Frequency]) -> dict[Kind, Frequency]:
    """Store the member's choices (only what differs from the default needs a row)."""
    existing = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind, frequency in choices.items():
        row = existing.get(kind)
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind,
                                                  frequency=frequency))
        else:
            row.frequency = frequency
    db.session.flush()
    return preferences_of(user)


def visible_kinds(user: User) -> list[Kind]:
    """The kinds a member's preferences page offers (organisers' kinds to organisers)."""
    organiser = permissions.receives_organiser_kinds(user)
    return [k for k in Kind if organiser or k not in ORGANISER_KINDS]


# --- Making notifications ---------------------------------------------------------------------


_WITHOUT_EMAIL: ContextVar[bool] = ContextVar("community_without_email", default=False)


@contextmanager
def without_email() -> Iterator[None]:
    """Notifications made inside are shown (in the centre, the badge, the home page) but
    never emailed, neither at once nor in a digest: for the demo seed, whose members are
    fictional and whose activity happened only on paper."""
    token = _WITHOUT_EMAIL.set(True)
    try:
        yield
    finally:
        _WITHOUT_EMAIL.reset(token)


def notify(
    recipient_ids: Iterable[int],
    kind: Kind,
    event: str,
    target_type: str,
    target,
    *,
    actor: User | None = None,
    detail: str = "",
) -> list[Notification]:
    """Tell each recipient who may see ``target`` (never the actor), and email those who
    chose "immediately". Returns the notifications made."""
    ids = set(recipient_ids)
    if actor is not None:
        ids.discard(actor.id)
    if not ids:
        return []
    target_kind = targets.get_type(target_type)
    key = target_kind.key_of(target)
    title = str(target_kind.label(target))[:300]
    group_id = target_kind.group_of(target)
    users = db.session.scalars(
        select(User).where(User.id.in_(ids), User.is_active_account.is_(True))
    ).all()
    frequencies = frequencies_for([u.id for u in users], kind)
    made = []
    now = utcnow()
    for user in users:
        if not permissions.can_be_told(user, target_type, target):
            continue
        notification = Notification(
            user_id=user.id, kind=kind, event=event, target_type=target_type,
            target_key=key, title=title, detail=detail[:2000], group_id=group_id,
            actor_id=actor.id if actor is not None else None, created_at=now,
        )
        frequency = frequencies[user.id]
        if frequency is Frequency.never or _WITHOUT_EMAIL.get():
            frequency = Frequency.never
            notification.emailed_at = now  # nothing will go out for it
        db.session.add(notification)
        made.append((notification, user, frequency))
    db.session.flush()
    for notification, user, frequency in made:
        if frequency is Frequency.immediately:
            from buyergroup.community.digests import email_now

            email_now(user, notification, target)
    return [n for n, _u, _f in made]


# --- Showing notifications ----------------------------------------------------------------------


def visible_clause(user: User, viewer_id=None):
    """SQL: the notifications whose target ``user`` may still see (types that can say so).

    ``viewer_id`` stands for ``user.id`` in the SQL (a bind parameter, for a statement that
    is built once and run for many members of ``user``'s role)."""
    viewer_id = user.id if viewer_id is None else viewer_id
    conditions = []
    for target_type in targets.types():
        if target_type.visible_keys is None:
            continue
        keys = target_type.visible_keys(user, viewer_id)
        if keys is None:
            continue
        conditions.append(
            or_(Notification.target_type != target_type.name, Notification.target_key.in_(keys))
        )
    return and_(*conditions) if conditions else True


# The header's count, one statement per site role (and registry of target types), run with
# the member's id as its parameter: building it took 1.7 ms of every signed-in page, running
# the built one 0.3 ms (SQLAlchemy keeps a statement's cache key once worked out).
_UNREAD_COUNTS: dict[tuple, object] = {}


def _unread(user: User, viewer_id):
    return select(func.count(Notification.id)).where(
        Notification.user_id == viewer_id, Notification.read_at.is_(None),
        visible_clause(user, viewer_id),
    )


def unread_count(user: User) -> int:
    """The header's badge: one query, whatever the number of notifications and kinds."""
    key = (user.role, targets.generation())
    statement = _UNREAD_COUNTS.get(key)
    if statement is None:
        viewer_id = bindparam("viewer_id", type_=Notification.user_id.type)
        statement = _UNREAD_COUNTS[key] = _unread(user, viewer_id)
    return db.session.scalar(statement, {"viewer_id": user.id}) or 0


def kept_unread_count(user: User) -> int:
    """The header's badge, asked once per transaction until the next flush (a request that
    marks notifications read sees the new count); on most pages it came with the account."""
    return kept_until_flush(("unread_count", user.id), lambda: unread_count(user))


def _unread_column(user_id):
    """The badge as a column beside the account in the session loader: the count of the
    member's role (what they may see depends on it), chosen in SQL by the account's role.
    Each role's count is built for an unsaved stand-in of that role: ``visible_clause``
    reads a member's role in Python and their id only as ``user_id`` in the SQL."""
    return case(
        *((User.role == role, _unread(User(role=role), user_id).scalar_subquery())
          for role in Role),
        else_=0,
    )


def _keep_loaded_count(user: User, count) -> None:
    keep_until_flush(("unread_count", user.id), count or 0)


# Every signed-in page shows the badge: it comes with the account (one statement less).
load_with_member(Companion(column=_unread_column, receive=_keep_loaded_count,
                           version=targets.generation))


@dataclass(frozen=True)
class Entry:
    notification: Notification
    target: object
    message: str
    path: str


_MESSAGES = {
    "published": lambda t, d: _("New in the library: %(title)s", title=t),
    "version": lambda t, d: _("New version of %(title)s", title=t),
    "translation": lambda t, d: _("New translation of %(title)s (%(language)s)", title=t,
                                  language=d),
    "comment": lambda t, d: _("New comment on %(title)s", title=t),
    "submitted": lambda t, d: _("Waiting for review: %(title)s", title=t),
    "group_join": lambda t, d: _("%(name)s asked to join %(group)s", name=d, group=t),
    "network_join": lambda t, d: _("%(name)s asked to join Buyergroup", name=t),
    "updated": lambda t, d: _("Changed: %(title)s", title=t),
    "cancelled": lambda t, d: _("Cancelled: %(title)s", title=t),
    "materials": lambda t, d: _("New materials for %(title)s", title=t),
    "question": lambda t, d: _("New question: %(title)s", title=t),
    "reply": lambda t, d: _("New reply in %(title)s", title=t),
    "mention": lambda t, d: _("You were mentioned in %(title)s", title=t),
    "accepted": lambda t, d: _("An answer was accepted in %(title)s", title=t),
}


def describe(notification: Notification) -> str:
    """The notification as one translated sentence, in the reader's language."""
    message = _MESSAGES.get(notification.event)
    if message is None:
        return notification.title
    return message(notification.title, notification.detail)


def entries(rows: list[Notification], user: User, *, cache: dict | None = None) -> list[Entry]:
    """Rows with their targets (one query per type), leaving out what ``user`` may not see.

    ``cache`` ({(type, key): target}) is shared by a caller that lists for many readers."""
    found = targets.resolve(((n.target_type, n.target_key) for n in rows), cache=cache)
    result = []
    for row in rows:
        target = found.get((row.target_type, row.target_key))
        if target is None or not permissions.can_be_told(user, row.target_type, target):
            continue
        result.append(Entry(row, target, describe(row), targets.path_for(row.target_type,
                                                                          target)))
    return result


# The notification lists' statements, built once per site role (and registry of target
# types) like the header's count: building one took 0.9 ms of a member's home page and
# notifications page, and running it 1.8 ms instead of 0.5 ms.
_NOTIFICATION_LISTS: dict[tuple, object] = {}


def _notification_list(user: User, unread_only: bool = False, kind: Kind | None = None,
                       limit: int | None = None):
    key = (user.role, targets.generation(), unread_only, kind, limit)
    statement = _NOTIFICATION_LISTS.get(key)
    if statement is None:
        viewer_id = bindparam("viewer_id", type_=Notification.user_id.type)
        statement = (
            select(Notification)
            .where(Notification.user_id == viewer_id, visible_clause(user, viewer_id))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        )
        if unread_only:
            statement = statement.where(Notification.read_at.is_(None))
        if kind is not None:
            statement = statement.where(Notification.kind == kind)
        if limit is not None:
            statement = statement.limit(limit)
        _NOTIFICATION_LISTS[key] = statement
    return statement


def notifications_query(user: User, *, unread_only: bool = False):
    """The notifications ``user`` may see, newest first: a statement to extend (a limit, a
    kind) and run, with the member's id bound."""
    return _notification_list(user, unread_only).params(viewer_id=user.id)


def latest_notifications(user: User, kind: Kind, limit: int) -> list[Notification]:
    """The newest ``limit`` notifications of one kind that ``user`` may see (the home
    page's list): the kept statement run with the member's id, not a copy bound to it
    (copying it was a third of the list's time)."""
    return list(db.session.scalars(_notification_list(user, kind=kind, limit=limit),
                                   {"viewer_id": user.id}))


def get_notification(user: User, notification_id: int) -> Notification:
    row = (db.session.get(Notification, notification_id)
           if 0 < notification_id <= MAX_ID else None)
    if not permissions.owns(user, row):
        raise NotFound()
    return row


def mark_read(user: User, row: Notification) -> None:
    if not permissions.owns(user, row):
        raise NotFound()
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.flush()


def mark_all_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the member's unread notifications read (only ``ids``, when given)."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_([i for i in ids if 0 < i <= MAX_ID]))
    done = db.session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session="fetch")
    ).rowcount
    db.session.flush()
    return done
