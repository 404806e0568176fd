"""The personal home page of a signed-in member, in a fixed number of queries.

Next events, new items in what they follow, open questions in their groups (a slot the
discussions domain fills through ``set_open_questions``), their drafts and returned items;
for organisers the review queue and pending requests to join, with counts. Every list is
one query whatever the number of follows, notifications or groups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, true

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_admin, is_site_organiser
from buyergroup.community import service
from buyergroup.community.models import Kind, Notification
from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.library.permissions import organised_group_ids

LIST_LENGTH = 5

#: Filled by the discussions domain: user -> list of {"title", "url", "meta"} (one query).
_open_questions: Callable[[User], list] | None = None


def set_open_questions(provider: Callable[[User], list] | None) -> None:
    global _open_questions
    _open_questions = provider


@dataclass
class PersonalHome:
    events: list = field(default_factory=list)
    new_items: list = field(default_factory=list)
    open_questions: list | None = None  # None: no provider (the section is not shown)
    drafts: list = field(default_factory=list)
    is_organiser: bool = False
    review_queue: list = field(default_factory=list)
    review_count: int = 0
    network_requests: int = 0
    group_requests: list = field(default_factory=list)  # (slug, name, count)

    @property
    def request_count(self) -> int:
        return self.network_requests + sum(count for _s, _n, count in self.group_requests)


def _next_events(user: User) -> list:
    from buyergroup.events.models import Event, EventStatus, Registration, RegistrationState

    # The columns the list shows, not the registrations and events as objects (about
    # half of this statement's time went into making them).
    return list(db.session.execute(
        select(Event.id, Event.title, Event.starts_at, Registration.state)
        .join(Registration.event)
        .where(
            Registration.user_id == user.id,
            Registration.state.in_([RegistrationState.registered, RegistrationState.waiting]),
            Event.ends_at > utcnow(),
            Event.status == EventStatus.scheduled,
        )
        .order_by(Event.starts_at)
        .limit(LIST_LENGTH)
    ))


def _new_items(user: User) -> list:
    rows = db.session.scalars(
        service.notifications_query(user)
        .where(Notification.kind == Kind.new_item)
        .limit(LIST_LENGTH)
    ).all()
    return service.entries(list(rows), user)


def _drafts(user: User) -> list:
    from buyergroup.library.models import ItemAuthor, ItemStatus, LibraryItem

    authored = select(ItemAuthor.item_id).where(ItemAuthor.user_id == user.id)
    return list(db.session.execute(
        select(LibraryItem.id, LibraryItem.title, LibraryItem.status, LibraryItem.review_note,
               LibraryItem.updated_at)
        .where(
            or_(LibraryItem.created_by_id == user.id, LibraryItem.id.in_(authored)),
            LibraryItem.status.in_([ItemStatus.draft, ItemStatus.returned]),
        )
        .order_by(LibraryItem.updated_at.desc())
        .limit(LIST_LENGTH)
    ))


def _organiser_part(home: PersonalHome, user: User) -> None:
    from buyergroup.library.models import ItemStatus, LibraryItem
    from buyergroup.network.models import (
        GroupMembership,
        JoinRequest,
        MembershipState,
        RequestState,
        WorkingGroup,
    )

    site = is_site_organiser(user)
    if site:
        # The two counts and the first of the queue in one statement: the counts' one row,
        # the queue's rows joined beside it (outer: with nothing to review, the counts'
        # row comes back alone, its queue columns empty).
        counts = select(
            select(func.count(LibraryItem.id))
            .where(LibraryItem.status == ItemStatus.submitted)
            .scalar_subquery().label("review_count"),
            select(func.count(JoinRequest.id))
            .where(JoinRequest.state == RequestState.pending)
            .scalar_subquery().label("network_requests"),
        ).subquery()
        queue = (
            select(LibraryItem.id, LibraryItem.title, LibraryItem.submitted_at)
            .where(LibraryItem.status == ItemStatus.submitted)
            .order_by(LibraryItem.submitted_at, LibraryItem.id)
            .limit(LIST_LENGTH)
            .subquery()
        )
        rows = db.session.execute(
            select(counts.c.review_count, counts.c.network_requests,
                   queue.c.id, queue.c.title, queue.c.submitted_at)
            .select_from(counts).outerjoin(queue, true())
            .order_by(queue.c.submitted_at, queue.c.id)
        ).all()
        home.review_count = rows[0].review_count or 0
        home.network_requests = rows[0].network_requests or 0
        home.review_queue = [row for row in rows if row.id is not None]
    # The groups this organiser runs, each with its pending requests (also none: the
    # section then shows 0); administrators see every group with requests waiting.
    pending_join = (GroupMembership.group_id == WorkingGroup.id) & (
        GroupMembership.state == MembershipState.pending
    )
    pending = (
        select(WorkingGroup.slug, WorkingGroup.name, func.count(GroupMembership.id))
        .outerjoin(GroupMembership, pending_join)
        .group_by(WorkingGroup.id, WorkingGroup.slug, WorkingGroup.name)
        .order_by(WorkingGroup.name)
    )
    if is_admin(user):
        pending = pending.having(func.count(GroupMembership.id) > 0)
        home.group_requests = [tuple(row) for row in db.session.execute(pending)]
    else:
        # Known from the member's memberships, already loaded for the page's visibility
        # checks: most members organise nothing, and need not be asked again.
        organised = organised_group_ids(user)
        home.group_requests = [tuple(row) for row in db.session.execute(
            pending.where(WorkingGroup.id.in_(organised)))] if organised else []
    home.is_organiser = site or bool(home.group_requests)


def personal_home(user: User) -> PersonalHome:
    home = PersonalHome(
        events=_next_events(user),
        new_items=_new_items(user),
        drafts=_drafts(user),
    )
    if _open_questions is not None:
        home.open_questions = _open_questions(user)
    _organiser_part(home, user)
    return home
