"""Event rules, one module per seam:

- ``buyergroup.events.permissions``: who may see, manage, register, see the link;
- ``queries``: the loaders (``get_event``, ``get_series``) and the lists and counts;
- ``planning``: events and series, what an organiser enters (``EventData``);
- ``registrations``: seats and the waiting list, attendance, the participant list, and
  what a membership that ends takes away;
- ``agenda``: agenda items, materials and minutes;
- ``notifications``: the mails about events and the reminders;
- ``feeds``: personal, series and group calendar feeds;
- ``jobs``: the scheduler's job (its own transaction boundary; everything else flushes and
  never commits: the request or the command owns the transaction).

This package re-exports what other code calls as ``buyergroup.events.service.<name>``: the
views and the API, the forms (``EventData``, ``REMINDER_CHOICES``), the seed loader
(``EventData``, ``create_event``, ``create_series``, ``save_agenda_item``, ``add_material``,
``register``), the templates (``upcoming_for_group``, through the views), the scheduler
(``send_due_reminders``) and the tests. New code may import the seam modules directly.
"""

from buyergroup.events.permissions import (
    can_manage_event,
    can_see_event,
    can_see_material,
    is_group_member,
    may_register,
    may_see_private_details,
    require_manager,
)
from buyergroup.events.service.agenda import (
    add_material,
    delete_agenda_item,
    delete_material,
    get_material,
    parse_library_refs,
    picked_library_items,
    save_agenda_item,
    visible_library_items,
    visible_materials,
)
from buyergroup.events.service.constants import (
    FEED_PREFIX,
    MAX_SERIES_SESSIONS,
    REMINDER_CHOICES,
)
from buyergroup.events.service.feeds import (
    active_feed,
    create_feed,
    feed_entries,
    feed_secret,
    group_events,
    personal_entries,
    revoke_feed,
    user_for_feed,
)
from buyergroup.events.service.jobs import send_due_reminders
from buyergroup.events.service.notifications import reminder_key
from buyergroup.events.service.planning import (
    EventData,
    add_sessions,
    cancel_event,
    cancel_series,
    create_event,
    create_series,
    event_problems,
    next_session_defaults,
    rename_series,
    update_event,
)
from buyergroup.events.service.queries import (
    EventFilters,
    counts,
    counts_for,
    get_event,
    get_series,
    managed_groups,
    managed_upcoming,
    own_registration_and_counts,
    plans_events,
    registration_window_open,
    registrations_in,
    registrations_of,
    upcoming_for_group,
    visible_events_query,
    waiting_position,
)
from buyergroup.events.service.registrations import (
    cancel_registration,
    end_group_registrations,
    listed_participants,
    participants_csv,
    register,
    set_attendance,
    set_name_shown,
)

__all__ = [
    "FEED_PREFIX", "MAX_SERIES_SESSIONS", "REMINDER_CHOICES", "EventData", "EventFilters",
    "active_feed", "add_material", "add_sessions", "can_manage_event", "can_see_event",
    "can_see_material", "cancel_event", "cancel_series", "cancel_registration", "counts",
    "counts_for",
    "create_event", "create_feed", "create_series", "delete_agenda_item", "delete_material",
    "end_group_registrations", "event_problems", "feed_secret",
    "feed_entries", "get_event", "get_material", "get_series", "group_events",
    "is_group_member", "listed_participants", "managed_groups", "managed_upcoming",
    "may_register",
    "may_see_private_details", "next_session_defaults", "own_registration_and_counts",
    "parse_library_refs",
    "picked_library_items", "plans_events",
    "participants_csv", "personal_entries", "register", "registration_window_open",
    "registrations_in", "registrations_of", "reminder_key", "rename_series", "require_manager",
    "revoke_feed",
    "save_agenda_item",
    "send_due_reminders", "set_attendance", "set_name_shown", "update_event",
    "upcoming_for_group", "user_for_feed", "visible_events_query", "visible_library_items",
    "visible_materials", "waiting_position",
]
