"""The audit log's rules: written with the change, never changed, blanked on erasure, purged
after the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from buyergroup.audit import service
from buyergroup.audit.models import AuditAction, AuditEntry, AuditLogIsAppendOnly
from buyergroup.database import utcnow
from buyergroup.extensions import db


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_record_copies_the_actor_target_and_details(app, admin, member):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        entry = service.record(AuditAction.role_changed, actor=admin, target=member,
                               details={"from": "member", "to": "organiser"})
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.action is AuditAction.role_changed
    assert (stored.actor_id, stored.actor_name, stored.actor_email) == (
        admin.id, "Ada Admin", "admin@example.org")
    assert (stored.target_type, stored.target_id, stored.target_label) == (
        "user", member.id, "Mia Member")
    assert stored.remote_addr == "198.51.100.7"
    assert stored.details == {"from": "member", "to": "organiser"}
    assert stored.created_at.tzinfo is not None
    assert utcnow() - stored.created_at < timedelta(minutes=1)


def test_outside_a_request_the_actor_may_be_the_system(app):
    entry = service.record(AuditAction.sign_in_failures, actor=None,
                           target=service.Target("user", 42, "someone@example.org"),
                           details={"failures": 5, "since": datetime(2026, 1, 1, tzinfo=UTC)})
    db.session.commit()
    assert entry.actor_id is None and entry.actor_name == ""
    assert entry.remote_addr is None
    assert entry.details == {"failures": 5, "since": "2026-01-01 00:00:00+00:00"}


def test_an_entry_rolls_back_with_the_change_it_records(app, admin, member):
    service.record(AuditAction.account_deactivated, actor=admin, target=member)
    db.session.rollback()
    assert count() == 0


def test_record_accepts_the_action_code(app, admin):
    assert service.record("token_created", actor=admin).action is AuditAction.token_created
    with pytest.raises(ValueError):
        service.record("made_up", actor=admin)


class TestAppendOnly:
    def test_changing_an_entry_is_refused(self, app, admin, make_entry):
        entry = make_entry(actor=admin)
        entry.actor_name = "Someone else"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditEntry, entry.id).actor_name == "Ada Admin"

    def test_deleting_an_entry_is_refused(self, app, admin, make_entry):
        entry = make_entry(actor=admin)
        db.session.delete(entry)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        assert count() == 1

    @pytest.mark.parametrize("statement", [
        update(AuditEntry).values(actor_name="x"),
        delete(AuditEntry),
        delete(AuditEntry).where(AuditEntry.created_at < utcnow()),
    ], ids=["update", "delete all", "delete old"])
    def test_bulk_statements_are_refused(self, app, admin, make_entry, statement):
        make_entry(actor=admin)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(statement)
        db.session.rollback()
        assert count() == 1

    @pytest.mark.parametrize("sql", [
        "UPDATE audit_entries SET actor_name = 'x'",
        "UPDATE audit_entries SET actor_name = ''",  # blanking needs the erasure's flag
        "DELETE FROM audit_entries",
    ])
    def test_postgresql_refuses_raw_sql_too(self, app, admin, make_entry, sql):
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigger is PostgreSQL's")
        make_entry(actor=admin)
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
        assert db.session.scalar(select(AuditEntry.actor_name)) == "Ada Admin"

    def test_postgresql_erasure_may_only_blank_copies(self, app, admin, make_entry):
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigger is PostgreSQL's")
        make_entry(actor=admin)
        db.session.execute(text("SELECT set_config('buyergroup.audit_erasure', 'on', true)"))
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE audit_entries SET action = 'token_created'"))
        db.session.rollback()
        assert db.session.scalar(select(AuditEntry.action)) is AuditAction.role_changed


class TestForgetMember:
    def test_the_copies_are_blanked_and_the_entry_stays(self, app, admin, member, make_entry):
        by_member = make_entry(AuditAction.data_exported, actor=member, target=member)
        about_member = make_entry(AuditAction.role_changed, actor=admin, target=member)
        invitation = make_entry(AuditAction.invitation_sent, actor=admin,
                                target=service.Target("invitation", 3, "Member@Example.org"))
        other = make_entry(AuditAction.token_created, actor=admin, target=admin)

        touched = service.forget_member(member.id, member.email)
        db.session.commit()

        assert touched == 4  # by_member counts twice: as actor and as target
        by_member, about_member, invitation, other = (
            db.session.get(AuditEntry, e.id)
            for e in (by_member, about_member, invitation, other)
        )
        assert (by_member.actor_id, by_member.actor_name, by_member.actor_email) == (
            member.id, "", "")
        assert by_member.actor_erased
        assert by_member.action is AuditAction.data_exported
        assert about_member.actor_name == "Ada Admin" and about_member.target_label == ""
        assert invitation.target_label == ""
        assert other.actor_name == "Ada Admin" and other.target_label == "Ada Admin"

    def test_changes_are_still_refused_after_an_erasure(self, app, admin, member, make_entry):
        entry = make_entry(actor=member)
        service.forget_member(member.id)
        db.session.commit()
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(update(AuditEntry).values(actor_name="back"))
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":  # the setting was local to that transaction
            with pytest.raises(DBAPIError):
                db.session.execute(text("UPDATE audit_entries SET actor_email = ''"))
            db.session.rollback()
        assert db.session.get(AuditEntry, entry.id).actor_erased


class TestPurge:
    def test_only_entries_older_than_the_retention_period_go(self, app, admin, make_entry):
        now = utcnow()
        make_entry(actor=admin, at=now - timedelta(days=731))
        kept = make_entry(actor=admin, at=now - timedelta(days=729)).id
        recent = make_entry(actor=admin).id
        assert service.purge_expired(now=now) == 1
        assert set(db.session.scalars(select(AuditEntry.id))) == {kept, recent}

    def test_the_period_is_configurable(self, app, admin, make_entry, monkeypatch):
        now = utcnow()
        make_entry(actor=admin, at=now - timedelta(days=40))
        make_entry(actor=admin, at=now - timedelta(days=20))
        monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 30)
        assert service.purge_expired(now=now) == 1
        assert count() == 1

    def test_after_a_purge_deleting_is_refused_again(self, app, admin, make_entry):
        make_entry(actor=admin)
        assert service.purge_expired() == 0
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(delete(AuditEntry))
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError):
                db.session.execute(text("DELETE FROM audit_entries"))
            db.session.rollback()
        assert count() == 1


class TestFilters:
    def test_bad_values_name_their_field(self):
        from buyergroup.errors import ValidationFailed

        for args, field in [({"action": "nope"}, "action"), ({"since": "yesterday"}, "since"),
                            ({"until": "2026-13-01"}, "until"),
                            ({"since": "2026-02-01", "until": "2026-01-01"}, "until")]:
            with pytest.raises(ValidationFailed) as raised:
                service.parse_filters(args)
            assert raised.value.field == field

    def test_the_last_possible_day_is_no_error(self, app, admin, make_entry):
        make_entry(actor=admin)
        filters = service.parse_filters({"since": "0001-01-01", "until": "9999-12-31"})
        assert len(db.session.scalars(service.entries_query(filters)).all()) == 1


@pytest.mark.parametrize("value, expected", [
    ("=2+3", "'=2+3"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("plain", "plain"), (None, ""), (7, "7"),
])
def test_csv_cells_that_look_like_formulas_are_neutralised(value, expected):
    assert service.csv_cell(value) == expected
