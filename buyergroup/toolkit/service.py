"""Tender baskets and the clause reuse register: the rules (flush, never commit).

Every function takes the acting member and checks them through ``toolkit.permissions``;
library items are loaded through ``library.service.get_item``, so an item the member may not
see is "no such item" here as everywhere.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, inspect, or_, select
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from buyergroup.accounts.models import User
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction
from buyergroup.audit.service import Target
from buyergroup.database import utcnow
from buyergroup.errors import AlreadyExists, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library import permissions as library_permissions
from buyergroup.library import service as library_service
from buyergroup.library.fields import CLAUSE_KINDS
from buyergroup.library.models import (
    ItemAuthor,
    ItemRelation,
    ItemStatus,
    LibraryItem,
    Phase,
    TranslationKind,
)
from buyergroup.network.models import WorkingGroup
from buyergroup.toolkit import permissions
from buyergroup.toolkit.models import (
    NAME_MAX,
    NOTE_MAX,
    OUTPUT_LANGUAGES,
    PHASE_ORDER,
    Basket,
    BasketEntry,
    BasketShare,
    ClauseUse,
    UseOutcome,
)
from buyergroup.vocabulary import PRODUCT_GROUPS

# --- Baskets ----------------------------------------------------------------------------------


def _clean_name(owner: User, name: str | None, *, basket: Basket | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("Please give the basket a name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            _("This name is too long: at most %(n)d characters.", n=NAME_MAX), field="name"
        )
    clash = select(Basket.id).where(
        Basket.owner_id == owner.id, func.lower(Basket.name) == name.lower()
    )
    if basket is not None and basket.id is not None:
        clash = clash.where(Basket.id != basket.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise AlreadyExists(_("You already have a basket with this name."), field="name")
    return name


def _clean_language(language: str | None) -> str:
    language = (language or "en").strip().lower()
    if language not in OUTPUT_LANGUAGES:
        raise ValidationFailed(_("Please choose one of the languages offered."), field="language")
    return language


def create_basket(actor: User, name: str, *, language: str | None = "en") -> Basket:
    """A new private basket of ``actor``'s."""
    if not permissions.can_create_basket(actor):
        raise NotAllowed()
    basket = Basket(owner=actor, name=_clean_name(actor, name), language=_clean_language(language))
    db.session.add(basket)
    db.session.flush()
    return basket


def update_basket(
    actor: User,
    basket: Basket,
    *,
    name: str | None = None,
    language: str | None = None,
    share: BasketShare | str | None = None,
    group: WorkingGroup | None = None,
    editable: bool | None = None,
) -> Basket:
    """Rename, choose the output language, or share (owner only). ``None``: unchanged."""
    if not permissions.can_manage_basket(actor, basket):
        raise NotAllowed(_("Only the basket's owner can change its settings."))
    if name is not None:
        basket.name = _clean_name(actor, name, basket=basket)
    if language is not None:
        basket.language = _clean_language(language)
    if share is not None:
        try:
            share = BasketShare(getattr(share, "value", share))
        except ValueError:
            raise ValidationFailed(_("Please choose one of the options."), field="share") from None
        basket.organisation_id = None
        basket.group_id = None
        if share is BasketShare.organisation:
            if actor.organisation_id is None:
                raise ValidationFailed(
                    _("Your profile names no organisation to share with."), field="share"
                )
            basket.organisation_id = actor.organisation_id
        elif share is BasketShare.group:
            if group is None:
                raise ValidationFailed(_("Please choose a working group."), field="group_id")
            if group.id not in library_permissions.active_group_ids(actor):
                raise ValidationFailed(
                    _("You can only share with a working group you belong to."),
                    field="group_id",
                )
            basket.group_id = group.id
        basket.share = share
    if editable is not None:
        basket.shared_editable = bool(editable)
    db.session.flush()
    return basket


def delete_basket(actor: User, basket: Basket) -> None:
    if not permissions.can_manage_basket(actor, basket):
        raise NotAllowed(_("Only the basket's owner can delete it."))
    db.session.delete(basket)
    db.session.flush()


def get_basket(basket_id: int | str, user: User | None, *, edit: bool = False,
               manage: bool = False) -> Basket:
    """The one loader: 404 unless ``user`` may see the basket; 403 for a missing right."""
    try:
        number = int(basket_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    # With its entries (every basket page, export and JSON lists them), the group it is
    # shared with and its owner (the page names the one to its owner, the other to its
    # other readers): one each, joined; the owner without languages and expertise.
    basket = (db.session.get(Basket, number, options=[
        joinedload(Basket.entries), joinedload(Basket.group),
        joinedload(Basket.owner).lazyload(User.language_links),
        joinedload(Basket.owner).lazyload(User.expertise_links),
    ]) if 0 < number < 2**31 else None)
    if basket is None or not permissions.can_see_basket(user, basket):
        raise NotFound()
    if edit and not permissions.can_edit_basket(user, basket):
        raise NotAllowed(_("This basket is shared with you to read only."))
    if manage and not permissions.can_manage_basket(user, basket):
        raise NotAllowed(_("Only the basket's owner can change its settings."))
    return basket


@functools.cache
def _baskets_statement(with_entries: bool):
    """A member's baskets: their own, their organisation's (none without one: NULL matches
    nothing) and their groups'. Built once and run with the member's values (every library
    page of a member asks it for the basket menus; building it was most of its time)."""
    query = select(Basket).where(or_(
        Basket.owner_id == bindparam("member_id", type_=Basket.owner_id.type),
        (Basket.share == BasketShare.organisation)
        & (Basket.organisation_id == bindparam("organisation_id",
                                               type_=Basket.organisation_id.type)),
        (Basket.share == BasketShare.group)
        & Basket.group_id.in_(bindparam("group_ids", expanding=True)),
    )).order_by(func.lower(Basket.name), Basket.id)
    if with_entries:
        # In the same statement (joined: a selectin load was a second one): pages ask which
        # baskets hold an item, or count them.
        query = query.options(joinedload(Basket.entries))
    return query


def baskets_for(user: User | None, *, with_entries: bool = True) -> list[Basket]:
    """The user's own baskets, then those shared with them, by name; ``with_entries=False``
    for a menu of them (their entries are then loaded only if asked for)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    query = _baskets_statement(with_entries)
    parameters = {"member_id": user.id, "organisation_id": user.organisation_id,
                  "group_ids": sorted(library_permissions.active_group_ids(user))}
    baskets = db.session.scalars(query, parameters).unique().all()
    return sorted(baskets, key=lambda b: (b.owner_id != user.id, b.name.lower()))


def editable_baskets_for(user: User | None, baskets: list[Basket] | None = None) -> list[Basket]:
    """Those of ``baskets`` (default: all the user's, ``baskets_for``) the user may change."""
    baskets = baskets_for(user) if baskets is None else baskets
    return [b for b in baskets if permissions.can_edit_basket(user, b)]


# --- Entries ----------------------------------------------------------------------------------


def _touch(basket: Basket) -> None:
    basket.updated_at = func.now()  # the basket changed when its items did


def add_item(actor: User, basket: Basket, item_id: int | str) -> BasketEntry:
    """Put a library item into a basket, last in its phase. 404 for an item the member may
    not see (whatever the number); a second time is refused."""
    if not permissions.can_edit_basket(actor, basket):
        raise NotAllowed(_("This basket is shared with you to read only."))
    item = _visible_item(actor, item_id)
    if item.kind not in CLAUSE_KINDS:
        raise ValidationFailed(_("Only criteria and contract clauses go into a tender basket."),
                               field="item_id")
    if any(e.item_id == item.id for e in basket.entries):
        raise AlreadyExists(_("This item is already in the basket."), field="item_id")
    last = max((e.position for e in basket.entries if _phase(e.item) == item.phase), default=-1)
    entry = BasketEntry(item=item, position=last + 1)
    basket.entries.append(entry)
    _touch(basket)
    db.session.flush()
    return entry


def _visible_item(actor: User | None, item_id) -> LibraryItem:
    try:
        number = int(item_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 0 < number < 2**31:
        raise NotFound()
    item = library_service.get_item(number, actor)
    if not item.is_published:
        raise NotFound()
    return item


def get_entry(basket: Basket, entry_id: int | str) -> BasketEntry:
    entry = next((e for e in basket.entries if str(e.id) == str(entry_id)), None)
    if entry is None:
        raise NotFound()
    return entry


def entry_for_item(basket: Basket, item_id: int | str) -> BasketEntry:
    entry = next((e for e in basket.entries if str(e.item_id) == str(item_id)), None)
    if entry is None:
        raise NotFound()
    return entry


def remove_entry(actor: User, basket: Basket, entry: BasketEntry) -> None:
    if not permissions.can_edit_basket(actor, basket):
        raise NotAllowed(_("This basket is shared with you to read only."))
    basket.entries.remove(entry)
    _touch(basket)
    db.session.flush()


def move_entry(actor: User, basket: Basket, entry: BasketEntry, direction: str) -> None:
    """Swap an item with its neighbour within its phase ("up" or "down")."""
    if not permissions.can_edit_basket(actor, basket):
        raise NotAllowed(_("This basket is shared with you to read only."))
    if direction not in ("up", "down"):
        raise ValidationFailed(_("Please choose one of the options."), field="direction")
    siblings = [e for e in ordered_entries(basket) if _phase(e.item) == _phase(entry.item)]
    for number, sibling in enumerate(siblings):
        sibling.position = number  # close any gaps first
    index = siblings.index(entry)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index].position, siblings[other].position = other, index
    _touch(basket)
    db.session.flush()


def set_note(actor: User, basket: Basket, entry: BasketEntry, note: str | None) -> None:
    if not permissions.can_edit_basket(actor, basket):
        raise NotAllowed(_("This basket is shared with you to read only."))
    note = (note or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(
            _("This text is too long: at most %(n)d characters.", n=NOTE_MAX), field="note"
        )
    entry.note = note
    _touch(basket)
    db.session.flush()


def set_variant(actor: User, basket: Basket, entry: BasketEntry, variant_id) -> None:
    """Use a national legal variant of the entry's clause instead (``None``: the item)."""
    if not permissions.can_edit_basket(actor, basket):
        raise NotAllowed(_("This basket is shared with you to read only."))
    if variant_id in (None, "", 0, "0"):
        entry.variant_id = None
    else:
        allowed = {v.id for v in legal_variants(entry.item, actor)}
        if str(variant_id) not in {str(a) for a in allowed}:
            raise ValidationFailed(_("Please choose one of the options."), field="variant_id")
        entry.variant_id = int(variant_id)
    _touch(basket)
    db.session.flush()


def legal_variants(item: LibraryItem, user: User | None) -> list[LibraryItem]:
    """Versions of a clause under another national law: related items of the same kind and
    phase whose legal framework is named and differs from this item's, written for other
    countries (no country in common: a clause for the same country under another article is
    a neighbour, not a variant).

    Chosen among the item's related items that ``user`` may see (``library.service.
    related_items``, which the item page has loaded with the item): no statement of its own
    there. By legal framework, as ``legal_variants_of`` orders them."""
    variants = [other for other in library_service.related_items(item, user)
                if _is_legal_variant(item, other)]
    return sorted(variants, key=lambda variant: (variant.legal_system, variant.id))


def _is_legal_variant(item: LibraryItem, other: LibraryItem) -> bool:
    """The rule of ``legal_variants``, about an item related to ``item``."""
    countries = set(item.countries)
    return (other.legal_system != "" and other.kind == item.kind
            and other.phase == item.phase and other.legal_system != item.legal_system
            and other.translation_key != item.translation_key
            and bool(other.countries) and bool(countries)
            and not set(other.countries) & countries)


def legal_variants_of(items, user: User | None) -> dict[int, list[LibraryItem]]:
    """``legal_variants`` of several items in one statement (a basket's page asks for each
    entry), by item id."""
    by_id = {item.id: item for item in items}
    found: dict[int, list[LibraryItem]] = {item_id: [] for item_id in by_id}
    if not by_id:
        return found
    rows = db.session.execute(
        select(ItemRelation.item_id, LibraryItem)
        .join(ItemRelation, ItemRelation.related_id == LibraryItem.id)
        .where(ItemRelation.item_id.in_(by_id), LibraryItem.legal_system != "")
        # Only published ones are kept, before ``can_see``: their authors are never asked.
        # Their tags (countries) joined: a few per variant.
        .options(lazyload(LibraryItem.authors), joinedload(LibraryItem.tags))
        .order_by(LibraryItem.legal_system, LibraryItem.id)
    ).unique().all()
    group_ids = library_permissions.active_group_ids(user)
    for item_id, variant in rows:
        item = by_id[item_id]
        if (_is_legal_variant(item, variant) and variant.is_published
                and library_permissions.can_see(user, variant, group_ids=group_ids)):
            found[item_id].append(variant)
    return found


def _phase(item: LibraryItem) -> Phase | None:
    return item.phase


def _phase_rank(phase: Phase | None) -> int:
    return PHASE_ORDER.index(phase) if phase in PHASE_ORDER else len(PHASE_ORDER)


def ordered_entries(basket: Basket) -> list[BasketEntry]:
    """Procurement order: by phase, then by position within it."""
    _load_items_of(basket.entries)
    return sorted(basket.entries, key=lambda e: (_phase_rank(_phase(e.item)), e.position, e.id))


def _load_items_of(entries: list[BasketEntry]) -> None:
    """The entries' items and chosen variants, with their organisations, in one statement,
    set on the entries (``entry.item`` asked once per entry before). Set by hand: a
    joined query of the entries leaves those already loaded as they are (measured: 42
    statements for 8 entries, as without it), and ``populate_existing`` would overwrite
    what this transaction changed in them."""
    unloaded = [e for e in entries if {"item", "variant"} & inspect(e).unloaded]
    ids = {e.item_id for e in unloaded} | {e.variant_id for e in unloaded if e.variant_id}
    if not ids:
        return
    # Their tags joined (countries, for the legal variants): a few per item. Their authors
    # only for the unpublished ones, their only readers (``can_see``): a published item's
    # follow its visibility, and a basket rarely holds anything else (no statement then).
    items = {item.id: item for item in db.session.scalars(
        select(LibraryItem).where(LibraryItem.id.in_(ids))
        .options(joinedload(LibraryItem.organisation), joinedload(LibraryItem.tags),
                 lazyload(LibraryItem.authors))).unique()}
    for entry in unloaded:
        set_committed_value(entry, "item", items.get(entry.item_id))
        set_committed_value(entry, "variant", items.get(entry.variant_id))
    _load_authors_of([item for item in items.values()
                      if item.status is not ItemStatus.published
                      and "authors" in inspect(item).unloaded])


def _load_authors_of(items: list[LibraryItem]) -> None:
    """The authors of ``items`` in one statement, set on each (in the relationship's order)."""
    if not items:
        return
    authors: dict[int, list[ItemAuthor]] = {item.id: [] for item in items}
    for author in db.session.scalars(
        select(ItemAuthor).where(ItemAuthor.item_id.in_(authors))
        .order_by(ItemAuthor.item_id, ItemAuthor.position)
    ):
        authors[author.item_id].append(author)
    for item in items:
        set_committed_value(item, "authors", authors[item.id])


# --- What a basket holds for one reader -------------------------------------------------------


@dataclass
class EntryText:
    """The text an entry contributes to the tender, in the basket's language if possible."""

    source: LibraryItem  # the item whose text is used (a translation, or the variant)
    requested_language: str
    kind: TranslationKind  # of ``source``
    is_fallback: bool  # no text in the requested language: the original is used
    variant: LibraryItem | None = None  # the chosen legal variant, when it replaces the item

    @property
    def marked_member_translation(self) -> bool:
        return self.kind is TranslationKind.member and not self.is_fallback


@dataclass
class Section:
    phase: Phase | None
    entries: list[BasketEntry] = field(default_factory=list)


@dataclass
class BasketView:
    basket: Basket
    sections: list[Section]  # what the reader may see and export, in procurement order
    unavailable: list[BasketEntry]  # hidden, archived or withdrawn: reported, not exported
    readable: dict[int, bool]  # entry id -> the reader can see the item (to name it)

    @property
    def exportable(self) -> list[BasketEntry]:
        return [e for s in self.sections for e in s.entries]


def view_of(basket: Basket, user: User | None) -> BasketView:
    group_ids = library_permissions.active_group_ids(user)
    sections: dict[Phase | None, Section] = {}
    unavailable: list[BasketEntry] = []
    readable: dict[int, bool] = {}
    for entry in ordered_entries(basket):
        sees = library_permissions.can_see(user, entry.item, group_ids=group_ids)
        readable[entry.id] = sees
        if not (entry.item.is_published and sees):
            unavailable.append(entry)
            continue
        phase = _phase(entry.item)
        sections.setdefault(phase, Section(phase)).entries.append(entry)
    return BasketView(basket=basket, sections=list(sections.values()), unavailable=unavailable,
                      readable=readable)


def text_for(entry: BasketEntry, language: str, user: User | None) -> EntryText:
    """Which item's text goes into the tender for this entry.

    The chosen legal variant (if still visible) replaces the item. Then, for the requested
    language: that language's version if the item is in it, an official translation, a
    member translation (marked as such); otherwise the original, with a note.
    """
    return texts_for([entry], language, user)[entry.id]


def texts_for(entries: list[BasketEntry], language: str,
              user: User | None) -> dict[int, EntryText]:
    """``text_for`` of several entries, their translations read in one statement (a
    basket's page shows each entry's text: one statement per entry before), by entry id."""
    group_ids = library_permissions.active_group_ids(user)
    bases: dict[int, tuple[LibraryItem, LibraryItem | None]] = {}
    for entry in entries:
        variant = entry.variant
        if variant is not None and variant.is_published and library_permissions.can_see(
                user, variant, group_ids=group_ids):
            bases[entry.id] = (variant, variant)
        else:
            bases[entry.id] = (entry.item, None)
    keys = {base.translation_key for base, _variant in bases.values()}
    families: dict[str, list[LibraryItem]] = {key: [] for key in keys}
    if keys:
        for other in db.session.scalars(
            select(LibraryItem).where(LibraryItem.translation_key.in_(keys))
            .options(joinedload(LibraryItem.organisation), lazyload(LibraryItem.tags),
                     lazyload(LibraryItem.authors))
        ):
            families[other.translation_key].append(other)
    texts = {}
    for entry_id, (base, variant) in bases.items():
        translations = sorted(
            (other for other in families[base.translation_key]
             if other.id != base.id and other.is_published
             and library_permissions.can_see(user, other, group_ids=group_ids)),
            key=lambda other: (other.language, other.id))
        texts[entry_id] = _text_in(base, [base, *translations], language, variant)
    return texts


def _text_in(base: LibraryItem, family: list[LibraryItem], language: str,
             variant: LibraryItem | None) -> EntryText:
    in_language = [t for t in family if t.language == language]
    if base.language == language:
        return EntryText(base, language, base.translation_kind, False, variant)
    for wanted in (TranslationKind.original, TranslationKind.official, TranslationKind.member):
        for candidate in in_language:
            if candidate.translation_kind is wanted:
                return EntryText(candidate, language, wanted, False, variant)
    original = next((t for t in family if t.translation_kind is TranslationKind.original), base)
    return EntryText(original, language, original.translation_kind, True, variant)


# --- The reuse register -----------------------------------------------------------------------


@dataclass
class UseData:
    contracting_authority: str
    tender_title: str
    used_on: date
    reference: str = ""
    lots: str = ""
    product_group: str = ""
    bids_received: int | None = None
    outcome: str | None = None
    lessons: str = ""


def _clean_use(data: UseData) -> UseData:
    def text(value, name, limit, required=False):
        value = " ".join(str(value or "").split()) if limit < 1000 else str(value or "").strip()
        value = value.replace("\x00", "")
        if required and not value:
            raise ValidationFailed(_("Please fill in this field."), field=name)
        if len(value) > limit:
            raise ValidationFailed(
                _("This text is too long: at most %(n)d characters.", n=limit), field=name
            )
        return value

    if not isinstance(data.used_on, date):
        raise ValidationFailed(_("Enter a date."), field="used_on")
    if data.used_on > date.today():
        raise ValidationFailed(_("The date cannot be in the future."), field="used_on")
    if data.used_on.year < 1990:
        raise ValidationFailed(_("Enter a date after 1990."), field="used_on")
    bids = data.bids_received
    if bids is not None:
        if isinstance(bids, bool) or not isinstance(bids, int):
            raise ValidationFailed(_("Enter a whole number."), field="bids_received")
        if bids < 0:
            raise ValidationFailed(_("The number of bids cannot be negative."),
                                   field="bids_received")
        if bids > 100_000:
            raise ValidationFailed(_("Enter a realistic number of bids."), field="bids_received")
    outcome = data.outcome or None
    if outcome is not None and outcome not in {o.value for o in UseOutcome}:
        raise ValidationFailed(_("Please choose one of the options."), field="outcome")
    product_group = (data.product_group or "").strip()
    if product_group and product_group not in PRODUCT_GROUPS:
        raise ValidationFailed(_("Please choose from the list."), field="product_group")
    return UseData(
        contracting_authority=text(data.contracting_authority, "contracting_authority", 200,
                                   required=True),
        tender_title=text(data.tender_title, "tender_title", 300, required=True),
        used_on=data.used_on,
        reference=text(data.reference, "reference", 120),
        lots=text(data.lots, "lots", 200),
        product_group=product_group,
        bids_received=bids,
        outcome=outcome,
        lessons=text(data.lessons, "lessons", 10_000),
    )


def record_use(
    actor: User | None, item: LibraryItem, data: UseData, *, recorded_by: User | None = None,
    seed_key: str | None = None,
) -> ClauseUse:
    """Record that ``item`` was used in a tender (``actor=None``: a trusted caller, such as
    the seed, recording it for ``recorded_by``)."""
    if actor is not None and not permissions.can_record_use(actor, item):
        raise NotFound()
    clean = _clean_use(data)
    use = ClauseUse(
        item=item, recorded_by=recorded_by or actor,
        contracting_authority=clean.contracting_authority,
        tender_title=clean.tender_title, reference=clean.reference, used_on=clean.used_on,
        lots=clean.lots, product_group=clean.product_group, bids_received=clean.bids_received,
        outcome=UseOutcome(clean.outcome) if clean.outcome else None, lessons=clean.lessons,
        seed_key=seed_key,
    )
    db.session.add(use)
    db.session.flush()
    return use


def record_basket_use(actor: User, basket: Basket, data: UseData) -> list:
    """Record the use for every item of the basket the member can see."""
    if not permissions.can_see_basket(actor, basket):
        raise NotFound()
    entries = view_of(basket, actor).exportable
    if not entries:
        raise ValidationFailed(_("This basket has no items to record a use for."))
    _clean_use(data)  # one refusal for the whole basket, before anything is written
    return [record_use(actor, entry.item, data) for entry in entries]


def hide_use(actor: User, use, reason: str) -> None:
    if not permissions.can_hide_use(actor):
        raise NotAllowed(_("Only organisers can hide a use record."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed(_("Please give a reason."), field="reason")
    if len(reason) > 300:
        raise ValidationFailed(
            _("This text is too long: at most %(n)d characters.", n=300), field="reason"
        )
    use.hidden_at = utcnow()
    use.hidden_by_id = actor.id
    use.hidden_reason = reason
    db.session.flush()
    audit.record(AuditAction.use_hidden, actor=actor,
                 target=Target("use", use.id, use.tender_title or ""),
                 details={"reason": reason})


def uses_of(item: LibraryItem, *, include_hidden: bool = False) -> list[ClauseUse]:
    """The item's reuse register, newest first, each with who recorded it (the page names
    them: joined, one each; their languages and expertise are not shown, so not loaded)."""
    query = (
        select(ClauseUse)
        .where(ClauseUse.item_id == item.id)
        .options(joinedload(ClauseUse.recorded_by).lazyload(User.language_links),
                 joinedload(ClauseUse.recorded_by).lazyload(User.expertise_links))
    )
    if not include_hidden:
        query = query.where(ClauseUse.hidden_at.is_(None))
    return list(db.session.scalars(query.order_by(ClauseUse.used_on.desc(), ClauseUse.id.desc())))


def uses_count(item: LibraryItem) -> int:
    return db.session.scalar(
        select(func.count(ClauseUse.id)).where(
            ClauseUse.item_id == item.id, ClauseUse.hidden_at.is_(None)
        )
    ) or 0


def uses_counts(item_ids: list[int]) -> dict[int, int]:
    """Recorded (not hidden) uses per item, in one query."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(ClauseUse.item_id, func.count(ClauseUse.id))
        .where(ClauseUse.item_id.in_(item_ids), ClauseUse.hidden_at.is_(None))
        .group_by(ClauseUse.item_id)
    )
    return {item_id: count for item_id, count in rows}


def use_boosts(item_ids: list[int]) -> dict[int, float]:
    """A mild ranking boost for reused clauses: +10 % for one use, about +25 % for ten."""
    return {i: 0.1 * math.log1p(n) for i, n in uses_counts(item_ids).items()}


def get_use(item: LibraryItem, use_id) -> ClauseUse:
    use = db.session.get(ClauseUse, int(use_id)) if str(use_id).isdigit() else None
    if use is None or use.item_id != item.id:
        raise NotFound()
    return use
