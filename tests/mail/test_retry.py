"""Delivery failures, as a member waiting for a message would meet them: a server that
cannot be reached or refuses (451, 550) leaves the message waiting with a growing back-off
and the reason kept; after MAX_ATTEMPTS it is set aside as failed; a later success sends it
once. Real SMTP server (aiosmtpd), real sockets."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from buyergroup.database import utcnow
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage, OutboxState
from buyergroup.mail.service import BASE_BACKOFF_SECONDS, MAX_ATTEMPTS, deliver_due
from tests.mail.support import free_port, outbox_rows, queue_messages


def make_due() -> None:
    """Let the back-off pass (as the clock would), without touching anything else."""
    a_second_ago = utcnow() - timedelta(seconds=1)
    db.session.execute(update(OutboxMessage).values(next_attempt_at=a_second_ago))
    db.session.commit()


def the_row() -> OutboxMessage:
    [row] = outbox_rows()
    return row


def test_a_server_that_cannot_be_reached_leaves_the_message_waiting(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    queue_messages(["ana@example.org"])
    before = utcnow()
    assert deliver_due() == 0
    after = utcnow()
    row = the_row()
    assert row.state is OutboxState.pending
    assert row.attempts == 1
    assert row.last_error.startswith("ConnectionRefusedError")
    backoff = timedelta(seconds=BASE_BACKOFF_SECONDS)
    assert before + backoff <= row.next_attempt_at <= after + backoff
    assert row.lease_until is None  # the claim is released with the outcome
    # Not due yet: the next run leaves it alone.
    assert deliver_due() == 0
    assert the_row().attempts == 1


def test_the_back_off_doubles_and_after_the_last_attempt_the_message_fails(app, smtp):
    smtp.refuse = "451 4.3.0 Mailbox busy, try again later"
    queue_messages(["ana@example.org"])
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        make_due()
        tried_at = utcnow()
        assert deliver_due() == 0
        row = the_row()
        assert row.attempts == attempt
        assert "451" in row.last_error and "Mailbox busy" in row.last_error
        if attempt < MAX_ATTEMPTS:
            assert row.state is OutboxState.pending
            waits.append(round((row.next_attempt_at - tried_at).total_seconds() / 60))
    assert waits == [1, 2, 4, 8, 16]  # minutes
    assert row.state is OutboxState.failed
    # A failed message stays aside, even when the server works again.
    smtp.refuse = None
    make_due()
    assert deliver_due() == 0
    assert smtp.count() == 0
    assert the_row().state is OutboxState.failed


def test_a_later_success_sends_the_message_once(app, smtp):
    smtp.refuse = "550 5.1.1 Mailbox unavailable"
    queue_messages(["ana@example.org"])
    assert deliver_due() == 0
    assert the_row().state is OutboxState.pending and "550" in the_row().last_error

    smtp.refuse = None
    assert deliver_due() == 0  # still backing off
    make_due()
    assert deliver_due() == 1
    assert deliver_due() == 0
    make_due()
    assert deliver_due() == 0
    assert smtp.counts() == {"ana@example.org": 1}
    row = the_row()
    assert row.state is OutboxState.sent and row.last_error == "" and row.sent_at is not None
    assert row.attempts == 2


def test_one_refused_recipient_does_not_hold_up_the_others(app, smtp):
    smtp.refuse, smtp.refuse_only = "550 5.1.1 No such user", {"gone@example.org"}
    queue_messages(["ana@example.org", "gone@example.org", "bo@example.org"])
    assert deliver_due() == 2
    assert sorted(smtp.counts()) == ["ana@example.org", "bo@example.org"]
    states = {row.recipient: row.state for row in outbox_rows()}
    assert states == {"ana@example.org": OutboxState.sent, "gone@example.org": OutboxState.pending,
                      "bo@example.org": OutboxState.sent}


def test_a_copy_sent_again_carries_the_same_message_id(app, smtp):
    """The window no outbox can close: the server accepted, the sender died before marking
    the message sent. The second copy is recognisably the same message."""
    queue_messages(["ana@example.org"])
    smtp.refuse = "451 4.3.0 Try again later"
    deliver_due()  # a failed attempt first: the id does not change between attempts
    smtp.refuse = None
    make_due()
    assert deliver_due() == 1
    # As if the sender had been killed just before its "sent" was recorded:
    db.session.execute(update(OutboxMessage).values(state=OutboxState.pending, sent_at=None))
    db.session.commit()
    make_due()
    assert deliver_due() == 1
    first, again = smtp.message_ids
    assert first == again and first.startswith(f"<outbox.{the_row().id}.")
