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
