"""Who may see and manage events, register, and see the meeting link and materials: every
events rule's one home. Services call these before they change anything; views pass the
answers to templates as flags.

- **See** an event: whoever may see its working group (public groups: everyone; other
  groups: signed-in members).
- **Manage** it (create, edit, cancel, agenda, materials, participants, attendance, the
  participant list): the organisers of its working group, and administrators
  (``network.permissions.is_group_organiser``).
- **Register**: signed-in members who are active members of its working group; for a
  *public* event, every signed-in member. An organiser may add anyone.
- **The meeting link** and participants-only materials: registered participants and the
  organisers.
"""

from __future__ import annotations

from flask_babel import gettext as _

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.errors import NotAllowed
from buyergroup.events.models import (
    Event,
    EventMaterial,
    MaterialVisibility,
)
from buyergroup.network.permissions import can_see_group, is_group_member, is_group_organiser


def can_see_event(user: User | None, event: Event) -> bool:
    return can_see_group(user, event.group)


def can_manage_event(user: User | None, event: Event) -> bool:
    return is_group_organiser(user, event.group)


def may_register(user: User | None, event: Event) -> bool:
    """The rule, without the event's state: public events take every member."""
    if not is_signed_in(user):
        return False
    return event.is_public or is_group_member(user, event.group) or can_manage_event(user, event)


_UNKNOWN = object()


def may_see_private_details(user: User | None, event: Event, registration=_UNKNOWN) -> bool:
    """The video link: registered participants and the organisers.

    ``registration``: ``user``'s registration for ``event`` (or None), when the caller has
    it already (a list built with ``registrations_of``), so no query is made per event.
    """
    if can_manage_event(user, event):
        return True
    if registration is _UNKNOWN:
        registration = event.registration_of(user)
    return bool(registration and registration.is_registered)


def can_see_material(user: User | None, material: EventMaterial) -> bool:
    event = material.event
    if not can_see_event(user, event):
        return False
    if material.visibility is MaterialVisibility.public:
        return True
    if material.visibility is MaterialVisibility.members:
        return is_signed_in(user)
    return may_see_private_details(user, event)


def require_manager(user: User | None, event_or_group) -> None:
    group = event_or_group.group if isinstance(event_or_group, Event) else event_or_group
    if not is_group_organiser(user, group):
        raise NotAllowed(_("Only the organisers of this working group can do this."))
