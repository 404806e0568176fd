"""Repeated sign-in failures reach the audit log: once per account and address."""

from __future__ import annotations

from sqlalchemy import select

from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.extensions import db


def _failures():
    db.session.rollback()
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.sign_in_failures)
        .order_by(AuditEntry.id)).all()


def _wrong(client, email, address="192.0.2.10"):
    return client.post("/login", data={"email": email, "password": "wrong password!"},
                       environ_base={"REMOTE_ADDR": address})


def test_one_entry_when_the_throttle_first_kicks_in(client, member):
    statuses = [_wrong(client, member.email).status_code for _ in range(9)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    entries = _failures()
    assert len(entries) == 1  # four throttled attempts, one entry
    entry = entries[0]
    assert entry.actor_id is None and entry.remote_addr == "192.0.2.10"
    assert (entry.target_type, entry.target_id) == ("user", member.id)
    # Another address guessing the same account is throttled (and recorded) on its own.
    for _ in range(6):
        _wrong(client, member.email, "198.51.100.7")
    assert [e.remote_addr for e in _failures()] == ["192.0.2.10", "198.51.100.7"]


def test_an_unknown_account_is_recorded_by_the_address_typed(client):
    for _ in range(7):
        _wrong(client, "nobody@example.org")
    entries = _failures()
    assert [(e.target_type, e.target_label) for e in entries] == [
        ("account", "nobody@example.org")]


def test_the_owner_can_still_sign_in_from_elsewhere(client, member):
    from tests.conftest import TEST_PASSWORD

    for _ in range(7):
        _wrong(client, member.email)
    response = client.post("/login", data={"email": member.email, "password": TEST_PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == 302
