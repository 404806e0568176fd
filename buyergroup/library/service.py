"""Library operations: saving items and their versions, review, translations, comments.

Functions flush but never commit: the request (or CLI command) owns the transaction. Every
write checks its actor against ``library.permissions``, so a view or API endpoint that
forgets a check still cannot let a member publish or change someone else's item. The
content fields come from ``library.fields``. ``actor=None`` is reserved for trusted
callers (the seed loader).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from buyergroup import signals
from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.service import with_listed_accounts
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction
from buyergroup.audit.service import Target
from buyergroup.database import keep_until_flush, kept_until_flush, utcnow
from buyergroup.errors import NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library import fields as library_fields
from buyergroup.library import uploads
from buyergroup.library.models import (
    Attachment,
    Comment,
    ItemAuthor,
    ItemKind,
    ItemRelation,
    ItemStatus,
    ItemTag,
    ItemVersion,
    LibraryItem,
    TranslationKind,
    Visibility,
    version_note,
)
from buyergroup.library.permissions import (
    active_group_ids,
    can_comment,
    can_edit,
    can_link_translations,
    can_mark_official,
    can_moderate_comments,
    can_publish,
    can_restore_version,
    can_review,
    can_see,
    can_share_with_group,
    can_submit,
    can_translate,
    is_author,
    is_moderator,
    version_visible,
)
from buyergroup.mail.service import queue_email
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.vocabulary import SPOKEN_LANGUAGES

# Languages an item may be written in. The search index has stemmers for en, nl, fr and de;
# other languages are indexed without stemming.
ITEM_LANGUAGES: tuple[str, ...] = SPOKEN_LANGUAGES

# The described content fields (``library.fields``) and those with their own rules.
OWN_RULE_FIELDS = ("kind", "language", "visibility", "group", "organisation", "authors")


def item_field_names() -> tuple[str, ...]:
    """What ``create_item`` and ``update_item`` accept as fields."""
    return (*OWN_RULE_FIELDS, *library_fields.names())


def snapshot_field_names() -> tuple[str, ...]:
    """What a version snapshot records, in the order the history names changes.

    The status, visibility and group are always recorded: they are the audience a version
    was saved for (``permissions.version_visible``).
    """
    described = [name for name in library_fields.names() if name != "title"]
    return (
        "title", "kind", "language", "status", "visibility", "group_id", *described,
        "organisation_id", "authors", "translation_kind", "attachments",
    )  # fmt: skip


# --- Loading -----------------------------------------------------------------------------------


def get_item(
    item_id: int, user: User | None, *, edit: bool = False, review: bool = False
) -> LibraryItem:
    """The one loader for item pages, downloads and the API: 404 unless ``user`` may see it.

    ``edit`` also requires the right to change it, ``review`` the right to publish it; both
    answer 403 (the user can see the item, so its existence is no secret to them).
    """
    # With its tags and authors (every caller shows or checks them; an item has a few of
    # each, so the joined rows stay few), its group and its organisation: one statement.
    item = db.session.get(LibraryItem, item_id, options=[
        joinedload(LibraryItem.tags), joinedload(LibraryItem.authors),
        joinedload(LibraryItem.group), joinedload(LibraryItem.organisation)])
    if item is None or not can_see(user, item):
        raise NotFound()
    if edit and not can_edit(user, item):
        raise NotAllowed(_("You cannot change this item."))
    if review and not can_review(user):
        raise NotAllowed(_("Only organisers can review library items."))
    return item


def visible_items_query(user: User | None):
    """Published items ``user`` may see, for lists that do not go through the search index."""
    query = select(LibraryItem).where(LibraryItem.status == ItemStatus.published)
    if is_moderator(user):
        return query
    allowed = [LibraryItem.visibility == Visibility.public]
    if is_signed_in(user):
        allowed.append(LibraryItem.visibility == Visibility.members)
        groups = active_group_ids(user)
        if groups:
            allowed.append(
                (LibraryItem.visibility == Visibility.group) & LibraryItem.group_id.in_(groups)
            )
    return query.where(or_(*allowed))


# --- Saving items and their versions --------------------------------------------------------


def snapshot(item: LibraryItem) -> dict:
    """The item's fields as plain JSON values, for versions and for comparing."""
    described = library_fields.by_name()
    data: dict = {}
    for name in snapshot_field_names():
        if name in described:
            value = described[name].plain(item)
        elif name == "authors":
            value = [a.name for a in item.authors]
        elif name == "attachments":
            value = [a.original_name for a in item.attachments]
        else:
            value = getattr(item, name)
        if hasattr(value, "value"):
            value = value.value
        data[name] = value
    return data


def _next_version_number(item: LibraryItem) -> int:
    if item.id is None:
        return 1
    latest = db.session.scalar(
        select(func.max(ItemVersion.number)).where(ItemVersion.item_id == item.id)
    )
    return (latest or 0) + 1


def record_version(
    item: LibraryItem, editor: User | None, note: str = "", previous: dict | None = None
) -> ItemVersion | None:
    """Write a version if anything changed since ``previous`` (None: the first version)."""
    data = snapshot(item)
    if previous is None:
        changed = [k for k, v in data.items() if v not in (None, "", [])]
    else:
        changed = [k for k in data if previous.get(k) != data[k]]
        if not changed:
            return None
    version = ItemVersion(
        number=_next_version_number(item),
        data_json=json.dumps(data, ensure_ascii=False, sort_keys=True),
        changed_fields=" ".join(changed),
        note=(note or "").strip()[:300],
        editor_id=editor.id if editor is not None else None,
    )
    item.versions.append(version)
    db.session.flush()
    return version


def version_data(version: ItemVersion) -> dict:
    return json.loads(version.data_json)


def all_versions(item: LibraryItem) -> list[ItemVersion]:
    """Every version of the item, newest first, with its editor (whoever may read them).

    The editor is joined (one each) without their languages and expertise, which the
    history does not show: a selectin load took three statements more once the editors
    were members not yet loaded by the request."""
    return list(db.session.scalars(_versions_statement(), {"item_id": item.id}))


# The item page's statements are built once, at first use (the mappers must be complete),
# and run with the item's id as a parameter: building one was one to two thirds of its
# time, on every item page (issue 12).
@functools.cache
def _versions_statement():
    return (
        select(ItemVersion)
        .options(joinedload(ItemVersion.editor).lazyload(User.language_links),
                 joinedload(ItemVersion.editor).lazyload(User.expertise_links))
        .where(ItemVersion.item_id == bindparam("item_id", type_=ItemVersion.item_id.type))
        .order_by(ItemVersion.number.desc())
    )


def visible_versions(item: LibraryItem, user: User | None,
                     history: list[ItemVersion] | None = None) -> list[ItemVersion]:
    """The item's versions, newest first, that ``user`` may read (see
    ``permissions.version_visible``: each version keeps the audience it was saved for).
    ``history``: ``all_versions(item)`` when the caller has it already."""
    versions = all_versions(item) if history is None else history
    group_ids = active_group_ids(user)
    return [
        v for v in versions
        if version_visible(user, item, version_data(v), group_ids=group_ids)
    ]


def get_version(item: LibraryItem, number: int, user: User | None) -> ItemVersion:
    """One version of an item ``user`` can see; 404 when it was saved for others."""
    version = db.session.scalar(
        select(ItemVersion).where(ItemVersion.item_id == item.id, ItemVersion.number == number)
    )
    if version is None or not version_visible(user, item, version_data(version)):
        raise NotFound()
    return version


# Snapshot values of the fields with their own rules that are enum codes.
SNAPSHOT_ENUMS = {
    "kind": ItemKind, "status": ItemStatus, "visibility": Visibility,
    "translation_kind": TranslationKind,
}  # fmt: skip


def snapshot_label(name: str, code: str | None) -> str:
    """The translated label of a snapshot's enum code ("kind", "clause" -> "Contract clause")."""
    described = library_fields.by_name().get(name)
    if described is not None:
        return described.display(code)
    enum_class = SNAPSHOT_ENUMS.get(name)
    if enum_class is None or code is None:
        return code or ""
    try:
        return enum_class(code).label
    except ValueError:
        return code  # a value no longer offered: shown as stored


@dataclass(frozen=True)
class AuthorName:
    """An author by name, with the member account when there is one."""

    name: str
    user: User | None = None


def _clean_text(f: library_fields.Field, raw) -> str:
    value = "" if raw is None else str(raw)
    # Text from forms arrives with \r\n; a NUL cannot be stored in PostgreSQL text.
    value = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if f.max_length and len(value) > f.max_length:
        raise ValidationFailed(
            _("This text is too long: at most %(n)d characters.", n=f.max_length), field=f.name
        )
    if f.type == library_fields.URL and value and not value.startswith(("http://", "https://")):
        raise ValidationFailed(_("Enter a web address starting with https://"), field=f.name)
    return value


def _clean_year(f: library_fields.Field, raw) -> int | None:
    if raw in (None, ""):
        return None
    try:
        year = int(raw)
    except (TypeError, ValueError):
        year = -1
    last = library_fields.last_year()
    if not library_fields.FIRST_YEAR <= year <= last:
        raise ValidationFailed(_("Enter a year between 1990 and %(last)d.", last=last),
                               field=f.name)
    return year


def _set_field(item: LibraryItem, f: library_fields.Field, raw) -> None:
    """Clean one described field's value and store it on the item."""
    if f.type in library_fields.TEXT_TYPES:
        setattr(item, f.name, _clean_text(f, raw))
    elif f.type == library_fields.YEAR:
        setattr(item, f.name, _clean_year(f, raw))
    elif f.type == library_fields.CHOICE:
        setattr(item, f.name, _enum_value(f.enum, raw, f.name))
    elif f.type == library_fields.CODES:
        codes = [str(c) for c in raw or []]
        allowed = f.codes()
        if any(c not in allowed for c in codes):
            raise ValidationFailed(_("Please choose from the list."), field=f.name)
        item.set_codes(f.facet, codes)
    else:  # a new type must say how it is cleaned
        raise TypeError(f"no cleaning for field type {f.type!r}")


def _clear_field(item: LibraryItem, f: library_fields.Field) -> None:
    if f.type == library_fields.CODES:
        item.set_codes(f.facet, [])
    else:
        setattr(item, f.name, f.empty())


def _enum_value(enum_class, raw, field: str):
    if raw in (None, ""):
        return None
    if isinstance(raw, enum_class):
        return raw
    try:
        return enum_class(raw)
    except ValueError:
        raise ValidationFailed(_("Please choose one of the options."), field=field) from None


def _apply_fields(actor: User | None, item: LibraryItem, fields: dict) -> None:
    unknown = set(fields) - set(item_field_names())
    if unknown:
        raise TypeError(f"not library item fields: {sorted(unknown)}")
    if "kind" in fields:
        kind = _enum_value(ItemKind, fields["kind"], "kind")
        if kind is None:
            raise ValidationFailed(_("Please choose what kind of item this is."), field="kind")
        item.kind = kind
    if item.kind is None:
        raise ValidationFailed(_("Please choose what kind of item this is."), field="kind")
    for f in library_fields.FIELDS:
        if f.name in fields:
            _set_field(item, f, fields[f.name])
    for f in library_fields.FIELDS:
        if f.required and not library_fields.filled(f.plain(item)):
            raise ValidationFailed(
                _("Please give the item a title.") if f.name == "title"
                else _("Please fill in this field."),
                field=f.name,
            )
    for f in library_fields.FIELDS:
        if f.check is not None and f.applies_to(item.kind) and (problem := f.check(item)):
            raise ValidationFailed(str(problem), field=f.name)
    if "language" in fields:
        if fields["language"] not in ITEM_LANGUAGES:
            raise ValidationFailed(_("Please choose the language of the text."), field="language")
        item.language = fields["language"]
    if not item.language:
        raise ValidationFailed(_("Please choose the language of the text."), field="language")
    if "organisation" in fields:
        organisation = fields["organisation"]
        if organisation is not None and not isinstance(organisation, Organisation):
            raise TypeError("organisation must be an Organisation or None")
        item.organisation = organisation
    if "authors" in fields:
        _set_authors(item, fields["authors"] or [])
    if "visibility" in fields or "group" in fields:
        _apply_visibility(actor, item, fields)
    # Clear what the chosen kind does not have, so a kind changed from "clause" to "case
    # study" leaves no hidden clause text to be indexed.
    for f in library_fields.FIELDS:
        if not f.applies_to(item.kind):
            _clear_field(item, f)


def _apply_visibility(actor: User | None, item: LibraryItem, fields: dict) -> None:
    """Who may see the item, and the working group it comes from (if any).

    Any item may name its working group (it is then listed on the group's page); with
    visibility "group" only that group's members see it.
    """
    visibility = _enum_value(
        Visibility, fields.get("visibility", item.visibility), "visibility"
    ) or Visibility.members
    group = fields.get("group", item.group)
    if group is not None and not isinstance(group, WorkingGroup):
        raise TypeError("group must be a WorkingGroup or None")
    if visibility is Visibility.group and group is None:
        raise ValidationFailed(
            _("Choose the working group that may see this item."), field="group"
        )
    if (
        group is not None
        and group is not item.group
        and actor is not None
        and not can_share_with_group(actor, group.id)
    ):
        raise ValidationFailed(
            _("You can only share items with a working group you belong to."), field="group"
        )
    item.visibility = visibility
    item.group = group


def _set_authors(item: LibraryItem, authors: Iterable) -> None:
    wanted: list[AuthorName] = []
    for author in authors:
        if isinstance(author, User):
            author = AuthorName(author.name, author)
        elif isinstance(author, str):
            author = AuthorName(author.strip())
        if author.name and author.name.lower() not in {w.name.lower() for w in wanted}:
            wanted.append(AuthorName(author.name[:160], author.user))
    existing = {a.name.lower(): a for a in item.authors}
    item.authors[:] = []
    for position, author in enumerate(wanted):
        row = existing.get(author.name.lower()) or ItemAuthor(name=author.name)
        row.name = author.name
        row.position = position
        if author.user is not None:
            row.user = author.user
        item.authors.append(row)


def create_item(
    actor: User | None,
    *,
    status: ItemStatus | str = ItemStatus.draft,
    translation_of: LibraryItem | None = None,
    translation_kind: TranslationKind | str | None = None,
    seed_key: str | None = None,
    note: str = "",
    files: Iterable = (),
    created_by: User | None = None,
    **fields,
) -> LibraryItem:
    """Create an item as a draft (members) or in any state (organisers and trusted callers).

    With ``translation_of``, the new item joins that item's translations; a member's
    translation is marked as such, only an organiser may call it official. ``created_by``
    is for trusted callers (the seed) only; otherwise the actor is the creator.
    """
    status = ItemStatus(getattr(status, "value", status))
    if status not in (ItemStatus.draft, ItemStatus.submitted, ItemStatus.published):
        raise ValueError(f"a new item cannot start as {status.value}")
    if status is ItemStatus.published and actor is not None and not can_publish(actor):
        raise NotAllowed(_("Only organisers can publish library items."))
    item = LibraryItem(
        status=ItemStatus.draft,
        visibility=Visibility.members,
        translation_key=str(uuid.uuid4()),
        translation_kind=TranslationKind.original,
        created_by=actor if actor is not None else created_by,
        seed_key=seed_key,
    )
    fields.setdefault("authors", [actor] if actor is not None else [])
    _apply_fields(actor, item, fields)
    if translation_of is not None:
        _join_translations(actor, item, translation_of, translation_kind)
    db.session.add(item)
    for stored in files:
        _attach(actor, item, stored)
    db.session.flush()
    record_version(item, actor, note or version_note("created"))
    if status is ItemStatus.submitted:
        submit(actor, item)
    elif status is ItemStatus.published:
        publish(actor, item)
    return item


def update_item(
    actor: User | None,
    item: LibraryItem,
    *,
    note: str = "",
    files: Iterable = (),
    remove_attachments: Iterable[int] = (),
    **fields,
) -> list[str]:
    """Change an item's fields and files and record one version for it all.

    ``files`` are ``uploads.StoredFile``s already on disk; ``remove_attachments`` are
    attachment ids. Returns the stored names of removed files, which are deleted from disk
    once the change is committed.
    """
    if actor is not None and not can_edit(actor, item):
        raise NotAllowed(_("You cannot change this item."))
    return _update(actor, item, note=note, files=files, remove_attachments=remove_attachments,
                   fields=fields)


def _update(actor: User | None, item: LibraryItem, *, note: str, files: Iterable,
            remove_attachments: Iterable[int], fields: dict) -> list[str]:
    """``update_item`` once the caller has checked that ``actor`` may make this change."""
    before = snapshot(item)
    _apply_fields(actor, item, fields)
    removed = []
    for attachment_id in remove_attachments:
        attachment = get_attachment(item, int(attachment_id))
        removed.append(attachment.stored_name)
        item.attachments.remove(attachment)
    for stored in files:
        _attach(actor, item, stored)
    db.session.flush()
    version = record_version(item, actor, note, previous=before)
    if version is not None and item.is_published:
        signals.item_version_added.send(item, actor=actor, version=version)
    # The files go once the removal is committed; a rollback keeps them with their rows.
    uploads.delete_after_commit(removed)
    return removed


# --- Restoring an old version -----------------------------------------------------------------

# Ambition codes of versions saved before the common scale (EU GPP words).
OLD_AMBITION = {"core": "1", "comprehensive": "2"}


def restorable_fields(data: dict, item: LibraryItem) -> dict:
    """What restoring a version (its snapshot ``data``) writes: its kind and the content
    fields of that kind. The audience (status, visibility, group), the authors and the
    files are not the text and stay as they are now."""
    kind = data.get("kind") or item.kind.value
    fields: dict = {}
    if kind in ItemKind.__members__:
        fields["kind"] = kind
    for f in library_fields.fields_for(kind):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "ambition":
            value = OLD_AMBITION.get(value, value)
        if f.name == "ambition_scheme" and value is None and data.get("ambition") in OLD_AMBITION:
            value = "eu_gpp"
        fields[f.name] = value
    return fields


def _empty_as_none(value):
    return None if value in (None, "", []) else value


def _text_key(fields: dict) -> str:
    """A text's identity: its filled fields (a field a version predates counts as empty)."""
    filled = {name: value for name, value in fields.items() if _empty_as_none(value) is not None}
    return json.dumps(filled, ensure_ascii=False, sort_keys=True, default=str)


def _changes(fields: dict, item: LibraryItem) -> bool:
    """Whether writing ``fields`` would change the item's text."""
    now = restorable_fields(snapshot(item), item)
    return any(_empty_as_none(now.get(name)) != _empty_as_none(value)
               for name, value in fields.items())


def _published_texts(item: LibraryItem, versions: Iterable[ItemVersion]) -> set[str]:
    """The texts this item had while it was published (versions saved with that status)."""
    keys = set()
    for version in versions:
        data = version_data(version)
        if data.get("status") == ItemStatus.published.value:
            keys.add(_text_key(restorable_fields(data, item)))
    return keys


def restorable_versions(item: LibraryItem, user: User | None,
                        versions: Iterable[ItemVersion] | None = None,
                        history: list[ItemVersion] | None = None) -> set[int]:
    """The numbers of the versions (of ``versions``, those ``user`` sees) that ``user`` may
    restore and whose text differs from the item's now: where the history offers Restore
    (once per text: the newest version that has it)."""
    if not is_signed_in(user) or not (is_moderator(user) or is_author(user, item)):
        return set()
    if history is None:
        history = all_versions(item)
    if versions is None:
        versions = visible_versions(item, user, history)
    published = _published_texts(item, history)
    numbers, offered = set(), set()
    for version in sorted(versions, key=lambda v: -v.number):
        fields = restorable_fields(version_data(version), item)
        key = _text_key(fields)
        if key in offered:
            continue  # the same text as a newer version (say, the draft it was published as)
        if _changes(fields, item) and can_restore_version(
                user, item, text_was_published=key in published):
            numbers.add(version.number)
            offered.add(key)
    return numbers


def restore_version(actor: User | None, item: LibraryItem, number: int) -> bool:
    """Save version ``number``'s text as the newest version (``permissions.
    can_restore_version`` says who may). False when it is the current text already, so
    nothing new was saved. On a published item the new version is published at once and
    announced like any edit (``item_version_added``)."""
    if actor is not None and not can_restore_version(actor, item, text_was_published=True):
        raise NotAllowed(_("You cannot change this item."))  # whichever version it is
    version = get_version(item, number, actor)
    fields = restorable_fields(version_data(version), item)
    published = _published_texts(item, all_versions(item))
    if actor is not None and not can_restore_version(
        actor, item, text_was_published=_text_key(fields) in published
    ):
        raise NotAllowed(_(
            "Version %(n)d was never published, so restoring it would skip the review. "
            "Ask an organiser to restore it, or restore a version that was published.",
            n=number))
    if not _changes(fields, item):
        return False
    newest = max(v.number for v in item.versions)
    _update(actor, item, note=version_note("restored", number), files=(),
            remove_attachments=(), fields=fields)
    return max(v.number for v in item.versions) != newest


# --- Review -----------------------------------------------------------------------------------


def submit(actor: User | None, item: LibraryItem) -> None:
    """The author sends a draft (or a returned item) to the review queue."""
    if actor is not None and not can_submit(actor, item):
        raise NotAllowed(_("Only the authors of a draft can submit it for review."))
    if item.status not in (ItemStatus.draft, ItemStatus.returned):
        return  # already submitted or published: submitting twice changes nothing
    before = snapshot(item)
    item.status = ItemStatus.submitted
    item.submitted_at = utcnow()
    db.session.flush()
    record_version(item, actor, version_note("submitted"), previous=before)
    signals.item_submitted.send(item, actor=actor)


def publish(actor: User | None, item: LibraryItem) -> None:
    """An organiser publishes an item; its author is told (in their language)."""
    if actor is not None and not can_publish(actor):
        raise NotAllowed(_("Only organisers can publish library items."))
    if item.status is ItemStatus.published:
        return
    before = snapshot(item)
    item.status = ItemStatus.published
    item.published_at = item.published_at or utcnow()
    item.reviewed_by = actor
    item.review_note = ""
    db.session.flush()
    record_version(item, actor, version_note("published"), previous=before)
    if actor is not None:  # None: the seed loader, not a decision anyone made
        audit.record(AuditAction.item_published, actor=actor, target=item)
    _tell_author(actor, item, "library_published")
    signals.item_published.send(item, actor=actor)
    if item.translation_kind is not TranslationKind.original:
        original = db.session.scalar(select(LibraryItem).where(
            LibraryItem.translation_key == item.translation_key,
            LibraryItem.translation_kind == TranslationKind.original))
        if original is not None:
            signals.item_translation_added.send(original, actor=actor, translation=item)


def return_to_author(actor: User, item: LibraryItem, reason: str) -> None:
    """Send an item back to its author with the reason; they can change it and resubmit."""
    if not can_review(actor):
        raise NotAllowed(_("Only organisers can review library items."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Please tell the author what to change before they resubmit."), field="reason"
        )
    if len(reason) > 2000:
        raise ValidationFailed(_("Please keep the reason under 2000 characters."), field="reason")
    if item.status not in (ItemStatus.submitted, ItemStatus.draft):
        raise ValidationFailed(_("Only items waiting for review can be returned."))
    before = snapshot(item)
    item.status = ItemStatus.returned
    item.reviewed_by = actor
    item.review_note = reason
    db.session.flush()
    record_version(item, actor, version_note("returned"), previous=before)
    audit.record(AuditAction.item_returned, actor=actor, target=item, details={"reason": reason})
    _tell_author(actor, item, "library_returned", reason=reason)


def _tell_author(actor: User | None, item: LibraryItem, template: str, **context) -> None:
    author = item.created_by
    # Trusted callers (actor None: the seed loader) change nothing a person needs to hear of.
    if actor is None or author is None or not author.is_active or author.id == actor.id:
        return
    queue_email(
        author.email,
        template,
        locale=author.locale or "en",
        item=item,
        author=author,
        reviewer=actor,
        **context,
    )


def review_queue():
    """The items waiting for review, each with who submitted it (the lists name them)."""
    return (
        select(LibraryItem)
        .where(LibraryItem.status == ItemStatus.submitted)
        .options(with_listed_accounts(joinedload(LibraryItem.created_by)))
        .order_by(LibraryItem.submitted_at, LibraryItem.id)
    )


def items_of(user: User):
    """Everything ``user`` created or is an author of, newest change first."""
    authored = select(ItemAuthor.item_id).where(ItemAuthor.user_id == user.id)
    return (
        select(LibraryItem)
        .where(or_(LibraryItem.created_by_id == user.id, LibraryItem.id.in_(authored)))
        .options(joinedload(LibraryItem.organisation))  # the list names each item's
        .order_by(LibraryItem.updated_at.desc(), LibraryItem.id.desc())
    )


# --- Translations -----------------------------------------------------------------------------


def translations_of(item: LibraryItem, user: User | None) -> list[LibraryItem]:
    """The other language versions of ``item`` that ``user`` may see, by language."""
    return neighbours(item, user).translations


def translated_languages(
    item: LibraryItem, user: User | None, *, leave_out: LibraryItem | None = None
) -> set[str]:
    """The languages ``item``'s translation group has in versions ``user`` may see.

    A version in a language is one too many only if its translator can know of it: a
    member who may not see a translation (another member's draft, a group-only version)
    learns nothing of it, neither from the languages offered nor from a refusal. Their
    translation goes to review like any other; the moderators, who see every version,
    decide. ``user=None`` (a trusted caller) counts every version.
    """
    versions = db.session.scalars(
        select(LibraryItem).where(LibraryItem.translation_key == item.translation_key)
    ).all()
    if leave_out is not None and leave_out.id is not None:
        versions = [v for v in versions if v.id != leave_out.id]
    if user is None:
        return {v.language for v in versions}
    group_ids = active_group_ids(user)
    return {v.language for v in versions if can_see(user, v, group_ids=group_ids)}


def _join_translations(
    actor: User | None,
    item: LibraryItem,
    original: LibraryItem,
    kind: TranslationKind | str | None,
) -> None:
    kind = TranslationKind(getattr(kind, "value", kind)) if kind else TranslationKind.member
    if kind is TranslationKind.original:
        kind = TranslationKind.member
    if kind is TranslationKind.official and actor is not None and not can_mark_official(actor):
        raise NotAllowed(_("Only organisers can mark a translation as official."))
    if item.language in translated_languages(original, actor, leave_out=item):
        raise ValidationFailed(
            _("This item already has a version in that language."), field="language"
        )
    item.translation_key = original.translation_key
    item.translation_kind = kind


def translation_defaults() -> tuple[str, ...]:
    """What a translation takes from the original unless the translator says otherwise."""
    copied = [f.name for f in library_fields.FIELDS if f.copied_to_translations]
    return ("kind", "visibility", "group", "organisation", *copied)


def add_translation(
    actor: User, original: LibraryItem, *, translation_kind: str | None = None, **fields
) -> LibraryItem:
    """A member translates an item they can see: a new draft in the same translation group."""
    if not can_translate(actor, original):
        raise NotFound()
    # What is not about the wording is the original's unless the translator says otherwise.
    for name in translation_defaults():
        if name not in fields:
            value = getattr(original, name)
            fields[name] = list(value) if isinstance(value, list) else value
    return create_item(
        actor,
        translation_of=original,
        translation_kind=translation_kind or TranslationKind.member,
        note=version_note("translation_of", original.id),
        **fields,
    )


def link_translation(
    actor: User | None, item: LibraryItem, original: LibraryItem, kind: str | None = None
) -> None:
    """Organisers link an existing item as a translation of another (for example an
    official translation that was uploaded separately)."""
    if actor is not None and not can_link_translations(actor):
        raise NotAllowed(_("Only organisers can link translations."))
    if item.translation_key == original.translation_key:
        if kind:
            set_translation_kind(actor, item, kind)
        return
    before = snapshot(item)
    _join_translations(actor, item, original, kind)
    db.session.flush()
    record_version(item, actor, version_note("linked"), previous=before)


def set_translation_kind(actor: User | None, item: LibraryItem, kind: str) -> None:
    """Mark a translation as official or as a member translation (organisers only)."""
    if actor is not None and not can_mark_official(actor):
        raise NotAllowed(_("Only organisers can mark a translation as official."))
    kind = TranslationKind(getattr(kind, "value", kind))
    if item.translation_kind is TranslationKind.original or kind is TranslationKind.original:
        raise ValidationFailed(_("The original version cannot be marked as a translation."))
    before = snapshot(item)
    item.translation_kind = kind
    db.session.flush()
    record_version(item, actor, previous=before)


# --- Related items ----------------------------------------------------------------------------


def relate(actor: User | None, item: LibraryItem, other: LibraryItem) -> None:
    """"See also" in both directions; relating twice changes nothing."""
    if actor is not None and not (can_edit(actor, item) and can_see(actor, other)):
        raise NotAllowed()
    if item.id == other.id:
        return
    for a, b in ((item.id, other.id), (other.id, item.id)):
        if db.session.get(ItemRelation, (a, b)) is None:
            db.session.add(ItemRelation(item_id=a, related_id=b))
    db.session.flush()


def related_items(item: LibraryItem, user: User | None) -> list[LibraryItem]:
    return neighbours(item, user).related


@dataclass(frozen=True)
class Neighbours:
    translations: list[LibraryItem]  # by language
    related: list[LibraryItem]  # by title; translations of the item are not among them


# How the item's neighbours come: each with its authors (whom ``can_see`` asks about a draft
# translation), its organisation and its tags (a legal variant's countries) joined, a few
# rows each. (The item page's own loader brings the tags as one text: ``_tags_column``.)
_NEIGHBOUR_PEOPLE = (joinedload(LibraryItem.authors), joinedload(LibraryItem.organisation))
_NEIGHBOUR_LOADS = (joinedload(LibraryItem.tags), *_NEIGHBOUR_PEOPLE)


def _is_related(item_id):
    return LibraryItem.id.in_(
        select(ItemRelation.related_id).where(ItemRelation.item_id == item_id))


def neighbours(item: LibraryItem, user: User | None) -> Neighbours:
    """The item's other language versions and its related items that ``user`` may see, in
    one statement (the item page and the API show both; two statements before, issue 12),
    kept until the next flush: the item page's loader (``item_page``) has them already,
    and the toolkit's legal variants are among the related items."""
    viewer = user.id if is_signed_in(user) else None
    return kept_until_flush(("neighbours", item.id, viewer),
                            lambda: _load_neighbours(item, user))


def _load_neighbours(item: LibraryItem, user: User | None) -> Neighbours:
    is_related = _is_related(item.id)
    rows = db.session.execute(
        select(LibraryItem, is_related.label("is_related"))
        .options(*_NEIGHBOUR_LOADS)
        .where(((LibraryItem.translation_key == item.translation_key)
                & (LibraryItem.id != item.id)) | is_related)
        .order_by(LibraryItem.title)  # the database's collation, as the page always had
    ).unique().all()
    return _neighbours_among(item, rows, user)


def _neighbours_among(item: LibraryItem, rows, user: User | None) -> Neighbours:
    """Of ``rows`` (other items, each with whether ``item`` relates to it), in the database's
    order, those ``user`` may see: the translations and the related items."""
    group_ids = active_group_ids(user)
    found_translations, found_related = [], []
    for other, other_is_related in rows:
        if other.translation_key == item.translation_key:
            if other.id != item.id and can_see(user, other, group_ids=group_ids):
                found_translations.append(other)
        elif other_is_related and other.is_published and can_see(
                user, other, group_ids=group_ids):
            found_related.append(other)
    return Neighbours(
        translations=sorted(found_translations, key=lambda other: (other.language, other.id)),
        related=found_related,
    )


# --- The item page --------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCompanion:
    """Something another domain shows on the item page about the item and its reader (the
    Follow button's state), fetched as a column of the page's one statement instead of by a
    statement of its own: ``accounts.sessions.Companion``, for the item.

    ``column(item_id, user_id)`` builds it as SQL (a scalar subquery) about the item and the
    reader whose ids are the statement's parameters (``user_id`` is NULL for a visitor):
    parameters, not a correlation with ``library_items.id``, so the database runs it once
    and not for each of the statement's rows. ``receive(item, user, value)`` gets it."""

    column: Callable[[object, object], object]
    receive: Callable[[LibraryItem, User | None, object], None]


_item_companions: list[ItemCompanion] = []


def load_with_item(companion: ItemCompanion) -> None:
    """Have the item page's loader fetch ``companion`` with the item, from now on."""
    _item_companions.append(companion)


# The item page's items come with their tags as one text, "facet<US>code<RS>facet<US>code"
# (the ASCII unit and record separators, in no code): joined as rows, the tags multiplied
# each item's rows by its ten or twenty tags, 74 rows of whole items for an item with four
# related ones, and making them was most of the page's loader (14-16 ms; 8-9 without).
_UNIT, _RECORD = "\x1f", "\x1e"


def _tags_column():
    """The tags of the statement's item (correlated: one text per row)."""
    return (
        select(func.aggregate_strings(ItemTag.facet + _UNIT + ItemTag.code, _RECORD))
        .where(ItemTag.item_id == LibraryItem.id)
        .scalar_subquery()
    )


def _keep_loaded_tags(item: LibraryItem, text: str | None) -> None:
    """Give ``item`` the tags of ``_tags_column`` as if its collection had been loaded:
    persistent ``ItemTag`` rows in the session (no statement, and none written: they are
    what the database holds), in the relationship's order."""
    if "tags" in item.__dict__:  # loaded already in this transaction (what it says wins)
        return
    pairs = sorted(record.partition(_UNIT)[::2] for record in (text or "").split(_RECORD)
                   if record)
    tags = []
    for facet, code in pairs:
        tag = ItemTag(item_id=item.id, facet=facet, code=code)
        make_transient_to_detached(tag)
        tags.append(db.session.merge(tag, load=False))
    set_committed_value(item, "tags", tags)


@functools.cache
def _item_page_statement(companions: int):
    """``item_page``'s statement, built once (again if a companion was added since: their
    number is the key) and run with the item's and the reader's ids."""
    item_id_param = bindparam("item_id", type_=LibraryItem.id.type)
    reader_id_param = bindparam("reader_id", type_=User.id.type)
    its_translations = LibraryItem.translation_key == (
        select(LibraryItem.translation_key).where(LibraryItem.id == item_id_param)
        .scalar_subquery())
    is_related = _is_related(item_id_param)
    return (
        select(LibraryItem, is_related.label("is_related"), _tags_column().label("tags"),
               *(companion.column(item_id_param, reader_id_param)
                 for companion in _item_companions[:companions]))
        .options(lazyload(LibraryItem.tags), *_NEIGHBOUR_PEOPLE, joinedload(LibraryItem.group),
                 joinedload(LibraryItem.attachments).defer(Attachment.extracted_text))
        .where((LibraryItem.id == item_id_param) | its_translations | is_related)
        .order_by(LibraryItem.title)  # the neighbours' order (``neighbours``)
    )


def item_page(item_id: int, user: User | None) -> tuple[LibraryItem, Neighbours]:
    """The item page's loader: ``get_item``'s item (404 unless ``user`` may see it) with its
    files, its ``neighbours`` and the ``ItemCompanion`` columns, in one statement.

    Its rows are, for the item and each neighbour, their authors × files: a few of each
    (their tags come beside them as one text, ``_tags_column``). The files' extracted
    text is not loaded (it may be long, and it would come on every row): the page only
    says whether there is any (``Attachment.has_text``).
    """
    reader_id = user.id if is_signed_in(user) else None
    rows = db.session.execute(_item_page_statement(len(_item_companions)),
                              {"item_id": item_id, "reader_id": reader_id}).unique().all()
    own = next((row for row in rows if row[0].id == item_id), None)
    if own is None or not can_see(user, own[0]):
        raise NotFound()
    item = own[0]
    for row in rows:
        _keep_loaded_tags(row[0], row.tags)
    for companion, value in zip(_item_companions, own[3:], strict=True):
        companion.receive(item, user, value)
    found = _neighbours_among(item, [(row[0], row[1]) for row in rows if row[0] is not item],
                              user)
    keep_until_flush(("neighbours", item.id, reader_id), found)
    return item, found


# --- Attachments ------------------------------------------------------------------------------


def _attach(actor: User | None, item: LibraryItem, stored) -> Attachment:
    attachment = Attachment(
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by=actor,
    )
    item.attachments.append(attachment)
    return attachment


def add_attachment(actor: User | None, item: LibraryItem, stored) -> Attachment:
    """Attach one file already checked and stored by ``library.uploads``."""
    if actor is not None and not can_edit(actor, item):
        raise NotAllowed(_("You cannot change this item."))
    before = snapshot(item)
    attachment = _attach(actor, item, stored)
    db.session.flush()
    record_version(item, actor, previous=before)
    return attachment


def get_attachment(item: LibraryItem, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.item_id != item.id:
        raise NotFound()
    return attachment


# --- Comments ---------------------------------------------------------------------------------


def add_comment(user: User, item: LibraryItem, body: str) -> Comment:
    if not can_comment(user, item):
        raise NotAllowed(_("You can only comment on items you can see."))
    body = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not body:
        raise ValidationFailed(_("Please write a comment."), field="body")
    if len(body) > 5000:
        raise ValidationFailed(_("Please keep comments under 5000 characters."), field="body")
    comment = Comment(author=user, body=body)
    item.comments.append(comment)
    db.session.flush()
    signals.item_commented.send(item, actor=user, comment=comment)
    return comment


def comments_of(item: LibraryItem) -> list[Comment]:
    """The item's comments, oldest first, with their authors and the authors' organisations
    (the page names both for every comment) in a constant number of queries."""
    return list(db.session.scalars(_comments_statement(), {"item_id": item.id}))


@functools.cache
def _comments_statement():
    return (
        select(Comment)
        # One statement: each comment has one author, each author one organisation (and
        # not their languages and expertise, which a comment does not show).
        .options(with_listed_accounts(joinedload(Comment.author)))
        .where(Comment.item_id == bindparam("item_id", type_=Comment.item_id.type))
        .order_by(Comment.created_at, Comment.id)
    )


def get_comment(item: LibraryItem, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.item_id != item.id:
        raise NotFound()
    return comment


def hide_comment(actor: User, comment: Comment, reason: str) -> None:
    """Organisers hide a comment with a reason; others then see "hidden by a moderator"."""
    if not can_moderate_comments(actor):
        raise NotAllowed(_("Only organisers can moderate comments."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Please give a reason for hiding this comment."), field="reason")
    comment.hidden_at = utcnow()
    comment.hidden_by_id = actor.id
    comment.hidden_reason = reason[:300]
    db.session.flush()
    audit.record(
        AuditAction.comment_hidden, actor=actor,
        target=Target("comment", comment.id, comment.item.title if comment.item else ""),
        details={"reason": comment.hidden_reason},
    )


def restore_comment(actor: User, comment: Comment) -> None:
    if not can_moderate_comments(actor):
        raise NotAllowed(_("Only organisers can moderate comments."))
    comment.hidden_at = None
    comment.hidden_by_id = None
    comment.hidden_reason = ""
    db.session.flush()


# --- Lists ------------------------------------------------------------------------------------


# The group page asks twice (its activity and its library panel), for 8 and 5 items.
_LATEST_ASKED = 10


def latest_for_group(group: WorkingGroup, user: User | None, limit: int = 5) -> list[LibraryItem]:
    """The group's latest published items that ``user`` may see (for the group page, which
    shows their titles, kinds and years: loaded without their tags and authors)."""

    def ask(count: int) -> list[LibraryItem]:
        query = (
            visible_items_query(user)
            .where(LibraryItem.group_id == group.id)
            .order_by(LibraryItem.published_at.desc(), LibraryItem.id.desc())
            .options(lazyload(LibraryItem.tags), lazyload(LibraryItem.authors))
            .limit(count)
        )
        return list(db.session.scalars(query))

    if limit > _LATEST_ASKED:
        return ask(limit)
    viewer = user.id if is_signed_in(user) else None
    kept = kept_until_flush(("latest_for_group", group.id, viewer), lambda: ask(_LATEST_ASKED))
    return kept[:limit]
