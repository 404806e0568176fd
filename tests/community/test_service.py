"""Follows and notifications through the services: who is told, and who is not."""

from __future__ import annotations

import pytest

from buyergroup.community import service
from buyergroup.community.models import Follow, Kind, Notification
from buyergroup.errors import NotFound
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.network.service import add_member, join_group, remove_member


def _notifications(user):
    return db.session.scalars(
        db.select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id)
    ).all()


def test_following_a_group_tells_of_an_item_published_in_it(
    group, member, make_user, make_item, publish
):
    follower = make_user(name="Fiona Follower")
    service.follow(follower, "group", str(group.id))
    db.session.commit()
    item = make_item(group=group, title="Server due diligence clause")
    publish(item)
    found = _notifications(follower)
    assert [(n.kind, n.event, n.title) for n in found] == [
        (Kind.new_item, "published", "Server due diligence clause")
    ]
    assert service.unread_count(follower) == 1
    entries = service.entries(found, follower)
    assert entries[0].message == "New in the library: Server due diligence clause"
    assert entries[0].path == f"/library/{item.id}"


def test_members_follow_groups_they_join_and_their_own_items(group, member, make_item):
    follows = {(f.target_type, f.target_key, f.automatic) for f in
               db.session.scalars(db.select(Follow).where(Follow.user_id == member.id))}
    assert ("group", str(group.id), True) in follows
    item = make_item(member)
    assert service.following(member, "item", str(item.id)) is not None


def test_every_author_follows_the_item_co_authors_added_later_too(
    member, make_user, make_item, publish
):
    creator, co_author = make_user(name="Cleo Creator"), make_user(name="Cas Coauthor")
    item = library.create_item(None, created_by=creator, authors=[creator, co_author],
                               kind="clause", title="Fair mice", language="en",
                               body="The contractor ...")
    db.session.commit()
    assert service.following(co_author, "item", str(item.id)).automatic
    # Added later, with a name first and their account linked in another edit.
    library.update_item(None, item, authors=[creator, co_author, "Mia Member"])
    db.session.commit()
    assert service.following(member, "item", str(item.id)) is None
    library.update_item(None, item, authors=[creator, co_author, member])
    db.session.commit()
    assert service.following(member, "item", str(item.id)).automatic
    # They hear of what happens to it, as the creator does.
    publish(item)
    commenter = make_user(name="Kim Commenter")
    library.add_comment(commenter, item, "We used it in 2024.")
    db.session.commit()
    told = {n.user_id for n in db.session.scalars(
        db.select(Notification).where(Notification.event == "comment"))}
    assert told == {creator.id, co_author.id, member.id}


def test_an_author_who_unfollowed_is_not_made_to_follow_again(make_user, make_item):
    author, co_author = make_user(name="Ann Author"), make_user(name="Cas Coauthor")
    item = make_item(author)
    library.update_item(None, item, authors=[author, co_author])
    db.session.commit()
    service.unfollow(co_author, service.following(co_author, "item", str(item.id)))
    db.session.commit()
    library.update_item(None, item, authors=[author])  # taken off the item ...
    db.session.commit()
    library.update_item(None, item, authors=[author, co_author])  # ... and named again
    db.session.commit()
    assert service.following(co_author, "item", str(item.id)) is None


def test_a_stopped_automatic_follow_is_not_made_again(group, member, organiser):
    row = service.following(member, "group", str(group.id))
    service.unfollow(member, row)
    db.session.commit()
    membership = group.membership_of(member)
    remove_member(organiser, membership)
    db.session.commit()
    join_group(group, member)
    db.session.commit()
    assert service.following(member, "group", str(group.id)) is None


def test_following_what_one_may_not_see_is_not_found(app, member, make_item, make_user):
    draft = make_item(make_user(name="Someone Else"))
    with pytest.raises(NotFound):
        service.follow(member, "item", str(draft.id))
    with pytest.raises(NotFound):
        service.follow(member, "item", "999999")
    with pytest.raises(NotFound):
        service.follow(member, "galaxy", "1")
    with pytest.raises(NotFound):
        service.follow(member, "theme", "not-a-theme")
    assert service.follow(member, "theme", "due-diligence").target_key == "due-diligence"


def test_group_only_items_notify_only_group_members(
    make_group, organiser, member, make_user, make_item, publish
):
    closed = make_group("Closed group", organiser=organiser)
    outsider = make_user(name="Otto Outsider")
    insider = make_user(name="Ines Insider")
    add_member(closed, insider)
    db.session.commit()
    for user in (outsider, insider):
        service.follow(user, "theme", "labour-conditions")
    db.session.commit()
    item = make_item(visibility="group", group=closed, title="Closed clause",
                     themes=["labour-conditions"])
    publish(item)
    assert len(_notifications(insider)) == 1
    assert _notifications(outsider) == []


def test_a_notification_whose_item_became_hidden_leaves_the_list_and_count(
    make_group, organiser, make_user, make_item, publish
):
    closed = make_group("Closed group", organiser=organiser)
    insider = make_user(name="Ines Insider")
    add_member(closed, insider)
    db.session.commit()
    service.follow(insider, "theme", "circularity")
    db.session.commit()
    item = make_item(visibility="group", group=closed, title="Closed clause",
                     themes=["circularity"])
    publish(item)
    assert service.unread_count(insider) == 1
    remove_member(organiser, closed.membership_of(insider))
    db.session.commit()
    assert service.unread_count(insider) == 0
    rows = db.session.scalars(service.notifications_query(insider)).all()
    assert service.entries(rows, insider) == []


def test_each_member_of_a_role_is_counted_with_their_own_groups(
    make_group, organiser, make_user, make_item, publish
):
    """The header's count is built once per role and run with each member's id: the second
    member counted must not be given the first one's groups or notifications."""
    closed = make_group("Closed group", organiser=organiser)
    insider, outsider = make_user(name="Ines Insider"), make_user(name="Otto Outsider")
    add_member(closed, insider)
    db.session.commit()
    for person in (insider, outsider):
        service.follow(person, "theme", "circularity")
    db.session.commit()
    publish(make_item(title="Open clause", themes=["circularity"]))
    publish(make_item(visibility="group", group=closed, title="Closed clause",
                      themes=["circularity"]))
    assert service.unread_count(insider) == 2
    assert service.unread_count(outsider) == 1  # told of the open clause only
    remove_member(organiser, closed.membership_of(insider))
    db.session.commit()
    assert (service.unread_count(outsider), service.unread_count(insider)) == (1, 1)


def test_organisers_are_told_of_items_waiting_and_requests_to_join(
    make_group, organiser, member, make_item
):
    item = make_item(member, title="My clause")
    library.submit(member, item)
    db.session.commit()
    assert [(n.kind, n.event) for n in _notifications(organiser)] == [
        (Kind.review, "submitted")
    ]
    assert _notifications(member) == []  # the actor is not told of their own act
    closed = make_group("Approval group", organiser=organiser, join_policy="approval")
    join_group(closed, member, "Please")
    db.session.commit()
    told = _notifications(organiser)[-1]
    assert (told.kind, told.event, told.detail) == (Kind.join_request, "group_join", member.name)
    assert service.describe(told) == f"{member.name} asked to join Approval group"


def test_versions_and_comments_reach_the_items_followers(
    member, make_user, make_item, publish, organiser
):
    item = publish(make_item(title="Clause"))
    follower = make_user(name="Fiona Follower")
    service.follow(follower, "item", str(item.id))
    db.session.commit()
    library.update_item(organiser, item, summary="Now with a summary")
    library.add_comment(member, item, "How did you verify this?")
    db.session.commit()
    assert [n.event for n in _notifications(follower)] == ["version", "comment"]
    # The commenter now follows the item and hears of the next comment.
    library.add_comment(follower, item, "With audits.")
    db.session.commit()
    assert [n.event for n in _notifications(member)] == ["comment"]


def test_mark_read_only_ones_own(group, member, make_user, make_item, publish):
    publish(make_item(group=group))
    other = make_user(name="Other")
    row = _notifications(member)[0]
    with pytest.raises(NotFound):
        service.mark_read(other, row)
    service.mark_read(member, row)
    assert service.unread_count(member) == 0


def test_a_demoted_organiser_no_longer_sees_requests_to_join(app, organiser, make_user):
    from buyergroup.accounts.models import Role
    from buyergroup.onboarding.service import JoinRequestData, submit_join_request

    submit_join_request(JoinRequestData(name="Nina New", email="nina@example.org",
                                        organisation_name="City of Ghent"))
    db.session.commit()
    told = _notifications(organiser)
    assert [(n.kind, n.event, n.title) for n in told] == [
        (Kind.join_request, "network_join", "Nina New")
    ]
    assert service.unread_count(organiser) == 1
    organiser.role = Role.member
    db.session.commit()
    assert service.unread_count(organiser) == 0
    assert service.entries(told, organiser) == []


def test_event_changes_reach_the_followers_of_the_series(app, group, organiser, member,
                                                         make_user):
    from datetime import timedelta

    from buyergroup.database import utcnow
    from buyergroup.events import service as events
    from buyergroup.events.service import EventData

    start = (utcnow() + timedelta(days=10)).replace(tzinfo=None, microsecond=0)
    data = EventData(title="Workshop {n}", kind="workshop", mode="online",
                     timezone="Europe/Brussels", language="en", starts_local=start,
                     ends_local=start + timedelta(hours=2))
    series = events.create_series(organiser, group, title_pattern="Workshop {n}")
    event = events.create_event(organiser, group, data, series=series)
    db.session.commit()
    events.register(member, event)
    db.session.commit()
    # Registering made the member follow the series.
    assert service.following(member, "series", str(series.id)) is not None
    events.cancel_event(organiser, event, "The speaker is ill.")
    db.session.commit()
    told = [n for n in _notifications(member) if n.kind is Kind.event]
    assert [(n.event, n.target_type) for n in told] == [("cancelled", "event")]
    assert service.describe(told[0]) == f"Cancelled: {event.title}"


def test_discussion_signals_reach_a_registered_thread_type(app, member, make_user):
    """The discussions domain registers "thread"; the receivers are generic."""
    from dataclasses import dataclass

    from buyergroup import signals
    from buyergroup.community import targets

    @dataclass
    class Thread:
        id: int
        title: str
        readers: set

    threads = {"7": Thread(7, "How did you verify the due diligence clause?",
                           {member.id})}
    reader = make_user(name="Rita Reader")
    outsider = make_user(name="Otto Outsider")
    threads["7"].readers.add(reader.id)
    # The real "thread" target (the discussions domain's) comes back afterwards: a later
    # test in this process would otherwise find threads unknown and notify nobody.
    real_thread_target = targets._REGISTRY.get("thread")
    targets.register_target(
        "thread",
        load_many=lambda keys: {k: threads[k] for k in keys if k in threads},
        can_view=lambda user, thread: user.id in thread.readers,
        url=lambda thread: ("community.follows", {}),
        label=lambda thread: thread.title,
    )
    try:
        service.follow(reader, "thread", "7")
        with pytest.raises(NotFound):
            service.follow(outsider, "thread", "7")
        signals.discussion_posted.send(threads["7"], post=None, actor=member,
                                       mentioned=[reader, outsider])
        db.session.commit()
        assert [n.event for n in _notifications(reader)] == ["mention"]  # not twice
        assert _notifications(outsider) == []  # may not read it: nobody tells them
        assert service.following(member, "thread", "7") is not None  # the poster follows
        signals.discussion_answer_accepted.send(threads["7"], post=None, actor=reader)
        db.session.commit()
        assert [n.event for n in _notifications(member)] == ["accepted"]
    finally:
        if real_thread_target is None:
            targets._REGISTRY.pop("thread", None)
        else:
            targets._REGISTRY["thread"] = real_thread_target


def test_the_organisers_home_counts_and_queue_come_in_one_statement(
    app, organiser, member, make_item
):
    """The review count, the network's requests and the first of the queue: one statement,
    also with nothing to review (the counts' row then comes back alone)."""
    from buyergroup.community.home import LIST_LENGTH, personal_home
    from buyergroup.onboarding.service import JoinRequestData, submit_join_request
    from tests.queries import statements

    submit_join_request(JoinRequestData(name="Nina New", email="nina@example.org",
                                        organisation_name="City of Ghent"))
    db.session.commit()

    def home_of_organiser():
        with statements() as sent:
            home = personal_home(organiser)
        return home, len(sent)

    empty, few = home_of_organiser()
    assert (empty.review_count, empty.review_queue, empty.network_requests) == (0, [], 1)
    titles = [f"Clause {number}" for number in range(LIST_LENGTH + 2)]
    for title in titles:
        library.submit(member, make_item(member, title=title))
    db.session.commit()
    full, many = home_of_organiser()
    assert full.review_count == LIST_LENGTH + 2 and full.network_requests == 1
    assert [row.title for row in full.review_queue] == titles[:LIST_LENGTH]
    assert many == few
