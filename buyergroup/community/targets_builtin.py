"""The built-in target types: what the library, network and events domains offer to follow.

Each adapter reuses its domain's own permission rule (``can_see``, ``can_see_group``...), so
a follow or a notification never shows more than the target's own page would.
"""

from __future__ import annotations

import functools

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, cast, false, or_, select
from sqlalchemy.orm import aliased, lazyload

from buyergroup.accounts.permissions import is_admin, is_site_organiser
from buyergroup.community.targets import KEY_TYPE, register_target
from buyergroup.extensions import db
from buyergroup.vocabulary import PRODUCT_GROUPS, THEMES

#: One instance, like ``KEY_TYPE``: a new one per statement costs SQLAlchemy a cache key.
_ID_TYPE = Integer()


@functools.cache
def _by_ids_statement(model, lean: bool):
    """Rows of ``model`` by id, built once per model: a list of notifications loads each
    type's targets with it on every page (building it was most of the query's time)."""
    statement = select(model).where(model.id.in_(bindparam("ids", expanding=True)))
    if lean:
        # Tags and authors are not needed to list or check an item (authors only for a
        # draft's co-authors, loaded then): one query for the items, none per item.
        statement = statement.options(lazyload(model.tags), lazyload(model.authors))
    return statement


def _by_ids(model, keys: list[str], *, lean: bool = False) -> dict[str, object]:
    ids = [int(k) for k in keys if k.isdigit() and len(k) < 10]
    if not ids:
        return {}
    return {str(obj.id): obj
            for obj in db.session.scalars(_by_ids_statement(model, lean), {"ids": ids})}


def _code_loader(vocabulary: dict):
    def load_many(keys: list[str]) -> dict[str, object]:
        return {key: key for key in keys if key in vocabulary}

    return load_many


def _group_ids(user) -> set[int]:
    """``user``'s active groups, looked up once per request (a list of notifications
    checks many items for one reader), or given by ``preload_group_ids`` for a job."""
    from buyergroup.library.permissions import active_group_ids

    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    # A request caches per reader; a digest run preloads every reader's groups at once.
    if not has_request_context() and "community_group_ids" not in g:
        return active_group_ids(user)
    cache = g.setdefault("community_group_ids", {})
    if user.id not in cache:
        cache[user.id] = active_group_ids(user)
    return cache[user.id]


def preload_group_ids(user_ids: list[int]) -> None:
    """For a job that checks many readers (digests): every reader's groups in one query."""
    from buyergroup.network.models import GroupMembership, MembershipState

    cache = {user_id: set() for user_id in user_ids}
    for start in range(0, len(user_ids), 500):
        for user_id, group_id in db.session.execute(
            select(GroupMembership.user_id, GroupMembership.group_id).where(
                GroupMembership.user_id.in_(user_ids[start:start + 500]),
                GroupMembership.state == MembershipState.active,
            )
        ):
            cache[user_id].add(group_id)
    g.community_group_ids = cache


def forget_group_ids() -> None:
    g.pop("community_group_ids", None)


def _can_see_item(user, item) -> bool:
    """``library.permissions.can_see``, with the reader's groups looked up only for a
    group-only item, and once per request."""
    from buyergroup.library.models import Visibility
    from buyergroup.library.permissions import can_see

    groups = _group_ids(user) if item.visibility is Visibility.group else None
    return can_see(user, item, group_ids=groups)


def _item_visible_keys(user, viewer_id):
    """The keys of the library items ``user`` may see, as SQL (``library.permissions.can_see``),
    among those ``user``'s own notifications point to: the only keys they are compared with
    (``service.visible_clause``). Without that bound the database listed every visible
    item for each page's notification count: 9-12 ms per signed-in page at 10,000 items,
    on SQLite and PostgreSQL alike (issue 12)."""
    from buyergroup.community.models import Notification
    from buyergroup.library.models import ItemAuthor, ItemStatus, LibraryItem, Visibility
    from buyergroup.library.permissions import is_moderator
    from buyergroup.network.models import GroupMembership, MembershipState

    if is_moderator(user):
        return None
    # The WHERE runs before the cast: only item notifications' keys (numbers) are cast.
    mentioned = select(cast(Notification.target_key, _ID_TYPE)).where(
        Notification.user_id == viewer_id, Notification.target_type == "item")
    groups = select(GroupMembership.group_id).where(
        GroupMembership.user_id == viewer_id, GroupMembership.state == MembershipState.active
    )
    authored = select(ItemAuthor.item_id).where(ItemAuthor.user_id == viewer_id)
    published = (LibraryItem.status == ItemStatus.published) & or_(
        LibraryItem.visibility == Visibility.public,
        LibraryItem.visibility == Visibility.members,
        (LibraryItem.visibility == Visibility.group) & LibraryItem.group_id.in_(groups),
    )
    return select(cast(LibraryItem.id, KEY_TYPE)).where(
        LibraryItem.id.in_(mentioned),
        or_(published, LibraryItem.created_by_id == viewer_id, LibraryItem.id.in_(authored)),
    )


def _join_request_visible_keys(user, viewer_id):
    from buyergroup.network.models import JoinRequest

    if is_site_organiser(user):
        return None
    return select(cast(JoinRequest.id, KEY_TYPE)).where(false())


def _group_request_visible_keys(user, viewer_id):
    from buyergroup.network.models import GroupMembership, GroupRole, MembershipState

    if is_admin(user):
        return None
    # An alias: the outer query reads the same table, and SQL built beside the account
    # (``viewer_id`` is then ``users.id``) would otherwise correlate the inner one away.
    organiser = aliased(GroupMembership)
    organised = select(organiser.group_id).where(
        organiser.user_id == viewer_id,
        organiser.state == MembershipState.active,
        organiser.role == GroupRole.organiser,
    )
    return select(cast(GroupMembership.id, KEY_TYPE)).where(
        GroupMembership.group_id.in_(organised)
    )


def _code(vocabulary: dict):
    return lambda raw: raw if raw in vocabulary else None


def register_builtin_targets() -> None:
    from buyergroup.events.models import Event, EventSeries
    from buyergroup.events.permissions import can_see_event
    from buyergroup.library.models import LibraryItem
    from buyergroup.network.models import GroupMembership, JoinRequest, Organisation, WorkingGroup
    from buyergroup.network.permissions import (
        can_manage_group,
        can_see_group,
        can_see_organisation,
    )

    register_target(
        "group",
        type_label=_l("Working group"),
        load_many=lambda keys: _by_ids(WorkingGroup, keys),
        can_view=can_see_group,
        url=lambda g: ("network.group", {"slug": g.slug}),
        label=lambda g: g.name,
        group_of=lambda g: g.id,
    )
    register_target(
        "item",
        type_label=_l("Library item"),
        load_many=lambda keys: _by_ids(LibraryItem, keys, lean=True),
        can_view=_can_see_item,
        url=lambda item: ("library.item", {"item_id": item.id}),
        label=lambda item: item.title,
        group_of=lambda item: item.group_id,
        visible_keys=_item_visible_keys,
    )
    register_target(
        "series",
        type_label=_l("Event series"),
        load_many=lambda keys: _by_ids(EventSeries, keys),
        can_view=lambda user, series: can_see_group(user, series.group),
        url=lambda s: ("events.series", {"series_id": s.id}),
        label=lambda s: s.title_pattern.replace("{n}", "").strip(" #") or s.title_pattern,
        group_of=lambda s: s.group_id,
    )
    register_target(
        "organisation",
        type_label=_l("Organisation"),
        load_many=lambda keys: _by_ids(Organisation, keys),
        can_view=can_see_organisation,
        url=lambda o: ("network.organisation", {"slug": o.slug}),
        label=lambda o: o.name,
    )
    register_target(
        "product_group",
        type_label=_l("Product group"),
        load_many=_code_loader(PRODUCT_GROUPS),
        can_view=lambda user, code: True,
        url=lambda code: ("library.index", {"product_group": code}),
        label=lambda code: str(PRODUCT_GROUPS[code]),
        parse_key=_code(PRODUCT_GROUPS),
        key_of=lambda code: code,
    )
    register_target(
        "theme",
        type_label=_l("Theme"),
        load_many=_code_loader(THEMES),
        can_view=lambda user, code: True,
        url=lambda code: ("library.index", {"theme": code}),
        label=lambda code: str(THEMES[code]),
        parse_key=_code(THEMES),
        key_of=lambda code: code,
    )
    # Notified about, not followed: events (through their series or group), requests.
    register_target(
        "event",
        type_label=_l("Event"),
        load_many=lambda keys: _by_ids(Event, keys),
        can_view=can_see_event,
        url=lambda e: ("events.detail", {"event_id": e.id}),
        label=lambda e: e.title,
        group_of=lambda e: e.group_id,
        followable=False,
    )
    register_target(
        "join_request",
        type_label=_l("Request to join the network"),
        load_many=lambda keys: _by_ids(JoinRequest, keys),
        can_view=lambda user, request: is_site_organiser(user),
        url=lambda r: ("admin.dashboard", {}),
        label=lambda r: r.name,
        followable=False,
        visible_keys=_join_request_visible_keys,
    )
    register_target(
        "group_request",
        type_label=_l("Request to join a group"),
        load_many=lambda keys: _by_ids(GroupMembership, keys),
        can_view=lambda user, m: can_manage_group(user, m.group),
        url=lambda m: ("network.group", {"slug": m.group.slug}),
        label=lambda m: m.group.name,
        group_of=lambda m: m.group_id,
        followable=False,
        visible_keys=_group_request_visible_keys,
    )
