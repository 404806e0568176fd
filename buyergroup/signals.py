"""Domain events that one domain announces and others act on, without importing each other.

The network domain knows nothing of events; when a member leaves or is removed from a
working group, it sends ``membership_ended`` and the events domain (which sits above the
network) cancels what that membership gave them. Receivers run inside the same transaction
and must only flush.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with ``sender=<WorkingGroup>`` and ``user=<User>``, ``actor=<User | None>``, after the
#: membership row has been removed or deactivated and flushed.
membership_ended = _signals.signal("membership-ended")

# --- What the notification centre listens to -----------------------------------------------
# Each domain sends these after the change has been flushed; the community domain (follows,
# notifications, digests) subscribes, so no domain imports it. Receivers only flush and must
# decide visibility themselves: a signal says what happened, never who may know.

#: ``sender=<Item>``, ``actor=<User>``: an item was submitted and now waits for review.
item_submitted = _signals.signal("item-submitted")
#: ``sender=<Item>``, ``actor=<User>``: an item was published (first publication).
item_published = _signals.signal("item-published")
#: ``sender=<Item>``, ``actor=<User>``, ``version=<ItemVersion>``: a published item changed.
item_version_added = _signals.signal("item-version-added")
#: ``sender=<Item original>``, ``actor=<User>``, ``translation=<Item>``.
item_translation_added = _signals.signal("item-translation-added")
#: ``sender=<Item>``, ``actor=<User>``, ``comment=<Comment>``.
item_commented = _signals.signal("item-commented")
#: ``sender=<WorkingGroup>``, ``request=<JoinRequest>``: someone asked to join.
join_requested = _signals.signal("join-requested")
#: ``sender=<Event>``, ``actor=<User>``, ``change="updated"|"cancelled"|"materials"``.
event_changed = _signals.signal("event-changed")
#: ``sender=<discussion Thread>``, ``post=<Post>``, ``actor=<User>``,
#: ``mentioned=<list[User]>`` (already limited to those who may read the thread),
#: ``new_thread=<bool>`` (the post opens the thread: a new question in the group).
discussion_posted = _signals.signal("discussion-posted")
#: ``sender=<discussion Thread>``, ``post=<Post>``, ``actor=<User>``.
discussion_answer_accepted = _signals.signal("discussion-answer-accepted")
#: ``sender=<discussion Thread>``, ``post=<Post>``, ``actor=<User>`` (its author),
#: ``mentioned=<list[User]>``: the members the edit newly mentions (each told once per post,
#: and already limited to those who may read the thread).
discussion_post_edited = _signals.signal("discussion-post-edited")

# --- Privacy ---------------------------------------------------------------------------------

#: ``sender=<User>``, ``user_id=<int>``, ``email=<str>``, ``actor=<User>``: the member's
#: account is being erased, in this transaction, before its rows go. A domain keeping rows
#: about the member (follows, notifications, digests) deletes them here and only flushes.
#: (Rows with a foreign key to ``users`` are deleted or unlinked by the erasure anyway.)
member_erased = _signals.signal("member-erased")
#: ``sender=<User>``: the member asked for their data. A receiver returns a dict
#: ``{section name: JSON-serialisable value}`` added to the export (``/profile/data``).
member_data_requested = _signals.signal("member-data-requested")
