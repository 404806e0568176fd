"""Who is told what: the receivers of ``buyergroup.signals``.

Each receiver finds the followers (or the organisers) concerned and calls
``service.notify``, which keeps only those who may see the target. Receivers run inside the
sender's transaction and only flush.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from buyergroup import signals
from buyergroup.accounts.models import Role, User
from buyergroup.community import autofollow, service, targets
from buyergroup.community.models import Kind, Notification
from buyergroup.extensions import db


def _site_organiser_ids() -> set[int]:
    return set(
        db.session.scalars(
            select(User.id).where(User.role.in_([Role.organiser, Role.admin]),
                                  User.is_active_account.is_(True))
        )
    )


def _item_audience_pairs(item) -> list[tuple[str, str]]:
    pairs = []
    if item.group_id is not None:
        pairs.append(("group", str(item.group_id)))
    if item.organisation_id is not None:
        pairs.append(("organisation", str(item.organisation_id)))
    pairs += [("product_group", code) for code in item.product_groups]
    pairs += [("theme", code) for code in item.themes]
    return pairs


def on_item_submitted(item, actor=None, **extra) -> None:
    if actor is None:
        return  # a trusted caller (the seed loader): nobody made a change to hear of
    service.notify(_site_organiser_ids(), Kind.review, "submitted", "item", item, actor=actor)


def on_item_published(item, actor=None, **extra) -> None:
    if actor is None:
        return  # a trusted caller (the seed loader): nobody made a change to hear of
    recipients = service.follower_ids(_item_audience_pairs(item))
    service.notify(recipients, Kind.new_item, "published", "item", item, actor=actor)


def on_item_version_added(item, actor=None, version=None, **extra) -> None:
    if actor is None:
        return  # a trusted caller (the seed loader): nobody made a change to hear of
    recipients = service.follower_ids([("item", str(item.id))])
    service.notify(recipients, Kind.item_update, "version", "item", item, actor=actor)


def on_item_translation_added(original, actor=None, translation=None, **extra) -> None:
    if actor is None:
        return  # a trusted caller (the seed loader): nobody made a change to hear of
    if translation is None:
        return
    recipients = service.follower_ids([("item", str(original.id))])
    service.notify(recipients, Kind.item_update, "translation", "item", translation,
                   actor=actor, detail=translation.language)


def on_item_commented(item, actor=None, comment=None, **extra) -> None:
    if actor is None:
        return  # a trusted caller (the seed loader): nobody made a change to hear of
    recipients = service.follower_ids([("item", str(item.id))])
    service.notify(recipients, Kind.comment, "comment", "item", item, actor=actor)
    if actor is not None:
        autofollow.ensure(actor.id, "item", str(item.id))


def on_join_requested(group, request=None, **extra) -> None:
    """A request to join a working group (a pending membership) goes to its organisers; a
    request to join the network (``JoinRequest``) to the site's organisers."""
    from buyergroup.network.models import GroupMembership, JoinRequest

    if isinstance(request, GroupMembership):
        organisers = {u.id for u in request.group.organisers}
        service.notify(organisers, Kind.join_request, "group_join", "group_request", request,
                       actor=request.user, detail=request.user.name)
    elif isinstance(request, JoinRequest):
        service.notify(_site_organiser_ids(), Kind.join_request, "network_join",
                       "join_request", request)


def on_event_changed(event, actor=None, change="updated", **extra) -> None:
    if actor is None:
        return  # a trusted caller (the seed loader): nobody made a change to hear of
    pairs = [("group", str(event.group_id))]
    if event.series_id is not None:
        pairs.append(("series", str(event.series_id)))
    change = change if change in ("updated", "cancelled", "materials") else "updated"
    service.notify(service.follower_ids(pairs), Kind.event, change, "event", event, actor=actor)


def on_discussion_posted(thread, post=None, actor=None, mentioned=(), **extra) -> None:
    """A reply notifies the thread's followers; an @mention its members (already limited by
    the discussions domain to those who may read the thread, and checked again here)."""
    if not targets.known("thread"):
        return
    key = targets.get_type("thread").key_of(thread)
    mentioned_ids = {u.id for u in mentioned or ()}
    if mentioned_ids:
        service.notify(mentioned_ids, Kind.discussion, "mention", "thread", thread, actor=actor)
    if extra.get("new_thread"):
        # A new question: those who follow its group hear of it (notify checks who may read).
        group_followers = service.follower_ids([("group", str(thread.group_id))]) - mentioned_ids
        service.notify(group_followers, Kind.discussion, "question", "thread", thread,
                       actor=actor)
    else:
        followers = service.follower_ids([("thread", key)]) - mentioned_ids
        service.notify(followers, Kind.discussion, "reply", "thread", thread, actor=actor)
    if actor is not None:
        autofollow.ensure(actor.id, "thread", key)


def on_discussion_post_edited(thread, post=None, actor=None, mentioned=(), **extra) -> None:
    """An edit tells only the members it newly mentions (the discussions domain has left out
    those the post told before); the thread's followers heard of the post already."""
    if not targets.known("thread"):
        return
    mentioned_ids = {u.id for u in mentioned or ()}
    if mentioned_ids:
        service.notify(mentioned_ids, Kind.discussion, "mention", "thread", thread, actor=actor)


def on_discussion_answer_accepted(thread, post=None, actor=None, **extra) -> None:
    if not targets.known("thread"):
        return
    key = targets.get_type("thread").key_of(thread)
    service.notify(service.follower_ids([("thread", key)]), Kind.discussion, "accepted",
                   "thread", thread, actor=actor)


def on_member_erased(user, **extra) -> None:
    """What others were told about an erased member's actions named them ("Ada asked to
    join"): those notifications go with the member (their own rows cascade anyway)."""
    db.session.execute(delete(Notification).where(Notification.actor_id == user.id))


_CONNECTIONS = (
    (signals.item_submitted, on_item_submitted),
    (signals.item_published, on_item_published),
    (signals.item_version_added, on_item_version_added),
    (signals.item_translation_added, on_item_translation_added),
    (signals.item_commented, on_item_commented),
    (signals.join_requested, on_join_requested),
    (signals.event_changed, on_event_changed),
    (signals.discussion_posted, on_discussion_posted),
    (signals.discussion_answer_accepted, on_discussion_answer_accepted),
    (signals.discussion_post_edited, on_discussion_post_edited),
    (signals.member_erased, on_member_erased),
)


def connect() -> None:
    """Connect every receiver (idempotent: blinker keeps one connection per receiver)."""
    for signal, receiver in _CONNECTIONS:
        signal.connect(receiver)
