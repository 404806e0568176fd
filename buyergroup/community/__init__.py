"""Between workshops: follows, the notification centre, email preferences and digests.

The community domain sits above library, network, events and onboarding: those domains
announce what happened through ``buyergroup.signals`` and this one decides who is told
(``receivers``), checking visibility when a notification is made and again when it is
shown. What can be followed or notified about is described once in ``targets``.
"""

from __future__ import annotations

from flask import Flask


def register_community(app: Flask) -> None:
    """Connect the signal receivers, the auto-follow hook and the header's unread count."""
    from buyergroup.community import autofollow, receivers, targets_builtin
    from buyergroup.community.views import register_template_context

    targets_builtin.register_builtin_targets()
    receivers.connect()
    autofollow.install()
    register_template_context(app)
