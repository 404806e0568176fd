"""``flask --app buyergroup bench load --items N [--seed S]``: fill the configured database
and search index with the synthetic corpus of ``bench/corpus.py``, so that anyone can
reproduce the page and search figures of docs/performance.md on their own installation.

Items are library items like any other (published, with tags, an organisation, a working
group for group items), and a fifth of them are translations of the item before them, so
that results fold translations as on the real site. They go in in transactions of
``--batch`` items (default 2,000), and into the index through the same code as every other
change: ``search_documents.build_document`` for each item and the backend's ``upsert``,
under the writer lock. The queue rows the hooks add in each transaction commit with it
and are removed once the batch is in the index, so a load killed half-way leaves its last
batch queued for the scheduler, as any change would.

Not the services: they record a version and notify reviewers for every item (about 120
items/s on SQLite); a benchmark corpus needs neither.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from sqlalchemy import delete, func, select

from bench import corpus
from buyergroup.extensions import db
from buyergroup.library import search_documents
from buyergroup.library.models import (
    ItemKind,
    ItemStatus,
    LibraryItem,
    Phase,
    TranslationKind,
    Visibility,
)
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.search import hooks
from buyergroup.search.models import PendingIndexUpdate
from buyergroup.search.service import _setting, get_backend, refresh_statistics
from buyergroup.vocabulary import COUNTRIES, PRODUCT_GROUPS, THEMES

TRANSLATION_RATE = 0.2


def load_items(count: int, *, seed: int = 7, batch: int = 2000,
               progress: Callable[[int, float, float], None] | None = None
               ) -> tuple[float, float]:
    """Add ``count`` synthetic published items; returns the items per second of wall-clock
    time and of this process's CPU time (on a shared machine the second is the fairer
    figure: the database server's own work is not in it)."""
    rng = random.Random(seed)
    organisations = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    groups = list(db.session.scalars(select(WorkingGroup.id).order_by(WorkingGroup.id)))
    product_groups, themes = list(PRODUCT_GROUPS), list(THEMES)
    countries = list(COUNTRIES)
    start, cpu_start = time.perf_counter(), time.process_time()
    done = 0
    previous: tuple[str, str] | None = None  # the last item's language and translation key
    pending: list[LibraryItem] = []
    backend = get_backend()
    offset = (db.session.scalar(select(func.max(LibraryItem.id))) or 0)

    def flush_batch() -> None:
        nonlocal done
        session = db.session()
        session.add_all(pending)
        session.flush()
        documents = [search_documents.build_document(item) for item in pending]
        refs = [document.ref for document in documents if document is not None]
        # This transaction's queue rows commit with the items (the hooks add them); the
        # after-commit apply is left to us, with the documents in hand.
        session.info[hooks.APPLYING] = True
        try:
            session.commit()
        finally:
            session.info.pop(hooks.APPLYING, None)
        with backend.writer_lock(float(_setting("SEARCH_LOCK_TIMEOUT"))):
            backend.upsert([d for d in documents if d is not None])
        for start_ in range(0, len(refs), 500):
            session.execute(delete(PendingIndexUpdate).where(
                PendingIndexUpdate.document_ref.in_(refs[start_:start_ + 500])))
        session.commit()
        session.expunge_all()
        done += len(pending)
        pending.clear()
        if progress:
            progress(done, time.perf_counter() - start, time.process_time() - cpu_start)

    for document in corpus.documents(count, seed=seed + offset):
        kind = document.facets["kind"][0]
        audience = document.audiences[0]
        if audience == "public":
            visibility, group_id = Visibility.public, None
        elif audience == "members" or not groups:
            visibility, group_id = Visibility.members, None
        else:
            visibility = Visibility.group
            group_id = groups[int(audience.split(":")[1]) % len(groups)]
        translation = (previous is not None and previous[0] != document.language
                       and rng.random() < TRANSLATION_RATE)
        item = LibraryItem(
            kind=ItemKind(kind),
            title=document.title[:300],
            summary=document.summary,
            body=document.body + ("\n\n" + document.attachments_text
                                  if document.attachments_text else ""),
            language=document.language,
            status=ItemStatus.published,
            visibility=visibility,
            group_id=group_id,
            organisation_id=(organisations[int(document.facets["organisation"][0])
                                           % len(organisations)] if organisations else None),
            year=document.published_at.year,
            phase=Phase(document.facets["phase"][0]) if "phase" in document.facets else None,
            translation_key=(previous[1] if previous and translation else str(uuid.uuid4())),
            translation_kind=(TranslationKind.member if translation
                              else TranslationKind.original),
            published_at=document.published_at,
        )
        item.set_codes("product_group", rng.sample(product_groups, rng.randint(1, 3)))
        item.set_codes("theme", rng.sample(themes, rng.randint(1, 2)))
        item.set_codes("country", [rng.choice(countries)])
        pending.append(item)
        previous = (item.language, item.translation_key)
        if len(pending) >= batch:
            flush_batch()
    if pending:
        flush_batch()
    refresh_statistics()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return (done / elapsed if elapsed else 0.0), (done / cpu if cpu else 0.0)
