"""Discussions in the community domain: threads can be followed and notified about, and a
member's home page lists the open questions of their groups.

The community domain keeps one registry of what can be followed; a domain above it
describes its own things there (the same rule as the search package's sources), so the
community package never imports the discussions.
"""

from __future__ import annotations

import functools

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, cast, select

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_admin
from buyergroup.community.home import set_open_questions
from buyergroup.community.targets import KEY_TYPE, register_target
from buyergroup.discussions.models import Post, Thread
from buyergroup.discussions.permissions import can_read
from buyergroup.discussions.service import readable_groups_query, threads_by_id
from buyergroup.extensions import db
from buyergroup.network.models import GroupMembership, MembershipState, WorkingGroup

#: How many open questions the home page lists.
HOME_QUESTIONS = 5


def _threads_by_key(keys: list[str]) -> dict[str, Thread]:
    ids = [int(key) for key in keys if key.isdigit() and len(key) < 10]
    if not ids:
        return {}
    return {str(thread_id): thread for thread_id, thread in threads_by_id(ids).items()}


def _visible_thread_keys(user: User, viewer_id):
    """The threads ``user`` may read, as SQL: the same rule as ``permissions.can_read``."""
    if is_admin(user):
        return None
    groups = readable_groups_query(user, user_id=viewer_id).with_only_columns(WorkingGroup.id)
    return select(cast(Thread.id, KEY_TYPE)).where(Thread.group_id.in_(groups))


@functools.cache
def _open_questions_statement():
    """Built once and run with the member's id (building it was most of its time)."""
    mine = select(GroupMembership.group_id).where(
        GroupMembership.user_id == bindparam("member_id", type_=GroupMembership.user_id.type),
        GroupMembership.state == MembershipState.active)
    answered = select(Post.id).where(Post.thread_id == Thread.id, Post.is_accepted).exists()
    # The columns shown, not threads and groups as objects (the member's home page).
    return (
        select(Thread.id, Thread.title, Thread.is_knowledge_gap,
               WorkingGroup.slug, WorkingGroup.name)
        .join(Thread.group)
        .where(Thread.group_id.in_(mine), ~answered)
        .order_by(Thread.last_posted_at.desc(), Thread.id.desc()).limit(HOME_QUESTIONS)
    )


def open_questions(user: User) -> list[dict]:
    """Unanswered threads of the groups ``user`` is an active member of, newest first."""
    threads = db.session.execute(_open_questions_statement(), {"member_id": user.id}).all()
    return [
        {
            "title": thread.title,
            "url": url_for("discussions.thread", slug=thread.slug, thread_id=thread.id),
            "meta": (_("%(group)s · knowledge gap", group=thread.name)
                     if thread.is_knowledge_gap else thread.name),
        }
        for thread in threads
    ]


def register() -> None:
    register_target(
        "thread",
        type_label=_l("Discussion"),
        load_many=_threads_by_key,
        can_view=lambda user, thread: can_read(user, thread.group),
        url=lambda thread: ("discussions.thread",
                            {"slug": thread.group.slug, "thread_id": thread.id}),
        label=lambda thread: thread.title,
        group_of=lambda thread: thread.group_id,
        visible_keys=_visible_thread_keys,
    )
    set_open_questions(open_questions)
