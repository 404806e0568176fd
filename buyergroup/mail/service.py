"""Queue email in the outbox (inside the caller's transaction) and deliver it afterwards.

``queue_email`` only adds a row, so a rolled-back change sends nothing. ``deliver_due``
sends what is due, through SMTP when ``MAIL_SERVER`` is set, else into ``MAIL_FOLDER`` as
``.eml`` files, claiming each message first so that it goes out exactly once however many
senders run; a failure is retried with exponential backoff and set aside after
``MAX_ATTEMPTS`` with the reason kept.
"""

from __future__ import annotations

import base64
import json
import os
import re
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from flask import current_app, g, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError

from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage, OutboxState

MAX_ATTEMPTS = 6
BASE_BACKOFF_SECONDS = 60
SMTP_TIMEOUT_SECONDS = 20


def queue_email(
    recipient: str,
    template: str,
    *,
    locale: str | None = None,
    timezone: str | None = None,
    dedupe_key: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    html: bool = False,
    headers: dict[str, str] | None = None,
    **context,
) -> OutboxMessage:
    """Render ``templates/email/<template>.{subject,txt}`` in ``locale`` and queue it.

    The subject template is a single line. ``attachments`` are (filename, type, bytes).
    ``html`` also renders ``<template>.html`` as an HTML alternative; ``headers`` are
    extra headers (``List-Unsubscribe``...).
    """
    locale = locale or "en"
    with force_locale(locale):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        body = render_template(f"email/{template}.txt", **context)
        body_html = render_template(f"email/{template}.html", **context) if html else None
    message = OutboxMessage(
        recipient=recipient,
        subject=" ".join(subject.split()),
        body_text=body,
        locale=locale,
        dedupe_key=dedupe_key,
        body_html=body_html,
        headers_json=json.dumps(headers) if headers else None,
        attachments_json=json.dumps(
            [
                {"filename": n, "content_type": t, "data": base64.b64encode(d).decode("ascii")}
                for n, t, d in attachments or []
            ]
        )
        if attachments
        else None,
    )
    db.session.add(message)
    db.session.flush()
    # Remember it so the request can try to deliver it as soon as it has committed.
    g.setdefault("queued_mail_ids", []).append(message.id)
    return message


def message_id_of(item: OutboxMessage) -> str:
    """The same Message-ID on every attempt at one outbox message.

    Should a sender be killed in the one window the outbox cannot close (after the server
    accepted, before the message was marked sent), the copy sent again carries the same
    Message-ID, so receiving systems that drop duplicates by it (many do) drop it, and any
    reader can tell it is the same message. The creation time keeps ids unique across a
    rebuilt database whose row ids start again at 1.
    """
    return f"<outbox.{item.id}.{item.created_at:%Y%m%d%H%M%S%f}@buyergroup.example.org>"


_URL = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)\]])")
SIGNATURE_SEPARATOR = "\n-- \n"


def _html_lines(text: str) -> Markup:
    """One paragraph of the text body as HTML: escaped, links clickable, lines kept."""
    lines = []
    for line in text.splitlines():
        pieces = _URL.split(line)
        lines.append(Markup("").join(
            Markup('<a href="{0}" style="color:#1d4f91;">{0}</a>').format(piece)
            if i % 2 else escape(piece)
            for i, piece in enumerate(pieces)
        ))
    return Markup("<br>\n").join(lines)


def html_of(text: str, *, subject: str, locale: str) -> str:
    """The HTML part, made from the text part (one template per email, the text one):
    paragraphs at blank lines, links clickable, the signature set apart."""
    body, _sep, signature = text.partition(SIGNATURE_SEPARATOR)
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", body) if p.strip()]
    return render_template(
        "email/_layout.html", subject=subject, locale=locale,
        paragraphs=[_html_lines(p) for p in paragraphs],
        signature=_html_lines(signature.strip()) if signature.strip() else None,
    )


def build_message(item: OutboxMessage, sender: str) -> EmailMessage:
    """The message as sent: the same on every attempt (Date is when it was queued).

    ``policy.default`` (RFC 5322 folding, 7-bit safe encoded words for any SMTP server)
    folds a long subject at spaces, never right after "Subject:".
    """
    message = EmailMessage(policy=policy.default)
    message["From"] = sender
    message["To"] = item.recipient
    message["Subject"] = " ".join(item.subject.split())
    message["Date"] = format_datetime(
        (item.created_at if item.created_at.tzinfo else item.created_at.replace(tzinfo=UTC))
        .astimezone(UTC)
    )
    message["Message-ID"] = message_id_of(item)
    for name, value in json.loads(item.headers_json or "{}").items():
        message[name] = value
    # RFC 3834: sent by the site, not a person: no vacation replies to it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(item.body_text)
    # A message that brings its own HTML (the digests) sends it; the others get theirs made
    # from the text part, so both parts always say the same.
    message.add_alternative(
        item.body_html or html_of(item.body_text, subject=item.subject, locale=item.locale),
        subtype="html",
    )
    for attachment in json.loads(item.attachments_json or "[]"):
        maintype, _, subtype = attachment["content_type"].partition("/")
        data = base64.b64decode(attachment["data"])
        if attachment["content_type"] == "text/calendar":
            # Clients offer to add (or remove) the event only with method= on the part,
            # and decode its accents right only with charset=.
            method = calendar_method(data)
            message.add_attachment(
                data.decode("utf-8"), subtype="calendar", charset="utf-8",
                filename=attachment["filename"],
                params={"method": method} if method else None,
            )
            continue
        message.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment["filename"],
        )
    # Last: set_content and add_attachment move or replace Content-* headers.
    message["Content-Language"] = item.locale
    return message


def calendar_method(data: bytes) -> str | None:
    """The METHOD of an .ics file (REQUEST, CANCEL, PUBLISH), for its part's Content-Type."""
    match = re.search(rb"^METHOD:([A-Za-z-]+)\r?$", data, re.MULTILINE)
    return match.group(1).decode("ascii").upper() if match else None


class _Transport:
    """Where messages go: one SMTP connection per run (opened at the first message), or,
    without ``MAIL_SERVER``, ``.eml`` files in ``MAIL_FOLDER``.

    The connection is dropped after any failure, so the next message starts clean.
    """

    def __init__(self) -> None:
        self.config = current_app.config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Transport:
        return self

    def __exit__(self, *exc_info) -> None:
        self._close()

    def send(self, message_id: int, message: EmailMessage) -> None:
        if not self.config["MAIL_SERVER"]:
            folder = Path(self.config["MAIL_FOLDER"])
            folder.mkdir(parents=True, exist_ok=True)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{message_id}-{message['To'].replace('@', '_at_')}.eml"
            (folder / name).write_bytes(message.as_bytes())
            return
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except BaseException:
            self._close()
            raise

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        smtp = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


@dataclass(frozen=True)
class _Claim:
    id: int
    recipient: str
    attempts: int  # counting this one
    lease_until: datetime
    message: EmailMessage


def _worker_name() -> str:
    """Who holds a claim: host and process, and a nonce so two runs never share a name."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime):
    """Due, pending, and claimed by nobody (or by a sender whose lease has run out)."""
    return and_(
        OutboxMessage.state == OutboxState.pending,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )


def _claim(message_id: int, worker: str, sender: str) -> _Claim | None:
    """Claim one message in its own transaction; None when another sender has it.

    One conditional UPDATE does it, on SQLite and PostgreSQL alike: of two senders racing
    for the row, the second's UPDATE waits for the first's commit (SQLite's write lock,
    PostgreSQL's row lock), finds the lease taken and changes nothing. The attempt is
    counted now, so a message that kills its sender every time still ends ``failed``.
    """
    now = utcnow()
    lease_until = now + timedelta(seconds=current_app.config.get("MAIL_CLAIM_SECONDS", 300))
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _claimable(now))
        .values(claimed_by=worker, lease_until=lease_until,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    item = db.session.get(OutboxMessage, message_id, populate_existing=True)
    claim = _Claim(item.id, item.recipient, item.attempts, lease_until,
                   build_message(item, sender))
    # Commit before talking to the server: no transaction stays open during SMTP (on
    # SQLite an open one would hold up every writer).
    db.session.commit()
    return claim


def _finish(claim: _Claim, worker: str, **values) -> None:
    """Record the outcome of ``claim`` and release it, in one short transaction.

    A busy database does not make it give up: on SQLite a writer can wait out the busy
    timeout ("database is locked") behind other writers, and a claim left unrecorded
    would be sent again once its lease ran out. So it retries while the lease lasts.
    """
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claim.id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == OutboxState.pending,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    pause = 0.05
    while True:
        try:
            done = db.session.execute(statement).rowcount
            db.session.commit()
            break
        except OperationalError:
            db.session.rollback()
            if utcnow() + timedelta(seconds=pause) >= claim.lease_until:
                raise
            current_app.logger.info("Mail %s: database busy, recording the outcome again",
                                    claim.id)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
    if done != 1:
        # Only when the outcome came after the lease ran out and another sender took over.
        current_app.logger.warning("Mail %s: claim lost before its outcome was recorded",
                                   claim.id)


def deliver_due(ids: list[int] | None = None, limit: int = 100) -> int:
    """Send due messages (optionally only ``ids``), each exactly once; returns the sent count.

    A job, not a request: it owns its transactions. Each message is claimed, sent and
    marked sent before the next one is claimed, each step its own short transaction, so
    a sender killed at any point loses nothing (its claim expires after
    ``MAIL_CLAIM_SECONDS`` and another sender takes the message) and sends nothing twice,
    except in the one window no outbox can close: killed after the SMTP server accepted a
    message and before the very next statement marked it sent. Any number of senders may
    run at once.
    """
    now = utcnow()
    query = select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    candidates = db.session.scalars(query).all()
    db.session.commit()  # end the read: each claim below is its own transaction

    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    worker = _worker_name()
    sent = 0
    with _Transport() as transport:
        for message_id in candidates:
            try:
                claim = _claim(message_id, worker, sender)
            except OperationalError as error:
                # The database is too busy to claim: leave the rest for the next run.
                db.session.rollback()
                current_app.logger.warning("Mail delivery paused, cannot claim: %s", error)
                break
            if claim is None:
                continue  # another sender has it, or has sent it already
            if utcnow() >= claim.lease_until:
                continue  # the claim took its whole lease; another sender may have it now
            try:
                transport.send(claim.id, claim.message)
            except Exception as error:  # noqa: BLE001 - any delivery failure is retried
                _record_failure(claim, worker, error)
                continue
            # The server has the message: mark it sent at once, before anything else.
            _finish(claim, worker, state=OutboxState.sent, sent_at=utcnow(), last_error="")
            sent += 1
    return sent


def _record_failure(claim: _Claim, worker: str, error: Exception) -> None:
    """Retry later with exponential back-off, or set the message aside as ``failed``."""
    reason = f"{type(error).__name__}: {error}"[:2000]
    if claim.attempts >= MAX_ATTEMPTS:
        _finish(claim, worker, state=OutboxState.failed, last_error=reason)
    else:
        delay = BASE_BACKOFF_SECONDS * 2 ** (claim.attempts - 1)
        _finish(claim, worker, last_error=reason,
                next_attempt_at=utcnow() + timedelta(seconds=delay))
    current_app.logger.warning("Mail to %s failed (attempt %d): %s", claim.recipient,
                               claim.attempts, reason)
