"""Event minutes and notes in the site search (a third source beside the library and
discussions), for the members who may read them.

A note's audience follows ``events.permissions.can_see_material``: a note for everyone who
can see the event is public when the group is public, and for members otherwise; a note for
members is for members. Notes for registered participants only have no audience the index
knows (it does not keep per-event audiences), so they are not indexed at all: nothing can
leak through a hit, a snippet or a count. Files are not indexed here, only the Markdown
notes. Registered by the discussions package because it already reads across the events
domain for "discussed at" (events itself is not changed).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from buyergroup.events import permissions as event_permissions
from buyergroup.events.models import Event, EventMaterial, MaterialVisibility
from buyergroup.extensions import db
from buyergroup.search.types import AUDIENCE_MEMBERS, AUDIENCE_PUBLIC, SearchDocument, SearchHit

PREFIX = "event_note"
LABEL = _l("Event notes")


def ref_of(material_id: int) -> str:
    return f"{PREFIX}:{material_id}"


def audiences_of(material: EventMaterial) -> list[str]:
    if material.visibility is MaterialVisibility.participants:
        return []
    if material.visibility is MaterialVisibility.public and material.event.group.is_public:
        return [AUDIENCE_PUBLIC]
    return [AUDIENCE_MEMBERS]


def build_document(material: EventMaterial | None) -> SearchDocument | None:
    if material is None or not material.note or material.event is None:
        return None
    audiences = audiences_of(material)
    if not audiences:
        return None
    event = material.event
    return SearchDocument(
        ref=ref_of(material.id),
        item_id=material.id,
        language=event.language if event.language in ("en", "nl", "fr", "de") else "en",
        title=f"{material.title} – {event.title}",
        summary="",
        body=material.note,
        audiences=audiences,
        facets={"kind": [PREFIX], "language": [event.language],
                "year": [str(event.starts_at.year)]},
        published_at=material.created_at,
    )


def load_document(material_id: int) -> SearchDocument | None:
    return build_document(db.session.get(EventMaterial, int(material_id)))


def all_ids() -> list[int]:
    return list(db.session.scalars(
        select(EventMaterial.id).where(EventMaterial.note != "",
                                       EventMaterial.visibility != MaterialVisibility.participants)
    ))


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
    from buyergroup.search import hooks, service

    service.register_source(PREFIX, load_document, all_ids, present=present, label=LABEL)
    hooks.register_model(EventMaterial, lambda m: [ref_of(m.id)] if m.id else [])
