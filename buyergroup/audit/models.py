"""The audit log's one table, and the guards that keep it append-only.

A row records who did what to which target, when and from which address. It copies the
actor's name and email as they were, because the member may later be erased: the copies
are then blanked (``service.forget_member``) and the page shows "former member". There is
no foreign key to ``users``: the record must outlive the account it names.

Append-only, in two layers:

* the ORM (every backend): flushing a changed or deleted ``AuditEntry``, or an ORM
  ``update(AuditEntry)`` / ``delete(AuditEntry)`` statement, raises ``AuditLogIsAppendOnly``;
  only the two sanctioned bulk statements in ``service`` pass, each with an explicit
  execution option (``audit_purge`` for the retention purge, ``audit_erasure`` for blanking
  an erased member's copies);
* PostgreSQL: a trigger refuses every UPDATE and DELETE that does not come from those two,
  whatever the client (``psql`` included). The purge and the erasure announce themselves
  with a transaction-local setting (``buyergroup.audit_purge`` / ``buyergroup.audit_erasure``);
  an erasure may only blank the name, email and target description, nothing else.
  ``TRUNCATE`` is not a row operation and stays possible for the database owner.

SQLite has no session settings a trigger could read, so there the ORM guard is the rule;
a Core statement on the bare table (``AuditEntry.__table__.delete()``) bypasses it, as does
``sqlite3`` itself: that is the database owner's access, not a code path of the site.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import DDL, JSON, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from buyergroup.database import LabelledEnum, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db


class AuditAction(LabelledEnum):
    """What happened. The value is the stored code; add members, never rename one."""

    role_changed = "role_changed"
    group_role_changed = "group_role_changed"
    account_activated = "account_activated"
    account_deactivated = "account_deactivated"
    invitation_sent = "invitation_sent"
    invitation_revoked = "invitation_revoked"
    account_erased = "account_erased"
    data_exported = "data_exported"
    item_published = "item_published"
    item_returned = "item_returned"
    item_hidden = "item_hidden"
    comment_hidden = "comment_hidden"
    participants_downloaded = "participants_downloaded"
    token_created = "token_created"
    token_revoked = "token_revoked"
    sign_in_failures = "sign_in_failures"
    audit_downloaded = "audit_downloaded"
    post_hidden = "post_hidden"
    thread_locked = "thread_locked"
    use_hidden = "use_hidden"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.role_changed: _l("Site role changed"),
            cls.group_role_changed: _l("Group role changed"),
            cls.account_activated: _l("Account activated"),
            cls.account_deactivated: _l("Account deactivated"),
            cls.invitation_sent: _l("Invitation sent"),
            cls.invitation_revoked: _l("Invitation revoked"),
            cls.account_erased: _l("Account erased"),
            cls.data_exported: _l("Personal data exported"),
            cls.item_published: _l("Library item published"),
            cls.item_returned: _l("Library item returned to its authors"),
            cls.item_hidden: _l("Library item hidden"),
            cls.comment_hidden: _l("Comment hidden"),
            cls.participants_downloaded: _l("Participant list downloaded"),
            cls.token_created: _l("API token created"),
            cls.token_revoked: _l("API token revoked"),
            cls.sign_in_failures: _l("Repeated sign-in failures"),
            cls.audit_downloaded: _l("Audit log downloaded"),
            cls.post_hidden: _l("Discussion post hidden"),
            cls.thread_locked: _l("Discussion locked"),
            cls.use_hidden: _l("Recorded use in a tender hidden"),
        }


class AuditLogIsAppendOnly(RuntimeError):
    """Code tried to change or delete an audit entry: a programming error, never a user's."""


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_created_at", "created_at"),
        Index("ix_audit_entries_actor_id", "actor_id"),
        Index("ix_audit_entries_action_created_at", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    action: Mapped[AuditAction] = mapped_column(
        string_enum(AuditAction, "audit_action", length=40), nullable=False
    )
    # None for the system (a scheduler job, a command) or an unknown visitor.
    actor_id: Mapped[int | None] = mapped_column()
    # Copies at the time; blanked when the member is erased (shown as "former member").
    actor_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    actor_email: Mapped[str] = mapped_column(String(254), default="", nullable=False)
    target_type: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    target_id: Mapped[int | None] = mapped_column()
    target_label: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    # The client's address (after ProxyFix); None outside a request.
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)

    @property
    def actor_erased(self) -> bool:
        return self.actor_id is not None and not self.actor_name and not self.actor_email

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action.value} by {self.actor_id}>"


# --- The ORM guard ------------------------------------------------------------------------


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} may not be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} may not be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_statements(state) -> None:
    if not (state.is_update or state.is_delete) or not state.is_orm_statement:
        return
    if not any(mapper.class_ is AuditEntry for mapper in state.all_mappers):
        return
    allowed = "audit_purge" if state.is_delete else "audit_erasure"
    if not state.execution_options.get(allowed):
        verb = "delete" if state.is_delete else "update"
        raise AuditLogIsAppendOnly(f"a bulk {verb} of audit entries is not allowed")


# --- The PostgreSQL guard -----------------------------------------------------------------

#: Created by ``create_all`` (tests) and, as a frozen copy, by the migration.
POSTGRES_GUARD = [
    """
CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('buyergroup.audit_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit entries are append-only (DELETE refused)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- UPDATE: only the erasure of a member may blank its personal copies, and nothing else.
    IF current_setting('buyergroup.audit_erasure', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.created_at = OLD.created_at
       AND NEW.action = OLD.action
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.target_type = OLD.target_type
       AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
       AND NEW.remote_addr IS NOT DISTINCT FROM OLD.remote_addr
       AND NEW.details::text = OLD.details::text
       AND (NEW.actor_name = OLD.actor_name OR NEW.actor_name = '')
       AND (NEW.actor_email = OLD.actor_email OR NEW.actor_email = '')
       AND (NEW.target_label = OLD.target_label OR NEW.target_label = '')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (UPDATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
""",
]

for _statement in POSTGRES_GUARD:
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
event.listen(
    AuditEntry.__table__,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS audit_entries_append_only()").execute_if(dialect="postgresql"),
)
