"""``library/*.yaml`` (one item per file) and the files in ``files/`` they attach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.extensions import db
from buyergroup.library import extraction, service, uploads
from buyergroup.library.models import (
    Ambition,
    AmbitionScheme,
    ItemKind,
    ItemRelation,
    ItemStatus,
    LabelScope,
    LibraryItem,
    Phase,
    TranslationKind,
    Visibility,
)
from buyergroup.library.service import ITEM_LANGUAGES
from buyergroup.network.service import get_organisation_by_name
from buyergroup.seeding.common import (
    Entry,
    SeedError,
    SeedReport,
    located,
    parse_yaml,
    refuse_duplicates,
)
from buyergroup.seeding.network import group_named, organisation_named
from buyergroup.vocabulary import COUNTRIES, PRODUCT_GROUPS, THEMES, VERIFICATION

LIBRARY_FOLDER = "library"
FILES_FOLDER = "files"


@dataclass(frozen=True)
class CommentSeed:
    author: str
    body: str


@dataclass(frozen=True)
class ItemSeed:
    where: str
    seed_key: str
    status: ItemStatus
    created_by: str | None
    authors: tuple[str, ...]
    organisation: str | None
    group: str | None
    translation_of: str | None
    translation_kind: TranslationKind | None
    related: tuple[str, ...]
    attachments: tuple[str, ...]
    comments: tuple[CommentSeed, ...]
    fields: dict[str, Any]  # the item's own fields, as create_item takes them


ITEM_TEXT_FIELDS = (
    "title", "summary", "body", "source_url", "licence", "legal_system", "verification_notes",
    "rationale", "approach", "results", "lessons", "challenges", "next_steps", "reference",
)  # fmt: skip
ITEM_KEYS = (
    *ITEM_TEXT_FIELDS, "seed_key", "kind", "language", "status", "visibility", "group",
    "organisation", "authors", "created_by", "year", "product_groups", "themes", "countries",
    "phase", "ambition", "ambition_scheme", "verification", "label_scope", "translation_of",
    "translation_kind", "related", "attachments", "comments",
)  # fmt: skip


def _ambition(entry: Entry) -> Ambition | None:
    raw = entry.data.get("ambition")
    if raw is None:
        return None
    try:
        return Ambition(str(raw))
    except ValueError:
        raise entry.error("ambition", f"expected a level 1, 2 or 3, got {raw!r}") from None


def parse_library(seed_dir: Path) -> tuple[ItemSeed, ...]:
    """``library/*.yaml``: one item per file (see any of them for the fields)."""
    folder = seed_dir / LIBRARY_FOLDER
    if not folder.is_dir():
        return ()
    result = []
    for path in sorted(folder.glob("*.yaml")):
        where = f"{LIBRARY_FOLDER}/{path.name}"
        try:
            raw = parse_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise SeedError(f"{where}: not valid YAML: {error}") from error
        entry = Entry(where, raw, ITEM_KEYS)
        language = entry.text("language", required=True)
        if language not in ITEM_LANGUAGES:
            raise entry.error("language", f"{language!r} is not one of {', '.join(ITEM_LANGUAGES)}")
        status = entry.choice("status", ItemStatus, ItemStatus.draft)
        if status not in (ItemStatus.draft, ItemStatus.submitted, ItemStatus.published):
            raise entry.error("status", "use published, submitted or draft")
        year = entry.data.get("year")
        if year is not None and (not isinstance(year, int) or not 1990 <= year <= 2100):
            raise entry.error("year", f"expected a year, got {year!r}")
        countries = tuple(c.upper() for c in entry.codes("countries"))
        unknown = [c for c in countries if c not in COUNTRIES]
        if unknown:
            raise entry.error("countries", f"unknown country code(s): {', '.join(unknown)}")
        comments_raw = entry.data.get("comments") or []
        if not isinstance(comments_raw, list):
            raise entry.error("comments", "expected a list")
        comments = []
        for number, item in enumerate(comments_raw, start=1):
            comment = Entry(f"{where}: comment {number}", item, ("author", "body"))
            comments.append(CommentSeed(
                author=comment.text("author", required=True).lower(),
                body=comment.text("body", required=True),
            ))
        fields: dict[str, Any] = {name: entry.text(name) for name in ITEM_TEXT_FIELDS}
        if not fields["title"]:
            raise entry.error("title", "is required")
        visibility = entry.choice("visibility", Visibility, Visibility.members)
        group = entry.optional_text("group")
        if visibility is Visibility.group and not group:
            raise entry.error("group", "visibility: group needs the name of a working group")
        fields.update(
            kind=entry.choice("kind", ItemKind, ItemKind.report),
            language=language,
            visibility=visibility,
            year=year,
            product_groups=list(entry.codes("product_groups", PRODUCT_GROUPS)),
            themes=list(entry.codes("themes", THEMES)),
            countries=list(countries),
            verification=list(entry.codes("verification", VERIFICATION)),
            phase=entry.data.get("phase") and entry.choice("phase", Phase, None),
            # The level on the common scale (1, 2, 3) and the scheme that names it.
            ambition=_ambition(entry),
            ambition_scheme=(
                entry.data.get("ambition_scheme")
                and entry.choice("ambition_scheme", AmbitionScheme, None)
            ),
            label_scope=(
                entry.data.get("label_scope") and entry.choice("label_scope", LabelScope, None)
            ),
        )
        translation_of = entry.optional_text("translation_of")
        translation_kind = None
        if translation_of:
            translation_kind = entry.choice("translation_kind", TranslationKind,
                                            TranslationKind.member)
        seed_key = entry.text("seed_key", required=True, max_length=120)
        result.append(ItemSeed(
            where=where,
            seed_key=seed_key,
            status=status,
            created_by=(entry.optional_text("created_by") or "").lower() or None,
            authors=tuple(a.lower() for a in entry.codes("authors")),
            organisation=entry.optional_text("organisation"),
            group=group,
            translation_of=translation_of,
            translation_kind=translation_kind,
            related=entry.codes("related"),
            attachments=entry.codes("attachments"),
            comments=tuple(comments),
            fields=fields,
        ))
    refuse_duplicates(LIBRARY_FOLDER, "seed_key", (i.seed_key for i in result))
    return tuple(result)


def check_references(items: tuple[ItemSeed, ...], seed_dir: Path, *, emails: Iterable[str],
                     organisations: Iterable[str], groups: Iterable[str]) -> None:
    """People, organisations, groups, items and files named by ``items`` exist (in the seed
    files, passed in lower case, or in the database)."""
    emails, organisations, groups = set(emails), set(organisations), set(groups)
    keys = {i.seed_key for i in items}

    def known_key(key: str) -> bool:
        return key in keys or db.session.scalar(
            select(LibraryItem.id).where(LibraryItem.seed_key == key)
        ) is not None

    for item in items:
        people = [("created_by", item.created_by)] if item.created_by else []
        people += [("authors", a) for a in item.authors]
        people += [("comments", c.author) for c in item.comments]
        for key, email in people:
            if email not in emails and get_user_by_email(email) is None:
                raise SeedError(f"{item.where}: {key}: unknown member {email!r}")
        if (item.organisation and item.organisation.lower() not in organisations
                and not get_organisation_by_name(item.organisation)):
            raise SeedError(f"{item.where}: organisation: unknown organisation "
                            f"{item.organisation!r}")
        if item.group and item.group.lower() not in groups and group_named(item.group) is None:
            raise SeedError(f"{item.where}: group: unknown working group {item.group!r}")
        for key in [item.translation_of] if item.translation_of else []:
            if key == item.seed_key or not known_key(key):
                raise SeedError(f"{item.where}: translation_of: unknown item {key!r}")
        for key in item.related:
            if not known_key(key):
                raise SeedError(f"{item.where}: related: unknown item {key!r}")
        for name in item.attachments:
            if "/" in name or "\\" in name or not (seed_dir / FILES_FOLDER / name).is_file():
                raise SeedError(f"{item.where}: attachments: no file {name!r} in "
                                f"{FILES_FOLDER}/")


def _translation_order(items: tuple[ItemSeed, ...]) -> list[ItemSeed]:
    """Originals before their translations (a translation joins an existing item)."""
    by_key = {i.seed_key: i for i in items}
    ordered: list[ItemSeed] = []
    placed: set[str] = set()

    def place(item: ItemSeed, path: tuple[str, ...] = ()) -> None:
        if item.seed_key in placed:
            return
        if item.seed_key in path:
            raise SeedError(f"{item.where}: translation_of goes round in a circle")
        parent = by_key.get(item.translation_of or "")
        if parent is not None:
            place(parent, (*path, item.seed_key))
        ordered.append(item)
        placed.add(item.seed_key)

    for item in items:
        place(item)
    return ordered


def item_by_key(key: str) -> LibraryItem | None:
    return db.session.scalar(select(LibraryItem).where(LibraryItem.seed_key == key))


def load_library(items: tuple[ItemSeed, ...], seed_dir: Path, report: SeedReport) -> None:
    """Items through the library service, files through the upload checks, then relations.

    Attachments are read at once (in the extraction subprocess), so the seeded library is
    searchable as soon as the load is committed.
    """
    for seed in _translation_order(items):
        if item_by_key(seed.seed_key) is not None:
            report.library_items.count(created=False)
            continue
        report.library_items.count(created=True)
        creator = get_user_by_email(seed.created_by) if seed.created_by else None
        stored = []
        for name in seed.attachments:
            with (seed_dir / FILES_FOLDER / name).open("rb") as stream, located(
                f"{seed.where}: attachment {name}"
            ):
                stored.append(uploads.store_upload(stream, name))
        fields = dict(seed.fields)
        fields.update(
            organisation=organisation_named(seed.where, seed.organisation),
            group=group_named(seed.group) if seed.group else None,
            authors=[get_user_by_email(email) for email in seed.authors],
        )
        with located(seed.where):
            item = service.create_item(
                None,
                seed_key=seed.seed_key,
                status=seed.status,
                created_by=creator,
                translation_of=item_by_key(seed.translation_of) if seed.translation_of else None,
                translation_kind=seed.translation_kind,
                files=stored,
                note="Demo content",
                **fields,
            )
        for attachment in item.attachments:
            report.attachments.count(created=True)
            outcome = extraction.extract_file(attachment.stored_name)
            extraction.record(attachment, outcome)
            if not outcome.ok:
                report.unreadable_files.append(f"{attachment.original_name} ({outcome.error})")
        for comment in seed.comments:
            author = get_user_by_email(comment.author)
            with located(f"{seed.where}: comment by {comment.author}"):
                service.add_comment(author, item, comment.body)
            report.comments.count(created=True)
    counted: set[frozenset[int]] = set()
    for seed in items:
        item = item_by_key(seed.seed_key)
        for key in seed.related:
            other = item_by_key(key)
            pair = frozenset((item.id, other.id))
            known = db.session.get(ItemRelation, (item.id, other.id)) is not None
            service.relate(None, item, other)
            if pair not in counted:  # a link listed on both items is one link
                counted.add(pair)
                report.relations.count(created=not known)
