"""The labels register and the stale-label alerts (flush, never commit).

Organisers keep labels and their generations; editors of a criterion choose the generations
it cites. ``flag_stale_citations`` (a scheduler job) flags every item that cites a
generation which is no longer current and emails its authors once; a citation fixed (or a
generation current again) clears the flag.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload, selectinload

from buyergroup.accounts.models import User
from buyergroup.database import utcnow
from buyergroup.errors import (
    AlreadyExists,
    InvariantError,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from buyergroup.extensions import db
from buyergroup.labels.models import (
    GenerationStatus,
    Label,
    LabelCitation,
    LabelGeneration,
    StaleLabelFlag,
)
from buyergroup.labels.permissions import can_cite, can_manage_labels
from buyergroup.library.models import LabelScope, LibraryItem
from buyergroup.vocabulary import PRODUCT_GROUPS

# --- The register -----------------------------------------------------------------------------


def all_labels() -> list[Label]:
    return list(db.session.scalars(
        select(Label).options(selectinload(Label.generations)).order_by(Label.name)
    ))


def _id(raw) -> int | None:
    """An id a database column can hold, or None (a 404, never a 500, for any number)."""
    text = str(raw)
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


def get_label(label_id) -> Label:
    label_id = _id(label_id)
    label = db.session.get(Label, label_id) if label_id is not None else None
    if label is None:
        raise NotFound()
    return label


def get_generation(generation_id) -> LabelGeneration:
    generation_id = _id(generation_id)
    generation = (db.session.get(LabelGeneration, generation_id)
                  if generation_id is not None else None)
    if generation is None:
        raise NotFound()
    return generation


def save_label(actor: User | None, *, name: str, issuer: str = "", scope: str | None = None,
               product_groups: list[str] = (), url: str = "", seed_key: str | None = None,
               label: Label | None = None) -> Label:
    """Add a label to the register, or change ``label``: its name, issuer, scope, product
    groups and link."""
    if actor is not None and not can_manage_labels(actor):
        raise NotAllowed(_("Only organisers keep the labels register."))
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValidationFailed(_("Please give the label a name (at most 120 characters)."),
                               field="name")
    unknown = [c for c in product_groups if c not in PRODUCT_GROUPS]
    if unknown:
        raise ValidationFailed(_("Please choose from the list."), field="product_groups")
    try:
        the_scope = LabelScope(getattr(scope, "value", scope)) if scope else None
    except ValueError:
        raise ValidationFailed(_("Please choose one of the options."), field="scope") from None
    _check_url(url)
    same_name = select(Label.id).where(func.lower(Label.name) == name.lower())
    if label is not None and label.id is not None:
        same_name = same_name.where(Label.id != label.id)
    if db.session.scalar(same_name) is not None:
        raise AlreadyExists(_("The register already has a label with this name."), field="name")
    if label is None:
        label = Label(seed_key=seed_key)
        db.session.add(label)
    label.name = name
    label.issuer = (issuer or "").strip()[:200]
    label.scope = the_scope
    label.product_groups_text = " ".join(dict.fromkeys(product_groups))
    label.url = url or ""
    db.session.flush()
    return label


def save_generation(actor: User | None, label: Label, *, name: str,
                    published_on: date | None = None, status: str = "current", url: str = "",
                    generation: LabelGeneration | None = None) -> LabelGeneration:
    """Add or change a generation; a changed status is what the stale-label job reads."""
    if actor is not None and not can_manage_labels(actor):
        raise NotAllowed(_("Only organisers keep the labels register."))
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValidationFailed(_("Please name the generation (at most 120 characters)."),
                               field="name")
    try:
        new_status = GenerationStatus(getattr(status, "value", status))
    except ValueError:
        raise ValidationFailed(_("Please choose one of the options."), field="status") from None
    if published_on is not None and published_on > date.today():
        raise ValidationFailed(_("The date cannot be in the future."), field="published_on")
    _check_url(url)
    if any(other.name.lower() == name.lower() and other is not generation
           for other in label.generations):
        raise AlreadyExists(_("This label already has a generation with this name."),
                            field="name")
    if generation is None:
        generation = LabelGeneration(label=label)
        db.session.add(generation)
    if generation.status is not new_status or generation.status_changed_at is None:
        generation.status_changed_at = utcnow()
    generation.name = name
    generation.published_on = published_on
    generation.status = new_status
    generation.url = url or ""
    db.session.flush()
    return generation


def _check_url(url: str) -> None:
    if url and not url.startswith(("http://", "https://")):
        raise ValidationFailed(_("Enter a web address starting with https://"), field="url")


def citation_counts(generations) -> dict[int, int]:
    """How many items cite each generation (for the organisers who keep the register: they
    see every item, so the number tells them nothing they could not see)."""
    ids = [g.id for g in generations]
    if not ids:
        return {}
    rows = db.session.execute(
        select(LabelCitation.generation_id, func.count())
        .where(LabelCitation.generation_id.in_(ids)).group_by(LabelCitation.generation_id))
    return {gid: 0 for gid in ids} | {gid: n for gid, n in rows}


def delete_generation(actor: User | None, generation: LabelGeneration) -> None:
    """Remove a generation nobody cites. One that criteria cite stays: deleting it would
    silently drop their citations (and their stale-label flags)."""
    if actor is not None and not can_manage_labels(actor):
        raise NotAllowed(_("Only organisers keep the labels register."))
    cited = citation_counts([generation])[generation.id]
    if cited:
        raise InvariantError(ngettext(
            "%(generation)s is cited by %(num)d criterion or clause: change its citation "
            "first, or mark the generation superseded or withdrawn instead.",
            "%(generation)s is cited by %(num)d criteria or clauses: change their citations "
            "first, or mark the generation superseded or withdrawn instead.",
            cited, generation=generation.title))
    label = generation.label
    label.generations.remove(generation)
    db.session.delete(generation)
    db.session.flush()


def delete_label(actor: User | None, label: Label) -> None:
    """Remove a label with its generations, unless a criterion cites one of them."""
    if actor is not None and not can_manage_labels(actor):
        raise NotAllowed(_("Only organisers keep the labels register."))
    cited = sum(citation_counts(label.generations).values())
    if cited:
        raise InvariantError(ngettext(
            "%(label)s is cited by %(num)d criterion or clause: change its citation first.",
            "%(label)s is cited by %(num)d criteria or clauses: change their citations first.",
            cited, label=label.name))
    db.session.delete(label)
    db.session.flush()


def set_status(actor: User | None, generation: LabelGeneration, status: str) -> None:
    save_generation(actor, generation.label, name=generation.name,
                    published_on=generation.published_on, status=status, url=generation.url,
                    generation=generation)


# --- Citations --------------------------------------------------------------------------------


def cited_generations(item: LibraryItem) -> list[tuple[LabelGeneration, bool]]:
    """The generations ``item`` cites, each with whether it is flagged as superseded or
    withdrawn, in one statement (the item page and its JSON show both; a flag only exists
    beside its citation, ``set_citations`` clears it with the citation)."""
    return cited_generations_of([item]).get(item.id, [])


def cited_generations_of(items) -> dict[int, list[tuple[LabelGeneration, bool]]]:
    """``cited_generations`` of several items, in one statement (a basket's page shows
    each entry's notices: one statement per entry before), by item id."""
    ids = {item.id for item in items}
    if not ids:
        return {}
    rows = db.session.execute(_cited_statement(), {"item_ids": sorted(ids)}).unique()
    cited: dict[int, list[tuple[LabelGeneration, bool]]] = defaultdict(list)
    for item_id, generation, stale in rows:
        cited[item_id].append((generation, bool(stale)))
    return cited


@functools.cache
def _cited_statement():
    """Built once and run with the items' ids (on every item page: building it was most
    of its time)."""
    flagged = (StaleLabelFlag.item_id == LabelCitation.item_id) & (
        StaleLabelFlag.generation_id == LabelCitation.generation_id)
    return (
        select(LabelCitation.item_id, LabelGeneration, StaleLabelFlag.item_id.is_not(None))
        .join(LabelCitation)
        .where(LabelCitation.item_id.in_(bindparam("item_ids", expanding=True)))
        .outerjoin(StaleLabelFlag, flagged)
        # Each with its label and the label's generations (a notice names the current
        # one: one statement per label before, on the item page): a few rows each.
        .options(joinedload(LabelGeneration.label).joinedload(Label.generations))
        .order_by(LabelGeneration.label_id, LabelGeneration.published_on)
    )


def citations_of(item: LibraryItem) -> list[LabelGeneration]:
    return [generation for generation, _stale in cited_generations(item)]


def set_citations(actor: User | None, item: LibraryItem, generation_ids: list) -> None:
    """The generations ``item`` cites, chosen from the register (not free text). A flag for a
    citation that is gone is cleared at once."""
    if actor is not None and not can_cite(actor, item):
        raise NotAllowed(_("You cannot change this item."))
    wanted = set()
    for raw in generation_ids or []:
        wanted.add(get_generation(raw).id)  # an unknown id is refused, never stored
    present = {c.generation_id for c in db.session.scalars(
        select(LabelCitation).where(LabelCitation.item_id == item.id))}
    for gid in present - wanted:
        db.session.execute(delete(LabelCitation).where(
            LabelCitation.item_id == item.id, LabelCitation.generation_id == gid))
        db.session.execute(delete(StaleLabelFlag).where(
            StaleLabelFlag.item_id == item.id, StaleLabelFlag.generation_id == gid))
    for gid in wanted - present:
        db.session.add(LabelCitation(item_id=item.id, generation_id=gid))
    db.session.flush()


# --- Stale citations --------------------------------------------------------------------------


def notice_text(generation: LabelGeneration) -> str:
    """"Cites TCO Certified generation 9; generation 10 is current since 2024-12-01." """
    current = generation.label.current_generation
    if generation.status is GenerationStatus.withdrawn:
        text = _("Cites %(cited)s, which has been withdrawn.", cited=generation.title)
    else:
        text = _("Cites %(cited)s, which has been superseded.", cited=generation.title)
    if current is not None and current.id != generation.id:
        if current.published_on:
            text += " " + _("%(current)s is current since %(date)s.", current=current.title,
                            date=format_date(current.published_on, "long"))
        else:
            text += " " + _("%(current)s is current.", current=current.title)
    return text


def stale_notices_for(item: LibraryItem) -> list[str]:
    return stale_notices_of([item]).get(item.id, [])


def stale_notices_of(items) -> dict[int, list[str]]:
    """Each item's notices of cited generations that are no longer current, by item id."""
    cited_of = cited_generations_of(items)  # with the labels' generations
    return {item_id: [notice_text(generation) for generation, stale in cited if stale]
            for item_id, cited in cited_of.items()}


def stale_warnings(item: LibraryItem) -> list[str]:
    """The warnings an export prints above the item (in the export's language)."""
    return [_("Warning: %(notice)s", notice=text) for text in stale_notices_for(item)]


def flag_stale_citations(*, notify: bool = True) -> dict[str, int]:
    """Flag every citation of a generation that is not current; clear flags that no longer
    apply; email each author of a newly flagged item once, one message for all their items.
    Idempotent: a second run finds nothing new and sends nothing. ``notify=False`` (the demo
    seed) flags without mail."""
    from buyergroup.mail.service import queue_email

    stale = db.session.execute(
        select(LabelCitation.item_id, LabelCitation.generation_id)
        .join(LabelGeneration, LabelGeneration.id == LabelCitation.generation_id)
        .where(LabelGeneration.status != GenerationStatus.current)
    ).all()
    wanted = {(row.item_id, row.generation_id) for row in stale}
    flags = {(f.item_id, f.generation_id): f for f in db.session.scalars(select(StaleLabelFlag))}
    cleared = 0
    for key, flag in flags.items():
        if key not in wanted:
            db.session.delete(flag)
            cleared += 1
    new = [StaleLabelFlag(item_id=i, generation_id=g) for (i, g) in wanted - set(flags)]
    db.session.add_all(new)
    db.session.flush()
    unnotified = list(db.session.scalars(
        select(StaleLabelFlag).where(StaleLabelFlag.notified_at.is_(None))
        .options(selectinload(StaleLabelFlag.item), selectinload(StaleLabelFlag.generation))
    ))
    by_author: dict[int, list[StaleLabelFlag]] = defaultdict(list)
    authors: dict[int, User] = {}
    for flag in unnotified:
        people = {a.user for a in flag.item.authors if a.user is not None}
        if flag.item.created_by is not None:
            people.add(flag.item.created_by)
        for person in people:
            if person.is_active:
                by_author[person.id].append(flag)
                authors[person.id] = person
    sent = 0
    for user_id, user_flags in by_author.items() if notify else ():
        user = authors[user_id]
        queue_email(user.email, "stale_labels", locale=user.locale or "en", user=user,
                    flags=user_flags, notice_text=notice_text)
        sent += 1
    now = utcnow()
    for flag in unnotified:
        flag.notified_at = now
    db.session.flush()
    return {"flagged": len(new), "cleared": cleared, "emails": sent}
