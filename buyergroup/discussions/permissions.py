"""Who may read, write and moderate a working group's discussions: every discussion rule's
one home.

Visibility follows the group: the discussions of a public group are read by everyone,
visitors included; those of any other group by its active members only. Writing is for the
group's active members; moderating (hide, lock, reports) for its organisers. The search
index is told the same rule through ``audiences_of``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buyergroup.accounts.permissions import is_admin, is_signed_in
from buyergroup.network.permissions import is_group_member, is_group_organiser
from buyergroup.search.types import AUDIENCE_PUBLIC, group_audience

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.discussions.models import Post, Thread
    from buyergroup.network.models import WorkingGroup


def can_read(user: User | None, group: WorkingGroup) -> bool:
    """A public group's discussions for everyone; the others for the group's members."""
    if group.is_public:
        return True
    return is_admin(user) or is_group_member(user, group)


def audiences_of(group: WorkingGroup) -> list[str]:
    """Who the search index may show a thread of ``group`` to (the same rule as can_read)."""
    return [AUDIENCE_PUBLIC] if group.is_public else [group_audience(group.id)]


def can_start_thread(user: User | None, group: WorkingGroup) -> bool:
    """Active members ask questions in their group (administrators anywhere)."""
    return is_signed_in(user) and (is_admin(user) or is_group_member(user, group))


def can_moderate(user: User | None, group: WorkingGroup) -> bool:
    """The group's organisers (and administrators) hide posts, lock threads, read reports."""
    return is_group_organiser(user, group)


def can_reply(user: User | None, thread: Thread) -> bool:
    """Members reply while the thread is open; a locked thread takes replies from nobody."""
    return not thread.is_locked and can_start_thread(user, thread.group)


def is_asker(user: User | None, thread: Thread) -> bool:
    return is_signed_in(user) and thread.author_id is not None and thread.author_id == user.id


def can_accept_answer(user: User | None, thread: Thread) -> bool:
    """The one who asked, or an organiser of the group, marks the accepted answer."""
    return can_read(user, thread.group) and (
        (is_asker(user, thread) and is_group_member(user, thread.group))
        or can_moderate(user, thread.group)
    )


def can_mark_gap(user: User | None, thread: Thread) -> bool:
    """The asker or an organiser says a thread shows a gap in the group's knowledge, and
    later that a library item addresses it."""
    return can_accept_answer(user, thread)


def can_report(user: User | None, post: Post) -> bool:
    """Members who may read a post may report it to the organisers (not their own)."""
    return (
        is_signed_in(user)
        and can_read(user, post.thread.group)
        and post.author_id != user.id
        and not post.is_hidden
    )


def can_edit_post(user: User | None, post: Post) -> bool:
    """Authors change their own words, while the thread takes replies and the post is not
    hidden. Nobody changes anyone else's: organisers hide a post, they do not rewrite it."""
    return (
        is_signed_in(user)
        and post.author_id is not None
        and post.author_id == user.id
        and not post.is_hidden
        and can_reply(user, post.thread)
    )


def can_edit_thread(user: User | None, thread: Thread) -> bool:
    """The asker changes the question's title and text (on the same terms as a post)."""
    opening = thread.opening_post
    return is_asker(user, thread) and opening is not None and can_edit_post(user, opening)


def can_see_hidden(user: User | None, post: Post) -> bool:
    """A hidden post's text stays readable to the organisers and to its author."""
    return can_moderate(user, post.thread.group) or (
        is_signed_in(user) and post.author_id == user.id
    )


def can_be_mentioned(user: User, thread: Thread) -> bool:
    """Only active members of the group who may read the thread are notified of a mention."""
    return bool(user.is_active_account) and is_group_member(user, thread.group) and can_read(
        user, thread.group
    )
