"""No account enumeration by timing: "forgot password" answers members and strangers
in the same time, whatever the mail server costs.

The test SMTP server is made as slow as a distant one (200 ms per message): before the
fix the mail was handed to SMTP before the response left, so a member's address answered
200 ms later than a stranger's.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

SMTP_DELAY = 0.2


@pytest.fixture
def slow_mailbox(mailbox, monkeypatch):
    received = mailbox.handle_DATA

    async def slowly(server, session, envelope):
        await asyncio.sleep(SMTP_DELAY)
        return await received(server, session, envelope)

    monkeypatch.setattr(mailbox, "handle_DATA", slowly)
    return mailbox


def answer_time(client, email: str) -> float:
    started = time.perf_counter()
    response = client.post("/password/forgot", data={"email": email})
    response.get_data()
    elapsed = time.perf_counter() - started
    assert response.status_code == 302
    response.close()  # what the server does after sending: the mail leaves now
    return elapsed


def test_forgot_password_answers_members_as_fast_as_strangers(
    new_client, make_user, slow_mailbox
):
    members = [make_user(f"known{n}@example.org", password=None) for n in range(4)]
    known = [answer_time(new_client(), m.email) for m in members]
    unknown = [answer_time(new_client(), f"stranger{n}@example.org") for n in range(4)]

    assert statistics.median(known) < statistics.median(unknown) + SMTP_DELAY / 2, (
        known, unknown
    )
    # And the members still get their link, once the response has gone.
    assert sorted(m["To"] for m in slow_mailbox.messages) == sorted(m.email for m in members)
