"""A minimal library source for the search tests, independent of the library's own.

``tests/search`` checks the search machinery, so it registers its own loader for
``LibraryItem`` rather than the library team's (which may grow fields and rules).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.library.models import (
    Attachment,
    ItemKind,
    ItemStatus,
    LibraryItem,
    Visibility,
)
from buyergroup.search import hooks, service
from buyergroup.search.types import AUDIENCE_MEMBERS, AUDIENCE_PUBLIC, SearchDocument

PREFIX = "library_item"


def ref_of(item_id: int) -> str:
    return f"{PREFIX}:{item_id}"


def load_item(item_id: int) -> SearchDocument | None:
    item = db.session.get(LibraryItem, item_id)
    if item is None or item.status is not ItemStatus.published:
        return None
    attachments = db.session.scalars(select(Attachment).where(Attachment.item_id == item_id))
    return SearchDocument(
        ref=ref_of(item.id),
        item_id=item.id,
        language=item.language,
        title=item.title,
        summary=item.summary,
        body=item.body,
        attachments_text="\n".join(a.extracted_text for a in attachments),
        audiences=[AUDIENCE_PUBLIC if item.visibility is Visibility.public else AUDIENCE_MEMBERS],
        facets={"kind": [item.kind.value], "language": [item.language]},
        published_at=item.published_at,
    )


def published_ids() -> list[int]:
    return list(db.session.scalars(
        select(LibraryItem.id).where(LibraryItem.status == ItemStatus.published)
    ))


def register_library_source() -> None:
    service.register_source(PREFIX, load_item, published_ids)
    hooks.register_model(LibraryItem, lambda item: [ref_of(item.id)])
    hooks.register_model(Attachment, lambda a: [ref_of(a.item_id)] if a.item_id else [])


@contextmanager
def registrations_restored() -> Iterator[None]:
    """Undo whatever sources and models a test registers (they are process-wide)."""
    sources = service.registered_sources()
    models = hooks.registered_models()
    try:
        yield
    finally:
        for prefix in service.registered_sources():
            service.unregister_source(prefix)
        for prefix, source in sources.items():
            service.register_source(prefix, source.loader, source.all_ids,
                                    present=source.present, label=source.label)
        for model in hooks.registered_models():
            hooks.unregister_model(model)
        for model, ref_fn in models.items():
            hooks.register_model(model, ref_fn)


def make_item(title: str = "Child labour criterion", *, language: str = "en",
              body: str = "Suppliers show how they prevent child labour.",
              status: ItemStatus = ItemStatus.published,
              visibility: Visibility = Visibility.public) -> LibraryItem:
    """A library item added to the session (not committed)."""
    item = LibraryItem(
        kind=ItemKind.criterion,
        title=title,
        body=body,
        language=language,
        translation_key=str(uuid.uuid4()),
        status=status,
        visibility=visibility,
        published_at=datetime.now(UTC) if status is ItemStatus.published else None,
    )
    db.session.add(item)
    return item
