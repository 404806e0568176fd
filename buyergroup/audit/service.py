"""Writing, reading, erasing and purging the audit log.

``record`` is what the other domains call, inside the service that makes the change, so
the entry is written in the same transaction as the change it records: when the request
rolls back, its entry goes with it; when it commits, both stay. ``record`` only adds and
flushes.

Nothing here updates or deletes a row, except two sanctioned bulk statements, each named
by an explicit execution option that the guards in ``models`` look for:
``forget_member`` (GDPR erasure: blanks the member's name and email copies) and
``purge_expired`` (the scheduler's retention purge).

Where each action is recorded (in the service that makes the change)::

    role_changed             accounts: change_role      target=user, details={"from", "to"}
    group_role_changed       network: a member's role   target=user, details={"group", "from", "to"}
    account_(de)activated    accounts: set_active       target=user
    invitation_sent/revoked  accounts: invite/revoke    target=Target("invitation", id, email)
    account_erased           accounts: erasure          record first, then forget_member()
    data_exported            accounts: data export      target=user
    item_published/returned/hidden   library: review decisions   target=item
    comment_hidden           library: hide a comment    target=Target("comment", id, title)
    participants_downloaded  events: participants CSV   target=event, details={"rows"}
    token_created/revoked    accounts: API tokens       target=token, details={"scope"}
    sign_in_failures         accounts: the throttle     actor=None, target=user or
                                                        Target("account", None, email)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, or_, select, text, update

from buyergroup.accounts.permissions import is_signed_in
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.database import utcnow
from buyergroup.errors import ValidationFailed
from buyergroup.extensions import db

DEFAULT_RETENTION_DAYS = 730

_LABEL_ATTRIBUTES = ("title", "name", "email", "label")


@dataclass(frozen=True)
class Target:
    """What an entry is about, when it is not (or no longer) a model instance."""

    type: str
    id: int | None = None
    label: str = ""


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def describe_target(target: Any) -> Target | None:
    """A ``Target`` from a model instance (``User`` -> type "user", its name as the label)."""
    if target is None or isinstance(target, Target):
        return target
    label = ""
    for attribute in _LABEL_ATTRIBUTES:
        value = getattr(target, attribute, None)
        if isinstance(value, str) and value:
            label = value
            break
    return Target(_snake_case(type(target).__name__), getattr(target, "id", None), label)


def _json_safe(details: dict[str, Any] | None) -> dict[str, Any]:
    # Dates, enums and the like become strings: the entry must always be storable.
    def plain(value):
        if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
            return value.value
        return str(value)

    return json.loads(json.dumps(details or {}, default=plain))


def _client_address() -> str | None:
    # Behind the proxies named by PROXY_COUNT, ProxyFix has already put the client's
    # address into remote_addr; without it, X-Forwarded-For is not to be trusted.
    if not has_request_context():
        return None
    address = request.remote_addr
    return address[:45] if address else None


def record(
    action: AuditAction,
    *,
    actor: Any,
    target: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the log, in the caller's transaction (adds and flushes).

    ``actor`` is the member who acted (``current_user`` is fine; a visitor or None is
    recorded as the system). ``target`` is a model instance or a ``Target``. ``details`` is
    a small JSON object: put codes and ids in it, not names or emails (those are blanked on
    erasure only in the actor and target columns).
    """
    if not isinstance(action, AuditAction):
        action = AuditAction(action)
    signed_in = is_signed_in(actor)
    described = describe_target(target)
    entry = AuditEntry(
        created_at=utcnow(),
        action=action,
        actor_id=actor.id if signed_in else None,
        actor_name=(actor.name or "")[:120] if signed_in else "",
        actor_email=(actor.email or "")[:254] if signed_in else "",
        target_type=(described.type if described else "")[:40],
        target_id=described.id if described else None,
        target_label=(described.label if described else "")[:200],
        remote_addr=_client_address(),
        details=_json_safe(details),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# --- Erasure --------------------------------------------------------------------------------


def _set_local(name: str, value: str) -> None:
    """A transaction-local PostgreSQL setting that the append-only trigger reads."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT set_config(:name, :value, true)"),
                           {"name": name, "value": value})


def forget_member(user_id: int, email: str = "") -> int:
    """Blank the copies of an erased member's name and email; returns the entries touched.

    For the erasure flow, in its transaction (flushes). The entries stay, with their actor
    id, action, time and address: the page shows the actor as "former member". Entries
    about the member (target user, or an invitation to their address) lose their target
    description too.
    """
    as_actor = (
        update(AuditEntry)
        .where(AuditEntry.actor_id == user_id)
        .values(actor_name="", actor_email="")
    )
    about = [(AuditEntry.target_type == "user") & (AuditEntry.target_id == user_id)]
    if email:
        about.append(func.lower(AuditEntry.target_label) == email.strip().lower())
    as_target = update(AuditEntry).where(or_(*about)).values(target_label="")
    options = {"audit_erasure": True, "synchronize_session": False}
    _set_local("buyergroup.audit_erasure", "on")
    try:
        touched = db.session.execute(as_actor, execution_options=options).rowcount
        touched += db.session.execute(as_target, execution_options=options).rowcount
    finally:
        _set_local("buyergroup.audit_erasure", "off")
    # The instances in this session still hold the old copies: read them again.
    for entry in [e for e in db.session.identity_map.values() if isinstance(e, AuditEntry)]:
        db.session.expire(entry)
    db.session.flush()
    return touched


# --- Retention ------------------------------------------------------------------------------


def retention_days() -> int:
    """``AUDIT_RETENTION_DAYS`` from the config, else the environment, else 730."""
    configured = current_app.config.get("AUDIT_RETENTION_DAYS")
    if configured in (None, ""):
        configured = os.environ.get("AUDIT_RETENTION_DAYS", "")
    try:
        days = int(configured)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_DAYS
    return days if days > 0 else DEFAULT_RETENTION_DAYS


def purge_expired(now: datetime | None = None) -> int:
    """Delete the entries older than the retention period; returns how many. Commits.

    The scheduler's job (its own transaction boundary), and the only deletion of audit
    entries there is: one bulk DELETE carrying the explicit ``audit_purge`` option (and,
    on PostgreSQL, the transaction-local setting the trigger checks).
    """
    cutoff = (now or utcnow()) - timedelta(days=retention_days())
    _set_local("buyergroup.audit_purge", "on")
    try:
        count = db.session.execute(
            delete(AuditEntry).where(AuditEntry.created_at < cutoff),
            execution_options={"audit_purge": True, "synchronize_session": False},
        ).rowcount
    finally:
        _set_local("buyergroup.audit_purge", "off")
    db.session.commit()
    return count


# --- Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """A reader's filters; ``parse_filters`` builds one from query arguments."""

    actor: str = ""
    action: AuditAction | None = None
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (for links to the next page and the CSV)."""
        args = {
            "actor": self.actor,
            "action": self.action.value if self.action else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in args.items() if value}


def _parse_day(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_l("Give a date as YYYY-MM-DD."), field=field) from None


def parse_filters(args) -> AuditFilters:
    """Read ``actor``, ``action``, ``since`` and ``until``; a bad value names its field."""
    action_code = (args.get("action") or "").strip()
    action = None
    if action_code:
        try:
            action = AuditAction(action_code)
        except ValueError:
            raise ValidationFailed(_l("Unknown action."), field="action") from None
    since = _parse_day(args.get("since") or "", "since")
    until = _parse_day(args.get("until") or "", "until")
    if since and until and until < since:
        raise ValidationFailed(_l("The end date is before the start date."), field="until")
    return AuditFilters(actor=(args.get("actor") or "").strip()[:200], action=action,
                        since=since, until=until)


def entries_query(filters: AuditFilters) -> Select:
    """The entries that match, newest first. Dates are whole UTC days, both inclusive."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if filters.actor:
        needle = filters.actor.lower()
        query = query.where(or_(
            func.lower(AuditEntry.actor_name).contains(needle, autoescape=True),
            func.lower(AuditEntry.actor_email).contains(needle, autoescape=True),
        ))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.since:
        start = datetime.combine(filters.since, time.min, tzinfo=UTC)
        query = query.where(AuditEntry.created_at >= start)
    if filters.until and filters.until < date.max:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(AuditEntry.created_at < end)
    return query


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.created_at.isoformat(),
        "action": entry.action.value,
        "actor": None if entry.actor_id is None else {
            "id": entry.actor_id,
            "name": entry.actor_name or None,
            "email": entry.actor_email or None,
            "erased": entry.actor_erased,
        },
        "target": None if not entry.target_type else {
            "type": entry.target_type,
            "id": entry.target_id,
            "label": entry.target_label or None,
        },
        "address": entry.remote_addr,
        "details": entry.details,
    }


# --- CSV ------------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets an apostrophe."""
    text_value = "" if value is None else str(value)
    return "'" + text_value if text_value.startswith(_FORMULA_STARTS) else text_value


def entries_csv(entries: Iterable[AuditEntry], *, former_member: str, system: str) -> str:
    """The entries as CSV (UTC times); the header and actor placeholders come translated."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(h) for h in (
        _l("Time (UTC)"), _l("Action"), _l("Action code"), _l("Actor id"), _l("Actor"),
        _l("Actor email"), _l("Target type"), _l("Target id"), _l("Target"), _l("Address"),
        _l("Details"),
    )])
    for entry in entries:
        if entry.actor_id is None:
            actor_name = system
        else:
            actor_name = entry.actor_name or former_member
        writer.writerow([csv_cell(value) for value in (
            entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.action.label,
            entry.action.value,
            entry.actor_id,
            actor_name,
            entry.actor_email,
            entry.target_type,
            entry.target_id,
            entry.target_label,
            entry.remote_addr,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else "",
        )])
    return out.getvalue()
