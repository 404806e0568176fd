"""The personal home page of a signed-in member, in a fixed number of queries.

Next events, new items in what they follow, open questions in their groups (a slot the
discussions domain fills through ``set_open_questions``), their drafts and returned items;
for organisers the review queue and pending requests to join, with counts. Every list is
one query whatever the number of follows, notifications or groups.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, or_, select, true

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_admin, is_site_organiser
from buyergroup.community import service
from buyergroup.community.models import Kind
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


# The lists' statements are built once, at first use (the mappers must be complete), and run
# with the member's id as a parameter: building one took about two thirds of its time
# (drafts: 1.06 ms built each time, 0.30 ms prebuilt).
_MEMBER_ID = bindparam("member_id", type_=User.id.type)


@functools.cache
def _next_events_statement():
    from buyergroup.events.models import Event, EventStatus, Registration, RegistrationState

    # The columns the list shows, not the registrations and events as objects (about
    # half of this statement's time went into making them).
    return (
        select(Event.id, Event.title, Event.starts_at, Registration.state)
        .join(Registration.event)
        .where(
            Registration.user_id == _MEMBER_ID,
            Registration.state.in_([RegistrationState.registered, RegistrationState.waiting]),
            Event.ends_at > bindparam("now", type_=Event.ends_at.type),
            Event.status == EventStatus.scheduled,
        )
        .order_by(Event.starts_at)
        .limit(LIST_LENGTH)
    )


def _next_events(user: User) -> list:
    return list(db.session.execute(_next_events_statement(),
                                   {"member_id": user.id, "now": utcnow()}))


def _new_items(user: User) -> list:
    return service.entries(service.latest_notifications(user, Kind.new_item, LIST_LENGTH),
                           user)


@functools.cache
def _drafts_statement():
    from buyergroup.library.models import ItemAuthor, ItemStatus, LibraryItem

    authored = select(ItemAuthor.item_id).where(ItemAuthor.user_id == _MEMBER_ID)
    return (
        select(LibraryItem.id, LibraryItem.title, LibraryItem.status, LibraryItem.review_note,
               LibraryItem.updated_at)
        .where(
            or_(LibraryItem.created_by_id == _MEMBER_ID, LibraryItem.id.in_(authored)),
            LibraryItem.status.in_([ItemStatus.draft, ItemStatus.returned]),
        )
        .order_by(LibraryItem.updated_at.desc())
        .limit(LIST_LENGTH)
    )


def _drafts(user: User) -> list:
    return list(db.session.execute(_drafts_statement(), {"member_id": user.id}))


@functools.cache
def _review_statement():
    """The two counts and the first of the queue in one statement: the counts' one row,
    the queue's rows joined beside it (outer: with nothing to review, the counts' row comes
    back alone, its queue columns empty)."""
    from buyergroup.library.models import ItemStatus, LibraryItem
    from buyergroup.network.models import JoinRequest, RequestState

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
    return (
        select(counts.c.review_count, counts.c.network_requests,
               queue.c.id, queue.c.title, queue.c.submitted_at)
        .select_from(counts).outerjoin(queue, true())
        .order_by(queue.c.submitted_at, queue.c.id)
    )


@functools.cache
def _pending_statement(every_group: bool):
    """Groups with their pending requests to join: those with any (administrators), or
    those whose ids are given (an organiser's; also with none, the section then shows 0)."""
    from buyergroup.network.models import GroupMembership, MembershipState, WorkingGroup

    pending_join = (GroupMembership.group_id == WorkingGroup.id) & (
        GroupMembership.state == MembershipState.pending
    )
    pending = (
        select(WorkingGroup.slug, WorkingGroup.name, func.count(GroupMembership.id))
        .outerjoin(GroupMembership, pending_join)
        .group_by(WorkingGroup.id, WorkingGroup.slug, WorkingGroup.name)
        .order_by(WorkingGroup.name)
    )
    if every_group:
        return pending.having(func.count(GroupMembership.id) > 0)
    return pending.where(WorkingGroup.id.in_(bindparam("group_ids", expanding=True)))


def _organiser_part(home: PersonalHome, user: User) -> None:
    site = is_site_organiser(user)
    if site:
        rows = db.session.execute(_review_statement()).all()
        home.review_count = rows[0].review_count or 0
        home.network_requests = rows[0].network_requests or 0
        home.review_queue = [row for row in rows if row.id is not None]
    if is_admin(user):
        home.group_requests = [tuple(row) for row in db.session.execute(
            _pending_statement(every_group=True))]
    else:
        # Known from the member's memberships, already loaded for the page's visibility
        # checks: most members organise nothing, and need not be asked again.
        organised = organised_group_ids(user)
        home.group_requests = [tuple(row) for row in db.session.execute(
            _pending_statement(every_group=False), {"group_ids": list(organised)})
        ] if organised else []
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
