"""Event minutes and notes in the site search (a third source beside the library and
discussions), for the members who may read them.

One document per material: its Markdown note and the text read from its file (PDF, DOCX,
ODT, TXT, MD; ``events.extraction`` reads it with the library's reader). Its audiences
follow ``events.permissions.can_see_material``:

- for everyone who can see the event: public when the group is public, members otherwise;
- for members: members;
- for registered participants: each registered participant and each organiser of the
  group by name (``user_audience``), and the administrators. Every signed-in searcher
  passes their own name, so the index itself keeps these out of everyone else's hits,
  counts and facets, and a search asks the database nothing more.

The names change with the registrations and the group's organisers, so those changes queue
the materials again (``register``): a cancelled registration takes the member's name out.
Registered by the discussions package because it already reads across the events domain
for "discussed at" (events only keeps the file's text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from buyergroup.events import permissions as event_permissions
from buyergroup.events.models import (
    Event,
    EventMaterial,
    MaterialVisibility,
    Registration,
    RegistrationState,
)
from buyergroup.extensions import db
from buyergroup.library.models import ExtractionState
from buyergroup.network.models import GroupMembership, GroupRole, MembershipState
from buyergroup.search.types import (
    AUDIENCE_ADMINS,
    AUDIENCE_MEMBERS,
    AUDIENCE_PUBLIC,
    SearchDocument,
    SearchHit,
    user_audience,
)

PREFIX = "event_note"
LABEL = _l("Event notes")

#: Materials with something to index: a note, or a file (its text may still be read).
HAS_TEXT = or_(EventMaterial.note != "", EventMaterial.stored_name.is_not(None))


def ref_of(material_id: int) -> str:
    return f"{PREFIX}:{material_id}"


def participant_readers(event: Event) -> list[int]:
    """Who reads an event's participants-only materials besides the administrators: its
    registered participants and the active organisers of its group (one query)."""
    registered = select(Registration.user_id).where(
        Registration.event_id == event.id,
        Registration.state == RegistrationState.registered,
        Registration.user_id.is_not(None),
    )
    organisers = select(GroupMembership.user_id).where(
        GroupMembership.group_id == event.group_id,
        GroupMembership.state == MembershipState.active,
        GroupMembership.role == GroupRole.organiser,
    )
    return sorted(set(db.session.scalars(registered.union(organisers))))


def audiences_of(material: EventMaterial) -> list[str]:
    if material.visibility is MaterialVisibility.participants:
        return [AUDIENCE_ADMINS, *(user_audience(i) for i in participant_readers(material.event))]
    if material.visibility is MaterialVisibility.public and material.event.group.is_public:
        return [AUDIENCE_PUBLIC]
    return [AUDIENCE_MEMBERS]


def file_text(material: EventMaterial) -> str:
    if material.extraction_state is ExtractionState.done:
        return material.extracted_text or ""
    return ""


def build_document(material: EventMaterial | None) -> SearchDocument | None:
    if material is None or material.event is None:
        return None
    text = file_text(material)
    if not material.note and not text:
        return None
    event = material.event
    return SearchDocument(
        ref=ref_of(material.id),
        item_id=material.id,
        language=event.language if event.language in ("en", "nl", "fr", "de") else "en",
        title=f"{material.title} – {event.title}",
        summary="",
        body=material.note,
        attachments_text=text,
        audiences=audiences_of(material),
        facets={"kind": [PREFIX], "language": [event.language],
                "year": [str(event.starts_at.year)]},
        published_at=material.created_at,
    )


def load_document(material_id: int) -> SearchDocument | None:
    return build_document(db.session.get(EventMaterial, int(material_id)))


def all_ids() -> list[int]:
    return list(db.session.scalars(select(EventMaterial.id).where(HAS_TEXT)))


def participant_material_refs(event_ids: Iterable[int] | object) -> list[str]:
    """The refs of the participants-only materials of these events (ids, or a select of
    ids): the documents whose readers change with a registration or an organiser."""
    with db.session.no_autoflush:
        return [ref_of(i) for i in db.session.scalars(
            select(EventMaterial.id).where(
                EventMaterial.event_id.in_(event_ids),
                EventMaterial.visibility == MaterialVisibility.participants,
                HAS_TEXT,
            ))]


def _registration_refs(registration: Registration) -> list[str]:
    if registration.event_id is None:
        return []
    return participant_material_refs([registration.event_id])


def _membership_refs(membership: GroupMembership) -> list[str]:
    """An organiser who joins or leaves (or a member who becomes one) changes the readers
    of the group's events' participants-only materials."""
    if membership.group_id is None:
        return []
    return participant_material_refs(
        select(Event.id).where(Event.group_id == membership.group_id))


def queue_participant_materials(event_ids) -> None:
    """Queue the participants-only materials of these events (ids or a select of ids) for
    the index, in the current transaction: for changes made without the ORM's knowledge
    (a bulk update of registrations, an erasure)."""
    from buyergroup.search import hooks

    hooks.queue_refs(db.session(), participant_material_refs(event_ids))


def _on_member_erased(user, user_id=None, **extra) -> None:
    """The erasure deletes the member's registrations with one statement: the materials
    that named them are indexed again (without them) after it."""
    user_id = user_id if user_id is not None else user.id
    queue_participant_materials(
        select(Registration.event_id).where(Registration.user_id == user_id))


@dataclass
class NoteResult:
    material: EventMaterial
    hit: SearchHit
    title: str
    url: str
    source_label: str
    context: str
    language: str
    snippet: Markup | str = ""
    item = None


def present(hits: list[SearchHit], user) -> dict[str, NoteResult]:
    ids = [hit.item_id for hit in hits]
    materials = {
        m.id: m for m in db.session.scalars(
            select(EventMaterial)
            .options(selectinload(EventMaterial.event).selectinload(Event.group))
            .where(EventMaterial.id.in_(ids)))
    } if ids else {}
    shown = {}
    for hit in hits:
        material = materials.get(hit.item_id)
        if material is None or not event_permissions.can_see_material(user, material):
            continue
        shown[hit.ref] = NoteResult(
            material=material, hit=hit, title=f"{material.title} – {material.event.title}",
            url=url_for("events.detail", event_id=material.event_id),
            source_label=str(LABEL), context=material.event.group.name,
            language=material.event.language,
        )
    return shown


def register(app: Flask) -> None:
    from buyergroup import signals
    from buyergroup.search import hooks, service

    service.register_source(PREFIX, load_document, all_ids, present=present, label=LABEL)
    hooks.register_model(EventMaterial, lambda m: [ref_of(m.id)] if m.id else [])
    hooks.register_model(Registration, _registration_refs)
    hooks.register_model(GroupMembership, _membership_refs)
    signals.member_erased.connect(_on_member_erased)
