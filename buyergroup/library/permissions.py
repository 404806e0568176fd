"""Who may see, write, review and moderate library items: every library rule's one home.

Services call these before they change anything (``actor=None`` is a trusted caller and is
checked by no rule); views call them to decide what to show and hand the answers to the
templates as flags. The search index is told the same rules through ``audiences_for``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buyergroup.accounts.permissions import is_admin, is_signed_in, is_site_organiser
from buyergroup.library.models import ItemStatus, LibraryItem, Visibility
from buyergroup.network.models import GroupRole
from buyergroup.network.permissions import active_group_roles, can_see_organisation
from buyergroup.search.types import (
    AUDIENCE_ADMINS,
    AUDIENCE_MEMBERS,
    AUDIENCE_PUBLIC,
    group_audience,
    user_audience,
)

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.network.models import Organisation


def is_moderator(user: User | None) -> bool:
    """Site organisers and administrators review, publish and moderate the library."""
    return is_site_organiser(user)


# Reviewing (publish, return), official translations, linking translations and hiding
# comments are the moderators' work; the names say which decision a caller asks about.
can_review = is_moderator
can_publish = is_moderator
can_moderate_comments = is_moderator
can_mark_official = is_moderator
can_link_translations = is_moderator
can_share_with_any_group = is_moderator


def active_group_ids(user: User | None) -> set[int]:
    """The working groups whose group-only items ``user`` may see (asked once per
    transaction: see ``active_group_roles``)."""
    return set(active_group_roles(user))


def organised_group_ids(user: User | None) -> set[int]:
    """The working groups ``user`` organises, from the same one question as
    ``active_group_ids`` (the personal home page asked again to learn there are none)."""
    return {group_id for group_id, role in active_group_roles(user).items()
            if role is GroupRole.organiser}


def audiences_for(user: User | None) -> list[str]:
    """The search audiences a user belongs to: what the index may show them (their own
    ``user_audience`` for documents that name their few readers, such as an event's
    participants-only minutes; administrators read those too)."""
    if not is_signed_in(user):
        return [AUDIENCE_PUBLIC]
    return [
        AUDIENCE_PUBLIC,
        AUDIENCE_MEMBERS,
        *(group_audience(gid) for gid in sorted(active_group_ids(user))),
        user_audience(user.id),
        *([AUDIENCE_ADMINS] if is_admin(user) else []),
    ]


def is_author(user: User | None, item: LibraryItem) -> bool:
    if not is_signed_in(user):
        return False
    return item.created_by_id == user.id or any(a.user_id == user.id for a in item.authors)


def audience_allows(
    user: User | None,
    visibility: Visibility,
    group_id: int | None,
    *,
    group_ids: set[int] | None = None,
) -> bool:
    """Whether a visibility setting (of an item, or of one of its versions) admits ``user``.

    ``group_ids`` are the user's active groups when the caller already has them.
    """
    if visibility is Visibility.public:
        return True
    if not is_signed_in(user):
        return False
    if visibility is Visibility.members:
        return True
    if group_id is None:
        return False  # a group item whose group was deleted: nobody
    if group_ids is None:
        group_ids = active_group_ids(user)
    return group_id in group_ids


def can_see(user: User | None, item: LibraryItem, *, group_ids: set[int] | None = None) -> bool:
    """Published items by their visibility; unpublished ones by their authors and reviewers.

    Organisers see every item: they review drafts and moderate comments everywhere.
    """
    if is_moderator(user):
        return True
    if item.status is ItemStatus.published:
        return audience_allows(user, item.visibility, item.group_id, group_ids=group_ids)
    return is_author(user, item)


def can_create_item(user: User | None) -> bool:
    """Every member may share an item (it starts as a draft for review)."""
    return is_signed_in(user)


def can_edit(user: User | None, item: LibraryItem) -> bool:
    if is_moderator(user):
        return True
    return is_author(user, item) and item.status in (ItemStatus.draft, ItemStatus.returned)


def can_restore_version(user: User | None, item: LibraryItem, *, text_was_published: bool) -> bool:
    """Who may save an old version's text as the newest version (nothing is lost: the
    version it replaces stays in the history).

    Organisers restore any version. Authors restore any version while they may edit the
    item (a draft, or returned to them). Once the item is published, an author restores only
    a text that was published before (``text_was_published``: some version with that text
    was saved while the item was published, so it passed review); the restored text is
    published at once, as an organiser's edit would be. A text that was never published
    would skip review: that one stays an organiser's decision. While the item waits for
    review (submitted) or is archived, its authors restore nothing.
    """
    if is_moderator(user):
        return True
    if not is_author(user, item):
        return False
    if item.status in (ItemStatus.draft, ItemStatus.returned):
        return True
    return item.status is ItemStatus.published and text_was_published


def can_submit(user: User | None, item: LibraryItem) -> bool:
    return can_edit(user, item) and item.status in (ItemStatus.draft, ItemStatus.returned)


def can_comment(user: User | None, item: LibraryItem) -> bool:
    """Members comment on what they can see; on an unpublished item that is its authors and
    the organisers, so comments there are the review conversation."""
    return is_signed_in(user) and can_see(user, item)


def can_translate(user: User | None, item: LibraryItem) -> bool:
    return is_signed_in(user) and item.is_published and can_see(user, item)


def can_share_with_group(user: User | None, group_id: int) -> bool:
    """A member names a working group on an item only if they belong to it."""
    return can_share_with_any_group(user) or group_id in active_group_ids(user)


def can_name_organisation(user: User | None, organisation: Organisation | None) -> bool:
    """A hidden organisation is not named to visitors (its own page is a 404 for them)."""
    return organisation is not None and can_see_organisation(user, organisation)


def version_visible(
    user: User | None, item: LibraryItem, saved: dict, *, group_ids: set[int] | None = None
) -> bool:
    """An old version is shown only to the audience the item had when it was saved, and
    never to more people than the item has now: both must admit ``user``.

    ``saved`` is the version's snapshot (its status, visibility and group). A version saved
    while the item was unpublished had its authors and the moderators as audience; they see
    every version of an item they can see.
    """
    if not can_see(user, item, group_ids=group_ids):
        return False
    if is_moderator(user) or is_author(user, item):
        return True
    if saved.get("status") != ItemStatus.published.value:
        return False
    try:
        visibility = Visibility(saved.get("visibility"))
    except ValueError:
        return False
    return audience_allows(user, visibility, saved.get("group_id"), group_ids=group_ids)
