"""What the search index holds for a discussion, and how discussions plug into search.

One document per thread: its title, its question and every reply that is not hidden, so a
reply's words find the thread. Its audiences follow the group (``permissions.audiences_of``),
so the index itself filters hits and facet counts by who may read the thread; the search
page then checks ``permissions.can_read`` once more before showing a hit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from buyergroup.discussions import permissions, service
from buyergroup.discussions.models import Post, Thread
from buyergroup.extensions import db
from buyergroup.network.models import WorkingGroup
from buyergroup.search.types import SearchDocument, SearchHit

PREFIX = "discussion"
KIND = "discussion"  # the "kind" facet's code: the library's kinds and this one side by side
LABEL = _l("Discussion")


def ref_of(thread_id: int) -> str:
    return f"{PREFIX}:{thread_id}"


def build_document(thread: Thread | None) -> SearchDocument | None:
    if thread is None or thread.group is None:
        return None
    posts = [p for p in thread.posts if not p.is_hidden]
    if not posts:
        return None  # an opening post hidden by an organiser takes the thread out of search
    opening, replies = (posts[0], posts[1:]) if posts[0] is thread.opening_post else (None, posts)
    facets = {
        "kind": [KIND],
        "language": [thread.language],
        "product_group": thread.product_groups,
        "theme": thread.themes,
        "year": [str(thread.created_at.year)] if thread.created_at else [],
    }
    return SearchDocument(
        ref=ref_of(thread.id),
        item_id=thread.id,
        language=thread.language,
        title=thread.title,
        summary=opening.body if opening else "",
        body="\n\n".join(p.body for p in replies),
        audiences=permissions.audiences_of(thread.group),
        facets={name: values for name, values in facets.items() if values},
        published_at=thread.created_at,
    )


def load_document(thread_id: int | str) -> SearchDocument | None:
    return build_document(db.session.get(Thread, int(thread_id)))


def all_thread_ids() -> list[int]:
    return list(db.session.scalars(select(Thread.id)))


@dataclass
class DiscussionResult:
    """A search hit on a thread, as the search page shows it."""

    thread: Thread
    hit: SearchHit
    title: str
    url: str
    source_label: str
    context: str  # the group's name
    language: str
    snippet: Markup | str = ""
    item = None  # not a library item: the results template tells them apart by this


def present(hits: list[SearchHit], user) -> dict[str, DiscussionResult]:
    """The hits ``user`` may read, by ref (one query for all the page's threads)."""
    ids = [hit.item_id for hit in hits]
    if not ids:
        return {}
    threads = service.threads_by_id(ids)
    results = {}
    for hit in hits:
        thread = threads.get(hit.item_id)
        if thread is None or not permissions.can_read(user, thread.group):
            continue
        results[hit.ref] = DiscussionResult(
            thread=thread,
            hit=hit,
            title=thread.title,
            url=url_for("discussions.thread", slug=thread.group.slug, thread_id=thread.id),
            source_label=str(LABEL),
            context=thread.group.name,
            language=thread.language,
        )
    return results


def register(app: Flask) -> None:
    """Tell the search package how to build discussion documents and when they change."""
    from buyergroup.search import hooks, service

    service.register_source(PREFIX, load_document, all_thread_ids, present=present,
                            label=LABEL)
    hooks.register_model(Thread, lambda thread: [ref_of(thread.id)] if thread.id else [])
    hooks.register_model(Post, lambda post: [ref_of(post.thread_id)] if post.thread_id else [])
    # A group made private (or public) changes who may read its threads: their audiences.
    # Kept beside any refs another domain registered for groups (one function per model).
    others = hooks.registered_models().get(WorkingGroup)
    if getattr(others, "_discussions", False):
        others = others._others  # registering again (another app): keep the first others

    def group_refs(group: WorkingGroup) -> list[str]:
        refs = list(others(group)) if others is not None else []
        if group.id is not None:
            from buyergroup.discussions import minutes_search
            from buyergroup.events.models import Event, EventMaterial

            with db.session.no_autoflush:
                refs += [ref_of(i) for i in db.session.scalars(
                    select(Thread.id).where(Thread.group_id == group.id))]
                # Event notes and files for everyone follow the group's visibility too.
                refs += [minutes_search.ref_of(i) for i in db.session.scalars(
                    select(EventMaterial.id).join(Event, EventMaterial.event_id == Event.id)
                    .where(Event.group_id == group.id, minutes_search.HAS_TEXT))]
        return refs

    group_refs._discussions = True  # type: ignore[attr-defined]
    group_refs._others = others  # type: ignore[attr-defined]
    hooks.register_model(WorkingGroup, group_refs)
