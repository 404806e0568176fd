"""Queue email in the outbox (inside the caller's transaction) and deliver it afterwards.

``queue_email`` only adds a row, so a rolled-back change sends nothing. ``deliver_due``
sends what is due, through SMTP when ``MAIL_SERVER`` is set, else into ``MAIL_FOLDER`` as
``.eml`` files; a failure is retried with exponential backoff and set aside after
``MAX_ATTEMPTS`` with the reason kept.
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, g, render_template
from flask_babel import force_locale
from sqlalchemy import select

from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage, OutboxState

MAX_ATTEMPTS = 6
BASE_BACKOFF_SECONDS = 60


def queue_email(
    recipient: str,
    template: str,
    *,
    locale: str | None = None,
    timezone: str | None = None,
    dedupe_key: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> OutboxMessage:
    """Render ``templates/email/<template>.{subject,txt}`` in ``locale`` and queue it.

    The subject template is a single line. ``attachments`` are (filename, type, bytes).
    """
    locale = locale or "en"
    with force_locale(locale):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        body = render_template(f"email/{template}.txt", **context)
    message = OutboxMessage(
        recipient=recipient,
        subject=" ".join(subject.split()),
        body_text=body,
        locale=locale,
        dedupe_key=dedupe_key,
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


def build_message(item: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.recipient
    message["Subject"] = item.subject
    message["Message-ID"] = make_msgid(domain="buyergroup.example.org")
    message.set_content(item.body_text)
    for attachment in json.loads(item.attachments_json or "[]"):
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(
            base64.b64decode(attachment["data"]),
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment["filename"],
        )
    # Last: set_content and add_attachment move or replace Content-* headers.
    message["Content-Language"] = item.locale
    return message


def _send(message: EmailMessage) -> None:
    config = current_app.config
    if not config["MAIL_SERVER"]:
        folder = Path(config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        (folder / f"{stamp}-{message['To'].replace('@', '_at_')}.eml").write_bytes(
            message.as_bytes()
        )
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def deliver_due(ids: list[int] | None = None, limit: int = 100) -> int:
    """Send due messages (optionally only ``ids``) and commit each outcome; returns sent count.

    Rows are locked with ``SKIP LOCKED`` where the database supports it, so two workers
    never send the same message.
    """
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.pending)
        .where(OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    sent = 0
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    for item in db.session.scalars(query).all():
        item.attempts += 1
        try:
            _send(build_message(item, sender))
        except Exception as error:  # noqa: BLE001 - any delivery failure is retried
            item.last_error = f"{type(error).__name__}: {error}"[:2000]
            if item.attempts >= MAX_ATTEMPTS:
                item.state = OutboxState.failed
            else:
                delay = BASE_BACKOFF_SECONDS * 2 ** (item.attempts - 1)
                item.next_attempt_at = utcnow() + timedelta(seconds=delay)
            current_app.logger.warning("Mail to %s failed: %s", item.recipient, item.last_error)
        else:
            item.state = OutboxState.sent
            item.sent_at = utcnow()
            item.last_error = ""
            sent += 1
    db.session.commit()
    return sent
