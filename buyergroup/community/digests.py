"""Notification email: one message at once ("immediately"), or one digest per member and
period ("daily", "weekly"), in the member's language and time zone, text and HTML.

Exactly once: a digest claims its ``DigestRun`` row (unique per member, frequency and
period) in the same transaction as its outbox row and the marks on the notifications it
carries. Two schedulers at once: the second's insert waits for the first's commit and
fails on the unique key, so it sends nothing. A run killed half-way has committed the
members it finished; the next run sends the others, and nothing twice. Each member is
their own short transaction (jobs and commands own their transactions).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from buyergroup.accounts.models import User
from buyergroup.accounts.service import external_url
from buyergroup.community import service, targets, unsubscribe
from buyergroup.community.models import (
    DEFAULT_FREQUENCIES,
    DigestRun,
    Frequency,
    Kind,
    Notification,
    NotificationPreference,
)
from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.mail.service import queue_email

log = logging.getLogger(__name__)

#: Local time at which a member's digest becomes due (daily; weekly on Mondays).
DIGEST_HOUR = 7
#: Older unsent notifications are no longer news: they are not carried by a digest.
MAX_AGE_DAYS = 35
DIGEST_FREQUENCIES = (Frequency.daily, Frequency.weekly)


def _zone(user: User) -> ZoneInfo:
    for name in (user.timezone, current_app.config.get("BABEL_DEFAULT_TIMEZONE"), "UTC"):
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError, TypeError):
            continue
    return ZoneInfo("UTC")


def _when(moment: datetime, user: User) -> str:
    return babel_format_datetime(moment, "short", tzinfo=_zone(user), locale=user.locale or "en")


def period_of(frequency: Frequency, user: User, now: datetime) -> str:
    """The member's period at ``now``, in their time zone: 2026-12-01, or 2026-W49."""
    local = now.astimezone(_zone(user))
    if frequency is Frequency.weekly:
        year, week, _day = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def cutoff_of(frequency: Frequency, user: User, now: datetime) -> datetime:
    """The member's latest digest time at or before ``now``: 07:00 local today (or
    yesterday, before 07:00), and for weekly digests 07:00 on the latest Monday. A digest
    the scheduler sends carries what happened until then; what comes after waits for the
    next one. A scheduler that was down at 07:00 sends the period's digest when it is back
    (the period is not claimed yet)."""
    zone = _zone(user)
    local = now.astimezone(zone)
    day = local.date()
    if local.hour < DIGEST_HOUR:
        day -= timedelta(days=1)
    if frequency is Frequency.weekly:
        day -= timedelta(days=day.isoweekday() - 1)
    return datetime(day.year, day.month, day.day, DIGEST_HOUR, tzinfo=zone).astimezone(UTC)


def is_due(frequency: Frequency, user: User, now: datetime) -> bool:
    """Whether the member's current period's digest may go out now: its 07:00 has come."""
    return period_of(frequency, user, cutoff_of(frequency, user, now)) == period_of(
        frequency, user, now)


# --- One notification, emailed at once --------------------------------------------------------


def email_now(user: User, notification: Notification, target) -> None:
    """Queue the email of one notification (inside the caller's transaction)."""
    queue_email(
        user.email,
        "community_notification",
        locale=user.locale or "en",
        html=True,
        headers=unsubscribe.headers(user.id, [notification.kind]),
        user=user,
        notification=notification,
        describe=service.describe,
        link=targets.absolute_url_for(notification.target_type, target),
        when=_when(notification.created_at, user),
        **_footer(user, [notification.kind]),
    )
    notification.emailed_at = utcnow()


def _footer(user: User, kinds: list[Kind]) -> dict:
    return {
        "unsubscribe_url": unsubscribe.link(user.id, kinds),
        "unsubscribe_kinds": kinds,
        "preferences_url": external_url("community.preferences"),
        "notifications_url": external_url("community.notifications"),
    }


# --- Digests ----------------------------------------------------------------------------------


@dataclass
class DigestLine:
    message: str
    link: str
    when: str


@dataclass
class DigestSection:
    heading: str
    kinds: OrderedDict = field(default_factory=OrderedDict)  # Kind -> [DigestLine]

    @property
    def count(self) -> int:
        return sum(len(lines) for lines in self.kinds.values())


@dataclass
class DigestReport:
    frequency: str
    candidates: int = 0
    sent: int = 0
    already_sent: int = 0
    nothing_new: int = 0

    def summary(self) -> str:
        return (f"{self.frequency} digests: {self.sent} sent, {self.already_sent} already sent "
                f"for this period, {self.nothing_new} with nothing new "
                f"({self.candidates} members with pending notifications)")


def _candidates(now: datetime) -> list[int]:
    """Members with unsent, unread notifications (one query)."""
    return list(
        db.session.scalars(
            select(Notification.user_id)
            .where(
                Notification.emailed_at.is_(None),
                Notification.read_at.is_(None),
                Notification.created_at <= now,
                Notification.created_at > now - timedelta(days=MAX_AGE_DAYS),
            )
            .distinct()
        )
    )


def _kinds_by_user(user_ids: list[int], frequency: Frequency) -> dict[int, list[Kind]]:
    """The kinds each member gets in ``frequency``'s digest (one query)."""
    chosen: dict[int, dict[Kind, Frequency]] = {uid: {} for uid in user_ids}
    for start in range(0, len(user_ids), 500):
        for user_id, kind, freq in db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.kind,
                   NotificationPreference.frequency)
            .where(NotificationPreference.user_id.in_(user_ids[start:start + 500]))
        ):
            chosen[user_id][kind] = freq
    return {
        uid: [k for k in Kind if prefs.get(k, DEFAULT_FREQUENCIES[k]) is frequency]
        for uid, prefs in chosen.items()
    }


def _pending_rows(user_ids: list[int], now: datetime) -> dict[int, list[Notification]]:
    """The unsent notifications of these members, by member (one query)."""
    rows: dict[int, list[Notification]] = {uid: [] for uid in user_ids}
    for row in db.session.scalars(
        select(Notification)
        .where(
            Notification.user_id.in_(user_ids),
            Notification.emailed_at.is_(None),
            Notification.created_at <= now,
            Notification.created_at > now - timedelta(days=MAX_AGE_DAYS),
        )
        .order_by(Notification.group_id, Notification.kind, Notification.created_at)
    ):
        rows[row.user_id].append(row)
    return rows


def build_digest(user: User, kinds: list[Kind], now: datetime,
                 group_names: dict[int, str] | None = None, *,
                 rows: list[Notification] | None = None, cache: dict | None = None):
    """The member's pending notifications of ``kinds`` that they may still see, grouped by
    working group then kind; returns (sections, included ids, all pending ids).

    ``rows`` (the member's pending notifications) and ``cache`` (targets already loaded)
    are given by a run that builds many digests."""
    if rows is None:
        rows = _pending_rows([user.id], now)[user.id]
    rows = [r for r in rows if r.kind in kinds]
    pending_ids = [r.id for r in rows]
    shown = service.entries([r for r in rows if r.read_at is None], user, cache=cache)
    if group_names is None:
        group_names = _group_names({e.notification.group_id for e in shown})
    base = current_app.config["BASE_URL"].rstrip("/")
    sections: OrderedDict = OrderedDict()
    for entry in shown:
        n = entry.notification
        group_key = n.group_id if n.group_id in group_names else None
        section = sections.get(group_key)
        if section is None:
            section = sections[group_key] = DigestSection(group_names.get(group_key, ""))
        section.kinds.setdefault(n.kind, []).append(
            DigestLine(entry.message, base + entry.path, _when(n.created_at, user))
        )
    # Named groups first (by name), then what concerns the whole network.
    ordered = sorted(sections.items(), key=lambda kv: (kv[0] is None, kv[1].heading.lower()))
    return [s for _k, s in ordered], [e.notification.id for e in shown], pending_ids


def _group_names(ids) -> dict[int, str]:
    from buyergroup.network.models import WorkingGroup

    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(
        select(WorkingGroup.id, WorkingGroup.name).where(WorkingGroup.id.in_(ids))
    ).all())


def _queue_digest(user: User, frequency: Frequency, kinds: list[Kind], until: datetime,
                  period: str, group_names: dict[int, str], rows: list[Notification],
                  cache: dict) -> list[int] | None:
    """Queue the digest of what happened until ``until`` and add its claim (flushed by the
    batch); returns the ids of the notifications it deals with, or None when there is
    nothing new to send."""
    rows = [r for r in rows if r.created_at <= until]
    sections, included, pending = build_digest(user, kinds, until, group_names, rows=rows,
                                               cache=cache)
    if not included:
        return None
    message = queue_email(
        user.email,
        "community_digest",
        locale=user.locale or "en",
        html=True,
        headers=unsubscribe.headers(user.id, kinds),
        user=user,
        frequency=frequency,
        sections=sections,
        count=len(included),
        # A link per kind shown, beside its heading: stop only that kind.
        kind_links={kind: unsubscribe.link(user.id, [kind])
                    for section in sections for kind in section.kinds},
        **_footer(user, kinds),
    )
    db.session.add(DigestRun(user_id=user.id, frequency=frequency, period=period,
                             notifications=len(included), outbox_id=message.id))
    return pending


def _send_batch(batch: list, frequency: Frequency, now: datetime,
                group_names: dict[int, str], report: DigestReport,
                cache: dict | None = None) -> None:
    """Queue a batch of digests with their claims, and mark what they dealt with, in one
    transaction. The claims are inserted together at the end: a second scheduler's insert
    waits there for the first one's commit, then fails on the unique key. The batch is then
    undone and retried member by member, so each member's digest still goes out once, by
    whichever run claimed it."""
    cache = {} if cache is None else cache
    rows = _pending_rows([user.id for user, *_rest in batch], now)
    try:
        dealt = [_queue_digest(user, frequency, kinds, until, period, group_names,
                               rows[user.id], cache)
                 for user, kinds, period, until in batch]
        db.session.flush()  # the claims
        # Everything pending for these kinds is now dealt with: what was shown goes out,
        # what was read already or became hidden needs no email any more.
        ids = [i for pending in dealt if pending for i in pending]
        for start in range(0, len(ids), 500):
            db.session.execute(
                update(Notification)
                .where(Notification.id.in_(ids[start:start + 500]),
                       Notification.emailed_at.is_(None))
                .values(emailed_at=now)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if len(batch) == 1:
            report.already_sent += 1
            return
        for one in batch:
            _send_batch([one], frequency, now, group_names, report, cache)
        return
    sent = sum(1 for pending in dealt if pending)
    report.sent += sent
    report.nothing_new += len(dealt) - sent


#: Members whose digests share one transaction (a run killed half-way loses at most the
#: batch it had not committed, which the next run sends).
BATCH_SIZE = 50


def send_digests(frequency: Frequency | str, *, now: datetime | None = None,
                 due_only: bool = False, batch_size: int = BATCH_SIZE) -> DigestReport:
    """Send every member's ``frequency`` digest for their current period (``due_only``:
    only members for whom it is due at their local time). Owns its transactions."""
    from buyergroup.community.targets_builtin import forget_group_ids, preload_group_ids

    frequency = Frequency(getattr(frequency, "value", frequency))
    if frequency not in DIGEST_FREQUENCIES:
        raise ValueError("digests are daily or weekly")
    now = now or utcnow()
    report = DigestReport(frequency.value)
    user_ids = _candidates(now)
    report.candidates = len(user_ids)
    kinds_by_user = _kinds_by_user(user_ids, frequency)
    users = {}
    for start in range(0, len(user_ids), 500):
        users.update({u.id: u for u in db.session.scalars(
            select(User).where(User.id.in_(user_ids[start:start + 500]),
                               User.is_active_account.is_(True)))})
    todo = []
    for uid in user_ids:
        user = users.get(uid)
        if user is None or not kinds_by_user.get(uid):
            continue
        if due_only:
            # The scheduler: the period of the member's latest 07:00, with what happened
            # until then (a period whose 07:00 has not come yet is not due).
            until = cutoff_of(frequency, user, now)
            if not is_due(frequency, user, now):
                continue
        else:
            until = now  # the command: everything pending, right away
        todo.append((user, kinds_by_user[uid], period_of(frequency, user, now), until))
    claimed = set()
    ids = [user.id for user, *_rest in todo]
    for start in range(0, len(ids), 500):
        claimed.update((user_id, period) for user_id, period in db.session.execute(
            select(DigestRun.user_id, DigestRun.period).where(
                DigestRun.frequency == frequency, DigestRun.user_id.in_(ids[start:start + 500]))
        ))
    report.already_sent = sum(1 for user, _k, period, _u in todo
                              if (user.id, period) in claimed)
    todo = [entry for entry in todo if (entry[0].id, entry[2]) not in claimed]
    group_names = _group_names(
        db.session.scalars(select(Notification.group_id).where(
            Notification.emailed_at.is_(None), Notification.group_id.is_not(None)).distinct())
    )
    preload_group_ids(ids)
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        db.session.commit()  # end the read: the batches below are transactions of their own
        cache: dict = {}  # targets loaded once for the whole run
        for start in range(0, len(todo), max(batch_size, 1)):
            _send_batch(todo[start:start + batch_size], frequency, now, group_names, report,
                        cache)
    finally:
        session.expire_on_commit = keep
        forget_group_ids()
    return report


def send_digest_to(user: User, frequency: Frequency, kinds: list[Kind], now: datetime,
                   group_names: dict[int, str] | None = None) -> str:
    """One member's digest in a transaction of its own: "sent", "already_sent" or
    "nothing_new"."""
    report = DigestReport(frequency.value)
    if group_names is None:
        group_names = _group_names(db.session.scalars(
            select(Notification.group_id).where(Notification.user_id == user.id).distinct()))
    _send_batch([(user, kinds, period_of(frequency, user, now), now)], frequency, now,
                group_names, report)
    return "sent" if report.sent else "already_sent" if report.already_sent else "nothing_new"


def send_due_digests() -> dict[str, int]:
    """The scheduler's job: daily and weekly digests that are due at members' local time."""
    result = {}
    for frequency in DIGEST_FREQUENCIES:
        result[frequency.value] = send_digests(frequency, due_only=True).sent
    return result
