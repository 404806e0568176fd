"""``toolkit.yaml``: the labels register, demo tender baskets and recorded uses of clauses.

Read and checked in full by ``parse_toolkit`` (with the library's seed keys known), loaded
after the library through the labels and toolkit services. Labels and baskets are matched by
name, uses by ``seed_key``: a second load creates nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.extensions import db
from buyergroup.labels import service as labels_service
from buyergroup.labels.models import GenerationStatus, Label, LabelCitation
from buyergroup.library.models import LabelScope, LibraryItem
from buyergroup.seeding.common import Entry, SeedError, SeedReport, Tally, parse_yaml
from buyergroup.toolkit import service as toolkit_service
from buyergroup.toolkit.models import OUTPUT_LANGUAGES, Basket, BasketShare, ClauseUse, UseOutcome
from buyergroup.vocabulary import PRODUCT_GROUPS

FILE = "toolkit.yaml"


@dataclass(frozen=True)
class ToolkitSeed:
    labels: tuple[dict, ...] = ()
    baskets: tuple[dict, ...] = ()
    uses: tuple[dict, ...] = ()


@dataclass
class ToolkitReport:
    labels: Tally
    citations: Tally
    baskets: Tally
    uses: Tally


def _list(entry: Entry, key: str) -> list:
    value = entry.data.get(key) or []
    if not isinstance(value, list):
        raise entry.error(key, "expected a list")
    return value


def _date(entry: Entry, key: str, *, required: bool) -> date | None:
    value = entry.data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, date):
        return value
    raise entry.error(key, f"expected a date (YYYY-MM-DD), got {value!r}")


def parse_toolkit(seed_dir: Path, *, item_keys: set[str], emails: set[str]) -> ToolkitSeed:
    path = seed_dir / FILE
    if not path.is_file():
        return ToolkitSeed()
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SeedError(f"{FILE}: not valid YAML: {error}") from error
    root = Entry(FILE, raw, ("labels", "baskets", "uses"))

    def known_item(where: Entry, key: str) -> str:
        value = where.text(key, required=True)
        if value not in item_keys and db.session.scalar(
                select(LibraryItem.id).where(LibraryItem.seed_key == value)) is None:
            raise where.error(key, f"unknown library item {value!r}")
        return value

    def known_member(where: Entry, key: str) -> str:
        value = where.text(key, required=True).lower()
        if value not in emails and get_user_by_email(value) is None:
            raise where.error(key, f"unknown member {value!r}")
        return value

    labels = []
    for n, raw_label in enumerate(_list(root, "labels"), start=1):
        entry = Entry(f"{FILE}: label {n}", raw_label,
                      ("name", "issuer", "scope", "product_groups", "url", "generations",
                       "cited_by"))
        generations = []
        for m, raw_generation in enumerate(_list(entry, "generations"), start=1):
            g = Entry(f"{entry.where}: generation {m}", raw_generation,
                      ("name", "published_on", "status", "url"))
            generations.append({
                "name": g.text("name", required=True),
                "published_on": _date(g, "published_on", required=False),
                "status": g.choice("status", GenerationStatus, GenerationStatus.current).value,
                "url": g.text("url"),
            })
        names = {g["name"] for g in generations}
        cited = []
        for m, raw_citation in enumerate(_list(entry, "cited_by"), start=1):
            c = Entry(f"{entry.where}: cited_by {m}", raw_citation, ("item", "generation"))
            generation = c.text("generation", required=True)
            if generation not in names:
                raise c.error("generation", f"not a generation of this label: {generation!r}")
            cited.append({"item": known_item(c, "item"), "generation": generation})
        scope = entry.data.get("scope") and entry.choice("scope", LabelScope, None)
        labels.append({
            "name": entry.text("name", required=True),
            "issuer": entry.text("issuer"),
            "scope": scope.value if scope else None,
            "product_groups": list(entry.codes("product_groups", PRODUCT_GROUPS)),
            "url": entry.text("url"),
            "generations": generations,
            "cited_by": cited,
        })

    baskets = []
    for n, raw_basket in enumerate(_list(root, "baskets"), start=1):
        entry = Entry(f"{FILE}: basket {n}", raw_basket,
                      ("owner", "name", "language", "share", "group", "editable", "items"))
        language = entry.text("language") or "en"
        if language not in OUTPUT_LANGUAGES:
            raise entry.error("language", f"use one of {', '.join(OUTPUT_LANGUAGES)}")
        items = []
        for m, raw_item in enumerate(_list(entry, "items"), start=1):
            i = Entry(f"{entry.where}: item {m}", raw_item, ("item", "note"))
            items.append({"item": known_item(i, "item"), "note": i.text("note")})
        baskets.append({
            "owner": known_member(entry, "owner"),
            "name": entry.text("name", required=True),
            "language": language,
            "share": entry.choice("share", BasketShare, BasketShare.private).value,
            "group": entry.optional_text("group"),
            "editable": bool(entry.data.get("editable")),
            "items": items,
        })

    uses = []
    for n, raw_use in enumerate(_list(root, "uses"), start=1):
        entry = Entry(f"{FILE}: use {n}", raw_use,
                      ("seed_key", "item", "recorded_by", "contracting_authority",
                       "tender_title", "reference", "date", "lots", "product_group",
                       "bids_received", "outcome", "lessons"))
        bids = entry.data.get("bids_received")
        if bids is not None and (not isinstance(bids, int) or bids < 0):
            raise entry.error("bids_received", "expected a number of 0 or more")
        outcome = entry.data.get("outcome") and entry.choice("outcome", UseOutcome, None)
        uses.append({
            "seed_key": entry.text("seed_key", required=True),
            "item": known_item(entry, "item"),
            "recorded_by": known_member(entry, "recorded_by"),
            "data": toolkit_service.UseData(
                contracting_authority=entry.text("contracting_authority", required=True),
                tender_title=entry.text("tender_title", required=True),
                used_on=_date(entry, "date", required=True),
                reference=entry.text("reference"),
                lots=entry.text("lots"),
                product_group=entry.text("product_group"),
                bids_received=bids,
                outcome=outcome.value if outcome else None,
                lessons=entry.text("lessons"),
            ),
        })
    return ToolkitSeed(labels=tuple(labels), baskets=tuple(baskets), uses=tuple(uses))


def _item(key: str) -> LibraryItem:
    return db.session.scalar(select(LibraryItem).where(LibraryItem.seed_key == key))


def load_toolkit(data: ToolkitSeed, report: SeedReport) -> ToolkitReport:
    tallies = ToolkitReport(Tally(), Tally(), Tally(), Tally())
    for seed in data.labels:
        label = db.session.scalar(select(Label).where(Label.name == seed["name"]))
        tallies.labels.count(created=label is None)
        if label is None:
            label = labels_service.save_label(
                None, name=seed["name"], issuer=seed["issuer"], scope=seed["scope"],
                product_groups=seed["product_groups"], url=seed["url"])
            for g in seed["generations"]:
                labels_service.save_generation(None, label, name=g["name"],
                                               published_on=g["published_on"],
                                               status=g["status"], url=g["url"])
            db.session.refresh(label)
        by_name = {g.name: g for g in label.generations}
        for citation in seed["cited_by"]:
            item, generation = _item(citation["item"]), by_name.get(citation["generation"])
            if generation is None:
                continue
            present = db.session.get(LabelCitation, (item.id, generation.id))
            tallies.citations.count(created=present is None)
            if present is None:
                db.session.add(LabelCitation(item_id=item.id, generation_id=generation.id))
    db.session.flush()
    if data.labels:
        # The demo shows its alert at once (without mailing the demo's authors).
        labels_service.flag_stale_citations(notify=False)

    for seed in data.baskets:
        owner = get_user_by_email(seed["owner"])
        basket = db.session.scalar(
            select(Basket).where(Basket.owner_id == owner.id, Basket.name == seed["name"]))
        tallies.baskets.count(created=basket is None)
        if basket is not None:
            continue
        basket = toolkit_service.create_basket(owner, seed["name"], language=seed["language"])
        for entry in seed["items"]:
            added = toolkit_service.add_item(owner, basket, _item(entry["item"]).id)
            if entry["note"]:
                toolkit_service.set_note(owner, basket, added, entry["note"])
        if seed["share"] != "private":
            from buyergroup.seeding.network import group_named

            group = group_named(seed["group"]) if seed["group"] else None
            toolkit_service.update_basket(owner, basket, share=seed["share"], group=group,
                                          editable=seed["editable"])

    for seed in data.uses:
        present = db.session.scalar(select(ClauseUse.id).where(
            ClauseUse.seed_key == seed["seed_key"]))
        tallies.uses.count(created=present is None)
        if present is None:
            toolkit_service.record_use(None, _item(seed["item"]), seed["data"],
                                       recorded_by=get_user_by_email(seed["recorded_by"]),
                                       seed_key=seed["seed_key"])
    db.session.flush()
    return tallies


def summary(tallies: ToolkitReport) -> list[str]:
    return [
        f"{kind:<14} {tally.created:>3} created, {tally.existing:>3} already there"
        for kind, tally in (("labels", tallies.labels), ("citations", tallies.citations),
                            ("baskets", tallies.baskets), ("recorded uses", tallies.uses))
    ]

