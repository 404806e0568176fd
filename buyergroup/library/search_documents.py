"""What the search index holds for a library item, and how the library plugs into search.

Only published items are indexed; whoever may see an item is written into the document as
its audiences, so the index itself filters hits and facet counts by visibility.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from buyergroup.extensions import db
from buyergroup.library import fields as library_fields
from buyergroup.library.models import (
    Attachment,
    ExtractionState,
    ItemAuthor,
    ItemStatus,
    ItemTag,
    LibraryItem,
    Visibility,
)
from buyergroup.search.types import (
    AUDIENCE_MEMBERS,
    AUDIENCE_PUBLIC,
    SearchDocument,
    group_audience,
)

PREFIX = "library_item"



def ref_of(item_id: int) -> str:
    return f"{PREFIX}:{item_id}"


def audiences_of(item: LibraryItem) -> list[str]:
    if item.visibility is Visibility.public:
        return [AUDIENCE_PUBLIC]
    if item.visibility is Visibility.members:
        return [AUDIENCE_MEMBERS]
    if item.group_id is None:
        return []  # nobody: a group item whose group was deleted
    return [group_audience(item.group_id)]


def build_document(item: LibraryItem | None) -> SearchDocument | None:
    """The search document of a published item; None for anything else (then removed)."""
    if item is None or item.status is not ItemStatus.published:
        return None
    # The described fields marked searchable are indexed with the body (library.fields).
    extra = [
        str(value) for f in library_fields.FIELDS
        if f.searchable and f.applies_to(item.kind) and (value := f.value(item))
    ]
    body = "\n\n".join([item.body or "", *extra]).strip()
    attachments_text = "\n\n".join(
        a.extracted_text
        for a in item.attachments
        if a.extraction_state is ExtractionState.done and a.extracted_text
    )
    facets: dict[str, list[str]] = {"kind": [item.kind.value], "language": [item.language]}
    for f in library_fields.FIELDS:
        if f.search_facet:
            value = f.plain(item)
            values = value if isinstance(value, list) else [] if value is None else [value]
            facets[f.search_facet] = [str(v) for v in values]
    if item.organisation_id is not None:
        facets["organisation"] = [str(item.organisation_id)]
    return SearchDocument(
        ref=ref_of(item.id),
        item_id=item.id,
        language=item.language,
        title=item.title,
        summary=item.summary or "",
        body=body,
        attachments_text=attachments_text,
        audiences=audiences_of(item),
        facets={name: values for name, values in facets.items() if values},
        published_at=item.published_at,
        # An item's translations are one result (the reader's language shown first).
        group=f"{PREFIX}:translations:{item.translation_key}",
    )


def load_document(item_id: int | str) -> SearchDocument | None:
    return build_document(db.session.get(LibraryItem, int(item_id)))


def load_documents(item_ids: list[int]) -> list[SearchDocument]:
    """The documents of many items (in the order of ``item_ids``) in four queries: items,
    tags, authors, attachments."""
    items = {item.id: item for item in db.session.scalars(
        select(LibraryItem).where(LibraryItem.id.in_(item_ids))
        .options(selectinload(LibraryItem.attachments)))}
    return [document for item_id in item_ids
            if (document := build_document(items.get(item_id))) is not None]


def all_item_ids() -> list[int]:
    return list(
        db.session.scalars(
            select(LibraryItem.id).where(LibraryItem.status == ItemStatus.published)
        )
    )


def register(app: Flask) -> None:
    """Tell the search package how to build library documents and when they change."""
    from buyergroup.search import hooks, service

    service.register_source(PREFIX, load_document, all_item_ids, load_many=load_documents)
    hooks.register_model(LibraryItem, lambda item: [ref_of(item.id)])
    hooks.register_model(Attachment, lambda a: [ref_of(a.item_id)] if a.item_id else [])
    hooks.register_model(ItemTag, lambda tag: [ref_of(tag.item_id)] if tag.item_id else [])
    hooks.register_model(ItemAuthor, lambda a: [ref_of(a.item_id)] if a.item_id else [])
