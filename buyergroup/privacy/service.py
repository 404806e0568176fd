"""Privacy rules: a member's choices, the data export, erasure and retention.

Functions here flush but never commit (the request owns the transaction), except the
scheduler's jobs in ``privacy.jobs``.

Erasure (``erase_member``) in one transaction:

1. refuse it when the member is the last administrator or the last organiser of a group
   (``InvariantError``, 409): they hand over first;
2. record ``account_erased`` (while the name is still there), then tell other domains
   (``signals.member_erased``: follows, notifications... delete their rows);
3. free the member's seats in upcoming events and promote the waiting lists;
4. delete what is only theirs: drafts never published, invitations and requests to join
   under their address, mail still addressed to them;
5. keep what they published: library items and comments stay, their byline becomes
   "former member" (author names blanked, also in the items' version history);
6. every other row that points at the account is deleted (``ON DELETE CASCADE``: sessions,
   tokens, calendar feeds, registrations, memberships, languages...) or unlinked
   (``ON DELETE SET NULL``), found from the schema's foreign keys, so that a table added
   later (say ``follows``) is covered too, on SQLite as on PostgreSQL;
7. ``audit.service.forget_member`` blanks the audit log's copies of the name and email;
8. the account row goes.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import joinedload, lazyload

from buyergroup.accounts.models import (
    ApiToken,
    Invitation,
    PasswordReset,
    Role,
    User,
    UserSession,
)
from buyergroup.accounts.permissions import can_manage_accounts, is_own_account
from buyergroup.accounts.service import external_url, normalise_email
from buyergroup.audit import service as audit
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.database import utcnow
from buyergroup.errors import NotAllowed
from buyergroup.events.models import CalendarFeed, EventMaterial, Registration
from buyergroup.events.service import registrations as event_registrations
from buyergroup.events.storage import folder as events_folder
from buyergroup.extensions import db
from buyergroup.library import uploads as library_uploads
from buyergroup.library.models import (
    Attachment,
    Comment,
    ItemAuthor,
    ItemStatus,
    ItemVersion,
    LibraryItem,
)
from buyergroup.mail.models import OutboxMessage
from buyergroup.network.models import GroupMembership, GroupRole, JoinRequest, MembershipState
from buyergroup.privacy.errors import (  # noqa: F401 - LastGroupOrganiser for callers
    ConfirmationMismatch,
    LastAdministrator,
    LastGroupOrganiser,
)
from buyergroup.signals import member_data_requested, member_erased

DEFAULT_REGISTRATION_RETENTION_DAYS = 365
DEFAULT_SESSION_RETENTION_DAYS = 30


def _configured_days(name: str, default: int) -> int:
    """A number of days from the config, else the environment, else ``default``."""
    configured = current_app.config.get(name)
    if configured in (None, ""):
        configured = os.environ.get(name, "")
    try:
        days = int(configured)
    except (TypeError, ValueError):
        return default
    return days if days > 0 else default


def registration_retention_days() -> int:
    return _configured_days("PRIVACY_REGISTRATION_RETENTION_DAYS",
                            DEFAULT_REGISTRATION_RETENTION_DAYS)


def session_retention_days() -> int:
    return _configured_days("SESSION_RETENTION_DAYS", DEFAULT_SESSION_RETENTION_DAYS)


# --- The member's choices ---------------------------------------------------------------------


def update_privacy_choices(
    user: User, *, email_visible: bool, listed_in_directory: bool,
    listed_on_participant_lists: bool,
) -> None:
    """Save a member's choices. Turning "participant lists" off withdraws the consent given
    for every event too (their name leaves every list at once); turning it on only changes
    the default of the box when they next register."""
    user.email_visible = bool(email_visible)
    user.listed_in_directory = bool(listed_in_directory)
    user.listed_on_participant_lists = bool(listed_on_participant_lists)
    if not listed_on_participant_lists:
        db.session.execute(
            update(Registration)
            .where(Registration.user_id == user.id, Registration.show_name.is_(True))
            .values(show_name=False)
            .execution_options(synchronize_session="fetch")
        )
    db.session.flush()


# --- The data export ----------------------------------------------------------------------------


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True)
class ExportedFile:
    """A file of the member's in the export: its path in the ZIP and on disk, its link."""

    archive_name: str
    path: str
    url: str
    original_name: str
    size: int
    kind: str


# Which rows each counted section of the export holds: the export selects them, the page
# /profile/data counts them, with the same conditions (so its figures cannot drift).


def _memberships_of(user: User):
    return GroupMembership.user_id == user.id


def _registrations_of(user: User):
    return Registration.user_id == user.id


def _library_items_of(user: User):
    return or_(LibraryItem.created_by_id == user.id,
               LibraryItem.id.in_(select(ItemAuthor.item_id).where(ItemAuthor.user_id == user.id)))


def _comments_of(user: User):
    return Comment.author_id == user.id


def _attachments_of(user: User):
    return Attachment.uploaded_by_id == user.id


def _material_files_of(user: User):
    return (EventMaterial.created_by_id == user.id) & EventMaterial.stored_name.is_not(None)


def _files_of(user: User) -> list[ExportedFile]:
    files: list[ExportedFile] = []
    for attachment in db.session.scalars(
        select(Attachment).where(_attachments_of(user)).order_by(Attachment.id)
    ):
        files.append(ExportedFile(
            archive_name=f"files/library/{attachment.id}-{_safe(attachment.original_name)}",
            path=str(library_uploads.path_of(attachment.stored_name)),
            url=external_url("library.download", item_id=attachment.item_id,
                             attachment_id=attachment.id),
            original_name=attachment.original_name, size=attachment.size,
            kind="library_attachment",
        ))
    for material in db.session.scalars(
        select(EventMaterial).where(_material_files_of(user)).order_by(EventMaterial.id)
    ):
        files.append(ExportedFile(
            archive_name=f"files/events/{material.id}-{_safe(material.original_name or '')}",
            path=str(events_folder() / material.stored_name),
            url=external_url("events.material_file", event_id=material.event_id,
                             material_id=material.id),
            original_name=material.original_name or "", size=material.size or 0,
            kind="event_material",
        ))
    return files


def _safe(name: str) -> str:
    # Inside the ZIP only: no folders, nothing a careless unzip would put elsewhere.
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(" .")
    return cleaned[:120] or "file"


def export_data(user: User, files: list[ExportedFile] | None = None) -> dict[str, Any]:
    """Everything the site keeps about ``user``, as plain JSON values (no secrets: tokens
    and feeds are described, never their keys; no password hash). ``files`` are the
    member's files when the caller has them already (the ZIP, which also packs them)."""
    if files is None:
        files = _files_of(user)
    organisation = user.organisation
    data: dict[str, Any] = {
        "format": "buyergroup-member-export/1",
        "exported_at": utcnow().isoformat(),
        "profile": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role.value,
            "organisation": {"id": organisation.id, "name": organisation.name}
            if organisation else None,
            "job_title": user.job_title,
            "country": user.country,
            "bio": user.bio,
            "languages": user.languages,
            "expertise": user.expertise,
            "locale": user.locale,
            "timezone": user.timezone,
            "active": user.is_active_account,
            "created_at": _iso(user.created_at),
            "updated_at": _iso(user.updated_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "privacy_choices": {
            "email_visible_to_members": user.email_visible,
            "listed_in_directory": user.listed_in_directory,
            "name_on_participant_lists_by_default": user.listed_on_participant_lists,
        },
        "group_memberships": [
            {"group": {"id": m.group.id, "slug": m.group.slug, "name": m.group.name},
             "role": m.role.value, "state": m.state.value, "message": m.message,
             "requested_at": _iso(m.requested_at), "joined_at": _iso(m.joined_at)}
            for m in db.session.scalars(
                select(GroupMembership).where(_memberships_of(user))
                .options(joinedload(GroupMembership.group)).order_by(GroupMembership.id))
        ],
        "event_registrations": [
            {"event": {"id": r.event.id, "title": r.event.title,
                       "starts_at": _iso(r.event.starts_at), "ends_at": _iso(r.event.ends_at)},
             "state": r.state.value, "name_shown_to_participants": r.show_name,
             "queued_at": _iso(r.queued_at), "registered_at": _iso(r.registered_at),
             "cancelled_at": _iso(r.cancelled_at), "attended": r.attended,
             "added_by_an_organiser": r.added_by_id is not None}
            for r in db.session.scalars(
                select(Registration).where(_registrations_of(user))
                .options(joinedload(Registration.event)).order_by(Registration.id))
        ],
        "calendar_feeds": [
            {"prefix": f.prefix, "created_at": _iso(f.created_at),
             "last_used_at": _iso(f.last_used_at), "revoked_at": _iso(f.revoked_at)}
            for f in db.session.scalars(
                select(CalendarFeed).where(CalendarFeed.user_id == user.id)
                .order_by(CalendarFeed.id))
        ],
        "api_tokens": [
            {"name": t.name, "prefix": t.prefix, "scope": t.scope.value,
             "created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at),
             "last_used_at": _iso(t.last_used_at), "revoked_at": _iso(t.revoked_at)}
            for t in db.session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
        ],
        "sessions": [
            {"browser": s.user_agent, "created_at": _iso(s.created_at),
             "ended_at": _iso(s.ended_at)}
            for s in db.session.scalars(
                select(UserSession).where(UserSession.user_id == user.id)
                .order_by(UserSession.id))
        ],
        "library_items": [
            {"id": item.id, "title": item.title, "kind": item.kind.value,
             "language": item.language, "status": item.status.value,
             "visibility": item.visibility.value,
             "created_by_me": item.created_by_id == user.id,
             "created_at": _iso(item.created_at), "published_at": _iso(item.published_at),
             "url": external_url("library.item", item_id=item.id)}
            for item in db.session.scalars(
                select(LibraryItem).where(_library_items_of(user))
                # Their tags and authors are not exported: not loaded either.
                .options(lazyload(LibraryItem.tags), lazyload(LibraryItem.authors))
                .order_by(LibraryItem.id))
        ],
        "comments": [
            {"id": c.id, "item_id": c.item_id, "body": c.body, "created_at": _iso(c.created_at),
             "hidden_by_a_moderator": c.hidden_at is not None}
            for c in db.session.scalars(
                select(Comment).where(_comments_of(user)).order_by(Comment.id))
        ],
        "requests_to_join": [
            {"name": r.name, "email": r.email, "organisation": r.organisation_name,
             "job_title": r.job_title, "country": r.country, "message": r.message,
             "state": r.state.value, "created_at": _iso(r.created_at),
             "decided_at": _iso(r.decided_at)}
            for r in db.session.scalars(
                select(JoinRequest).where(func.lower(JoinRequest.email) == user.email.lower())
                .order_by(JoinRequest.id))
        ],
        "invitations": [
            {"email": i.email, "name": i.name, "role": i.role.value, "state": i.state.value,
             "organisation": i.organisation.name if i.organisation else None,
             "created_at": _iso(i.created_at), "accepted_at": _iso(i.accepted_at)}
            for i in db.session.scalars(
                select(Invitation).where(or_(Invitation.user_id == user.id,
                                             func.lower(Invitation.email) == user.email.lower()))
                .options(joinedload(Invitation.organisation)).order_by(Invitation.id))
        ],
        "audit_log": [
            {"at": _iso(e.created_at), "action": e.action.value,
             "as": "actor" if e.actor_id == user.id else "subject",
             "address": e.remote_addr}
            for e in db.session.scalars(
                select(AuditEntry).where(or_(
                    AuditEntry.actor_id == user.id,
                    (AuditEntry.target_type == "user") & (AuditEntry.target_id == user.id),
                )).order_by(AuditEntry.created_at, AuditEntry.id))
        ],
        "files": [
            {"name": f.original_name, "kind": f.kind, "size": f.size,
             "in_archive": f.archive_name, "url": f.url}
            for f in files
        ],
    }
    # Other domains add what they keep (follows, notifications...): each receiver returns
    # {section name: JSON value}.
    for _receiver, sections in member_data_requested.send(user):
        if isinstance(sections, dict):
            data.update(sections)
    return data


def export_counts(user: User) -> dict[str, int]:
    """How many records the export holds in the sections /profile/data names, in one
    statement (the page shows these figures only: it need not build the export)."""
    counted = {
        "group_memberships": (GroupMembership.id, _memberships_of(user)),
        "event_registrations": (Registration.id, _registrations_of(user)),
        "library_items": (LibraryItem.id, _library_items_of(user)),
        "comments": (Comment.id, _comments_of(user)),
        "library_attachments": (Attachment.id, _attachments_of(user)),
        "event_material_files": (EventMaterial.id, _material_files_of(user)),
    }
    counts = _counted(counted)
    counts["files"] = counts.pop("library_attachments") + counts.pop("event_material_files")
    return counts


def record_export(actor: User, user: User, *, via: str) -> None:
    audit.record(AuditAction.data_exported, actor=actor, target=user, details={"via": via})


def export_zip(user: User) -> bytes:
    """The export as a ZIP: ``data.json`` and the member's uploaded files under ``files/``.

    A file missing on disk (lost in a restore, say) is listed in ``missing_files.txt``
    rather than failing the whole export."""
    files = _files_of(user)
    data = export_data(user, files)
    buffer = io.BytesIO()
    missing = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for f in files:
            try:
                archive.write(f.path, f.archive_name)
            except OSError:
                missing.append(f.archive_name)
        if missing:
            archive.writestr("missing_files.txt", "\n".join(missing) + "\n")
    return buffer.getvalue()


# --- Erasure ------------------------------------------------------------------------------------


def require_can_erase(actor: User | None, user: User) -> None:
    """The member themselves, or an administrator (on the member's request)."""
    if not (is_own_account(actor, user) or can_manage_accounts(actor)):
        raise NotAllowed(_("Only the member or an administrator can erase this account."))


def handover_problems(user: User) -> None:
    """Raise the ``InvariantError`` that stops this erasure, if any."""
    if user.role is Role.admin:
        others = db.session.scalar(
            select(func.count(User.id)).where(
                User.role == Role.admin, User.id != user.id, User.is_active_account.is_(True))
        )
        if not others:
            raise LastAdministrator()
    sole = []
    for membership in db.session.scalars(
        select(GroupMembership).where(
            GroupMembership.user_id == user.id,
            GroupMembership.state == MembershipState.active,
            GroupMembership.role == GroupRole.organiser,
        )
    ):
        if len(membership.group.organisers) <= 1:
            sole.append(membership.group.name)
    if sole:
        raise LastGroupOrganiser(
            _("This member is the only organiser of %(groups)s. Make another member "
              "organiser there before erasing the account.", groups=", ".join(sorted(sole)))
        )


def check_confirmation(user: User, typed: str | None) -> None:
    if normalise_email(typed or "") != normalise_email(user.email):
        raise ConfirmationMismatch(field="confirm")


def _blank_author_names(user: User) -> None:
    """Published items keep their byline with "former member" (an empty name, shown as
    such) in their current authors and in every saved version."""
    names = {user.name.strip().lower()} - {""}
    rows = list(db.session.scalars(select(ItemAuthor).where(ItemAuthor.user_id == user.id)))
    names |= {row.name.strip().lower() for row in rows} - {""}
    item_ids = {row.item_id for row in rows}
    item_ids |= set(db.session.scalars(
        select(LibraryItem.id).where(LibraryItem.created_by_id == user.id)))
    item_ids |= set(db.session.scalars(
        select(ItemVersion.item_id).where(ItemVersion.editor_id == user.id)))
    for row in rows:
        row.name = ""
        row.user_id = None
    if not item_ids or not names:
        return
    for version in db.session.scalars(
        select(ItemVersion).where(ItemVersion.item_id.in_(item_ids))
    ):
        data = json.loads(version.data_json)
        authors = data.get("authors")
        if isinstance(authors, list) and any(
            isinstance(a, str) and a.strip().lower() in names for a in authors
        ):
            data["authors"] = ["" if isinstance(a, str) and a.strip().lower() in names else a
                               for a in authors]
            version.data_json = json.dumps(data, ensure_ascii=False)


def _delete_unpublished_drafts(user: User) -> int:
    """Items the member wrote that were never published (drafts, waiting or returned)
    are theirs alone: deleted, with their files (after the commit)."""
    drafts = list(db.session.scalars(
        select(LibraryItem).where(
            LibraryItem.created_by_id == user.id,
            LibraryItem.status.in_([ItemStatus.draft, ItemStatus.submitted,
                                    ItemStatus.returned]),
        )
    ))
    for item in drafts:
        library_uploads.delete_after_commit([a.stored_name for a in item.attachments])
        db.session.delete(item)
    db.session.flush()
    return len(drafts)


def _unlink_everything(user_id: int) -> None:
    """Every foreign key to ``users``: CASCADE rows are deleted, SET NULL ones unlinked.

    Read from the schema, so a table another domain adds later is covered without a change
    here; done explicitly because SQLite does not enforce foreign keys by default.
    """
    users_table = User.__table__
    for table in reversed(db.metadata.sorted_tables):
        if table is users_table:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is not users_table:
                continue
            column = fk.parent
            # CASCADE: the row is the member's (a session, a token, a registration). Any
            # other nullable link is unlinked; a required link without CASCADE (none today)
            # cannot outlive the account either.
            if (fk.ondelete or "").upper() != "CASCADE" and column.nullable:
                db.session.execute(
                    table.update().where(column == user_id).values({column.name: None})
                )
            else:
                db.session.execute(table.delete().where(column == user_id))


def erase_member(actor: User, user: User, *, confirm: str | None) -> dict[str, int]:
    """Erase ``user``'s account (see the module's docstring); flushes. Returns counts."""
    require_can_erase(actor, user)
    check_confirmation(user, confirm)
    handover_problems(user)
    user_id, email, by_self = user.id, user.email, is_own_account(actor, user)
    audit.record(AuditAction.account_erased, actor=actor, target=user,
                 details={"by": "member" if by_self else "administrator"})
    member_erased.send(user, user_id=user_id, email=email, actor=actor)
    released = event_registrations.release_member_registrations(user)
    drafts = _delete_unpublished_drafts(user)
    _blank_author_names(user)
    db.session.flush()
    lowered = email.lower()
    db.session.execute(delete(Invitation).where(or_(Invitation.user_id == user_id,
                                                    func.lower(Invitation.email) == lowered)))
    db.session.execute(delete(JoinRequest).where(func.lower(JoinRequest.email) == lowered))
    db.session.execute(delete(OutboxMessage).where(func.lower(OutboxMessage.recipient) == lowered))
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id))
    _unlink_everything(user_id)
    audit.forget_member(user_id, email)
    # The relationships loaded on the instance name rows already gone: forget them, then
    # delete the row itself with one statement.
    db.session.expunge(user)
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.expire_all()
    db.session.flush()
    return {"registrations_released": released, "drafts_deleted": drafts}


def erasure_summary(user: User) -> dict[str, int]:
    """What erasure would remove and keep, for the confirmation page: in one statement, by
    the export's own conditions."""
    counted = {
        "published": (LibraryItem.id, _library_items_of(user)
                      & LibraryItem.status.in_([ItemStatus.published, ItemStatus.archived])),
        "comments": (Comment.id, _comments_of(user)),
        "registrations": (Registration.id, _registrations_of(user)),
    }
    return _counted(counted)


def _counted(counted: dict) -> dict[str, int]:
    """Each name's count of ``column`` where ``criterion`` holds, all in one statement."""
    row = db.session.execute(select(*(
        select(func.count(column)).where(criterion).scalar_subquery().label(name)
        for name, (column, criterion) in counted.items()
    ))).one()
    return {name: row._mapping[name] or 0 for name in counted}


# --- Retention (the scheduler's jobs call these through privacy.jobs) ---------------------------


def anonymise_past_registrations(now=None) -> int:
    """Anonymise registrations of events that ended more than the retention period ago."""
    cutoff = (now or utcnow()) - timedelta(days=registration_retention_days())
    # A participants-only material names its readers in the search index: indexed again
    # once their registrations name nobody (one statement, which the ORM does not see).
    from buyergroup.discussions import minutes_search
    from buyergroup.events.models import Event

    minutes_search.queue_participant_materials(select(Event.id).where(
        Event.ends_at < cutoff,
        Event.id.in_(select(Registration.event_id).where(Registration.anonymised_at.is_(None),
                                                         Registration.user_id.is_not(None)))))
    return event_registrations.anonymise_registrations_before(cutoff)


def purge_ended_sessions(now=None) -> int:
    """Delete sessions that ended more than ``SESSION_RETENTION_DAYS`` ago (the rows only
    said which browser was signed in, and when)."""
    cutoff = (now or utcnow()) - timedelta(days=session_retention_days())
    return db.session.execute(
        delete(UserSession).where(UserSession.ended_at.is_not(None),
                                  UserSession.ended_at < cutoff)
    ).rowcount
