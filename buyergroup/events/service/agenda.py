"""Agendas (items that may cite library items), materials and minutes."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from buyergroup import signals
from buyergroup.accounts.models import User
from buyergroup.errors import NotFound, ValidationFailed
from buyergroup.events import storage
from buyergroup.events.models import (
    AgendaItem,
    Event,
    EventMaterial,
    MaterialVisibility,
)
from buyergroup.events.permissions import (
    can_see_material,
    require_manager,
)
from buyergroup.events.service.notifications import locale_of, tell_participants
from buyergroup.events.times import (
    format_moment,
    to_utc,
)
from buyergroup.extensions import db
from buyergroup.library.models import ExtractionState, LibraryItem
from buyergroup.library.permissions import active_group_ids, can_see

# --- Agenda ---------------------------------------------------------------------------------

def _library_ref(token: str) -> int | None:
    """The item id in "12", "#12" or a pasted link to a library item, else None. Twelve
    digits at most: a longer number names no item and would overflow the column."""
    match = (re.search(r"/library/(\d{1,12})(?!\d)", token)
             or re.fullmatch(r"#?(\d{1,12})", token))
    return int(match.group(1)) if match else None


def _tokens(text: str) -> list[str]:
    return [token for token in re.split(r"[\s,;]+", (text or "").strip()) if token]


def parse_library_refs(text: str) -> list[int]:
    """Library item ids from "12, 15" or from pasted links to library items."""
    ids = []
    for token in _tokens(text):
        item_id = _library_ref(token)
        if item_id is None:
            raise ValidationFailed(
                _("“%(text)s” is not a library item number or link.", text=token[:80]),
                field="library_items",
            )
        ids.append(item_id)
    return list(dict.fromkeys(ids))


def picked_library_items(actor: User | None, text: str) -> list[LibraryItem]:
    """The library items that ``text`` names and ``actor`` may see, for showing a choice
    back (titles instead of numbers); what cannot be read is left out, not refused."""
    ids = [item_id for token in _tokens(text) if (item_id := _library_ref(token)) is not None]
    if not ids:
        return []
    found = {item.id: item for item in db.session.scalars(
        select(LibraryItem).where(LibraryItem.id.in_(ids)))}
    return [found[i] for i in dict.fromkeys(ids)
            if i in found and (actor is None or can_see(actor, found[i]))]


def _library_items(actor: User | None, ids: list[int]):
    items = []
    for item_id in ids:
        item = db.session.get(LibraryItem, item_id)
        if item is None or (actor is not None and not can_see(actor, item)):
            raise ValidationFailed(
                _("There is no library item %(id)d (or you cannot see it).", id=item_id),
                field="library_items",
            )
        items.append(item)
    return items


def save_agenda_item(
    actor: User | None, event: Event, item: AgendaItem | None = None, *,
    starts_local: datetime | None, title: str, speakers: str = "", notes: str = "",
    library_item_ids: list[int] | None = None,
) -> AgendaItem:
    """Add (``item`` None) or change an agenda item; its time is wall-clock in the event's zone."""
    if actor is not None:
        require_manager(actor, event)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed(_("Please give the agenda item a title."), field="title")
    if starts_local is None:
        raise ValidationFailed(_("Enter the time the item starts."), field="starts_local")
    starts_at = to_utc(starts_local, event.timezone)
    if not event.starts_at <= starts_at < event.ends_at:
        with force_locale(locale_of(actor)):
            start = format_moment(event.starts_at, event.timezone, "short")
            end = format_moment(event.ends_at, event.timezone, "short")
        raise ValidationFailed(
            _("The item must start during the event, between %(start)s and %(end)s.",
              start=start, end=end),
            field="starts_local",
        )
    library = _library_items(actor, library_item_ids or [])
    if item is None:
        item = AgendaItem(event=event, starts_at=starts_at, title=title)
        db.session.add(item)
    item.starts_at = starts_at
    item.title = title[:200]
    item.speakers = " ".join((speakers or "").split())[:300]
    item.notes = (notes or "").strip()
    item.library_items = library
    event.sequence += 1  # the agenda is part of the calendar description
    db.session.flush()
    return item


def delete_agenda_item(actor: User, item: AgendaItem) -> list[str]:
    """Remove an agenda item with its materials; returns stored file names to delete."""
    require_manager(actor, item.event)
    files = [m.stored_name for m in item.materials if m.stored_name]
    for material in list(item.materials):
        db.session.delete(material)
    item.event.sequence += 1
    db.session.delete(item)
    db.session.flush()
    return files


# --- Materials and minutes ------------------------------------------------------------------


def add_material(
    actor: User | None, event: Event, *, title: str, note: str = "",
    visibility: str = MaterialVisibility.participants.value, is_minutes: bool = False,
    agenda_item: AgendaItem | None = None, stored: storage.StoredFile | None = None,
    notify: bool = True,
) -> EventMaterial:
    """Add a file or a note (or both); minutes tell the registered participants by email.

    ``stored`` is a file already checked and stored (``storage.store_upload``).
    """
    if actor is not None:
        require_manager(actor, event)
    title = " ".join((title or "").split())
    note = (note or "").strip()
    if not title:
        title = stored.original_name if stored is not None else ""
    if not title:
        raise ValidationFailed(_("Please give a title."), field="title")
    if stored is None and not note:
        raise ValidationFailed(_("Attach a file or write a note."), field="note")
    if visibility not in {v.value for v in MaterialVisibility}:
        raise ValidationFailed(_("Choose who can see it."), field="visibility")
    if agenda_item is not None and agenda_item.event_id != event.id:
        raise ValidationFailed(_("Choose an item of this event's agenda."), field="agenda_item")
    material = EventMaterial(
        event=event, agenda_item=agenda_item, title=title[:200], note=note,
        visibility=MaterialVisibility(visibility), is_minutes=bool(is_minutes),
        created_by_id=actor.id if actor else None,
    )
    if stored is not None:
        material.stored_name = stored.stored_name
        material.original_name = stored.original_name
        material.content_type = stored.content_type
        material.size = stored.size
        # Read after the response (``events.extraction``): then the search finds it.
        material.extraction_state = ExtractionState.pending
    db.session.add(material)
    db.session.flush()
    if notify:
        signals.event_changed.send(event, actor=actor, change="materials")
    if is_minutes and notify:
        tell_participants(event, "event_minutes", material=material)
    return material


def get_material(event: Event, material_id: int, user: User | None) -> EventMaterial:
    material = db.session.get(EventMaterial, material_id)
    if material is None or material.event_id != event.id or not can_see_material(user, material):
        raise NotFound()
    return material


def delete_material(actor: User, material: EventMaterial) -> str | None:
    """Remove a material; returns its stored file name, to delete once committed."""
    require_manager(actor, material.event)
    stored_name = material.stored_name
    db.session.delete(material)
    db.session.flush()
    return stored_name


def visible_materials(event: Event, user: User | None) -> list[EventMaterial]:
    return [m for m in event.materials if can_see_material(user, m)]


def visible_library_items(event: Event, user: User | None) -> dict[int, list[LibraryItem]]:
    """The library items each agenda item cites that ``user`` may see, by agenda item id.

    One query loads the agenda, one the links of every agenda item (``selectinload``) and
    one their authors (who may see a draft), however many agenda and library items there
    are: the event page used to load each agenda item's links, and each group-only item's
    audience, one query at a time. The items' tags are not read here (the page shows titles).
    """
    agenda = db.session.scalars(
        select(AgendaItem).where(AgendaItem.event_id == event.id)
        .order_by(AgendaItem.starts_at, AgendaItem.id)
        .options(selectinload(AgendaItem.library_items).lazyload(LibraryItem.tags))
    ).all()  # fills each agenda item's links in the identity map
    if "agenda_items" not in event.__dict__:
        set_committed_value(event, "agenda_items", agenda)  # the page's agenda, not asked again
    if not agenda:
        return {}
    group_ids = active_group_ids(user)
    return {
        item.id: [li for li in item.library_items if can_see(user, li, group_ids=group_ids)]
        for item in event.agenda_items
    }
