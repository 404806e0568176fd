"""Every outbox message reaches the SMTP server exactly once, whoever sends it and whoever
gets killed: real SMTP server, real sender processes, SIGKILL, on SQLite and PostgreSQL.

The kills land while the server withholds its answer to MAIL FROM, i.e. in the middle of a
batch and in the middle of one message's delivery. The one window an outbox cannot close
(killed after the server accepted a message, before the next statement marked it sent) is
a few milliseconds wide and is not aimed at here.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from buyergroup.database import utcnow
from buyergroup.mail.models import OutboxState
from tests.mail.support import (
    finish,
    flask_mail_deliver,
    free_port,
    kill,
    kill_when_stalled,
    outbox_rows,
    pending_count,
    process_env,
    queue_messages,
    recipients,
    worker,
)

# Other connections (threads, processes, the index) must see what these tests commit.
pytestmark = pytest.mark.committing

def left_claimed() -> list[int]:
    """Pending messages whose claim has not expired yet (what a killed sender left behind)."""
    now = utcnow()
    return [row.id for row in outbox_rows()
            if row.state is OutboxState.pending and row.lease_until and row.lease_until > now]


def wait_for_claims_to_expire() -> None:
    """Until no pending message is claimed any more (a killed sender's claim runs out
    TEST_CLAIM_SECONDS after it was taken)."""
    leases = [row.lease_until for row in outbox_rows()
              if row.state is OutboxState.pending and row.lease_until]
    if leases:
        time.sleep(max(0.0, (max(leases) - utcnow()).total_seconds()) + 0.05)


def deliver_the_rest(env, timeout: float = 90) -> int:
    """Run ``flask mail deliver`` until nothing is pending, each run once the claims of
    killed senders have expired; returns how many runs it took."""
    deadline = time.monotonic() + timeout
    runs = 0
    while pending_count():
        assert time.monotonic() < deadline, f"{pending_count()} messages still pending"
        wait_for_claims_to_expire()
        finish(flask_mail_deliver(env))
        runs += 1
    return runs


def assert_each_arrived_once(smtp, addresses: list[str]) -> None:
    counts = smtp.counts()
    lost = [address for address in addresses if counts[address] == 0]
    twice = {address: n for address, n in counts.items() if n > 1}
    assert (lost, twice) == ([], {}), f"lost {len(lost)}, sent more than once {len(twice)}"
    assert sum(counts.values()) == len(addresses)
    assert {row.state for row in outbox_rows()} == {OutboxState.sent}


#: Messages in the batch the senders are killed in, and how many more arrive before each
#: kill: three kills land mid-batch, well before its end.
BATCH = 60
BETWEEN_KILLS = 10


def test_a_sender_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, smtp):
    addresses = recipients(BATCH)
    queue_messages(addresses)
    smtp.delay = 0.005
    env = process_env(app, smtp)

    claims_left_by_kills = []
    for _kill in range(3):
        smtp.stall_after(smtp.count() + BETWEEN_KILLS)
        kill_when_stalled(smtp, flask_mail_deliver(env))
        claims_left_by_kills.append(len(left_claimed()))
    assert 3 * BETWEEN_KILLS - 3 <= smtp.count() < BATCH  # the kills did land mid-batch

    deliver_the_rest(env)
    assert_each_arrived_once(smtp, addresses)
    # Each kill left the message it was delivering claimed (a claim left by the kill before
    # may not have expired yet, so a count can include it), which another sender took over
    # once the claim had expired: those three were attempted twice, the rest once.
    assert all(count >= 1 for count in claims_left_by_kills), claims_left_by_kills
    attempts = sorted(row.attempts for row in outbox_rows())
    assert attempts == [1] * (BATCH - 3) + [2] * 3


def _post(url: str, outcomes: list) -> None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=60) as r:
            outcomes.append(r.status)
    except (urllib.error.URLError, ConnectionError) as error:
        outcomes.append(error)


def start_web_worker(env) -> tuple[object, str]:
    port = free_port()
    web = worker(env, "web", str(port))
    assert web.stdout.readline().strip() == "ready"
    return web, f"http://127.0.0.1:{port}"


REQUESTS = 6
PER_REQUEST = 10


def test_the_request_hand_over_and_two_schedulers_never_send_one_message_twice(app, smtp):
    """A web worker hands each request's mail on after its commit while two scheduler-like
    senders deliver whatever is due: all three race for the same rows. Nobody is killed
    here, so claims last as long as in production: a busy SQLite must not make a sender
    lose its claim."""
    smtp.delay = 0.005
    env = process_env(app, smtp, MAIL_CLAIM_SECONDS="300")
    stop = Path(app.instance_path) / f"stop-{uuid.uuid4().hex}"
    schedulers = [worker(env, "deliver-loop", str(stop)) for _ in range(2)]
    for scheduler in schedulers:
        assert scheduler.stdout.readline().strip() == "ready"
    web, base = start_web_worker(env)
    try:
        outcomes: list = []

        def client(first: int) -> None:
            # Two members' browsers, each sending its requests one after the other, each
            # request queuing PER_REQUEST messages. (Many more concurrent writing requests
            # exceed what SQLite's default 5-second busy timeout absorbs on a busy machine,
            # mail or no mail.)
            for n in range(first, REQUESTS, 2):
                _post(f"{base}/test/queue/{PER_REQUEST}/{n * PER_REQUEST}", outcomes)

        clients = [threading.Thread(target=client, args=(first,)) for first in (0, 1)]
        for browser in clients:
            browser.start()
        for browser in clients:
            browser.join(timeout=180)
        assert outcomes == [200] * REQUESTS
        deadline = time.monotonic() + 60
        while pending_count() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        kill(web)
        stop.touch()
    sent_by_schedulers = [int(finish(s).split()[-1]) for s in schedulers]
    assert_each_arrived_once(smtp, recipients(REQUESTS * PER_REQUEST))
    # The senders really did race: the schedulers took some of what the requests queued.
    assert sum(sent_by_schedulers) > 0
    assert sum(sent_by_schedulers) < REQUESTS * PER_REQUEST


def test_a_web_worker_killed_while_handing_mail_on_loses_nothing(app, smtp):
    smtp.delay = 0.005
    env = process_env(app, smtp)
    web, base = start_web_worker(env)
    outcomes: list = []
    request = threading.Thread(target=_post, args=(f"{base}/test/queue/12/0", outcomes))
    smtp.stall_after(4)  # the request has committed; its hand-over is sending
    request.start()
    kill_when_stalled(smtp, web)
    request.join(timeout=30)
    assert isinstance(outcomes[0], Exception)  # the worker died before answering
    assert len(outbox_rows()) == 12  # the request's commit holds every message
    assert len(left_claimed()) == 1

    deliver_the_rest(env)
    assert_each_arrived_once(smtp, recipients(12))
