"""``/manage/audit`` and ``GET /api/v1/audit``: for administrators only, filtered, paged,
downloadable as CSV (and the download is itself recorded)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from buyergroup.audit import service
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.extensions import db
from tests.audit.conftest import bearer

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database


@pytest.fixture
def entries(make_entry, admin, member, organiser):
    """Three entries by different people on different days."""
    return [
        make_entry(AuditAction.role_changed, actor=admin, target=organiser,
                   at=datetime(2026, 3, 1, 10, tzinfo=UTC), details={"to": "organiser"}),
        make_entry(AuditAction.data_exported, actor=member, target=member,
                   at=datetime(2026, 3, 5, 23, 59, tzinfo=UTC)),
        make_entry(AuditAction.participants_downloaded, actor=organiser,
                   target=service.Target("event", 9, "=HYPERLINK(\"http://evil\")"),
                   at=datetime(2026, 3, 9, 8, tzinfo=UTC)),
    ]


class TestPage:
    def test_visitors_are_sent_to_sign_in(self, client, entries):
        response = client.get("/manage/audit/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert client.get("/manage/audit/audit.csv").status_code == 302

    @pytest.mark.parametrize("who", ["member", "organiser"])
    def test_everyone_but_admins_is_refused(self, client, auth, entries, request, who):
        auth.login(request.getfixturevalue(who))
        response = client.get("/manage/audit/")
        assert response.status_code == 403
        assert "Ada Admin" not in response.get_data(as_text=True)
        assert client.get("/manage/audit/audit.csv").status_code == 403

    def test_admins_see_every_entry_newest_first(self, client, auth, admin, entries):
        auth.login(admin)
        page = client.get("/manage/audit/").get_data(as_text=True)
        assert 'href="/manage/audit/"' in page  # the admin navigation links the page
        table = page[page.index("<table"):]
        assert "3 entries" in table
        assert table.index("Participant list downloaded") < table.index("Site role changed")
        assert "Oscar Organiser" in table and "member@example.org" in table

    @pytest.mark.parametrize("args, shown, hidden", [
        ({"actor": "mia"}, ["Personal data exported"], ["Site role changed"]),
        ({"actor": "ADMIN@example"}, ["Site role changed"], ["Personal data exported"]),
        ({"action": "participants_downloaded"}, ["Participant list downloaded"],
         ["Site role changed"]),
        ({"since": "2026-03-05", "until": "2026-03-05"}, ["Personal data exported"],
         ["Site role changed", "Participant list downloaded"]),
        ({"since": "2026-03-06"}, ["Participant list downloaded"], ["Personal data exported"]),
    ])
    def test_filters(self, client, auth, admin, entries, args, shown, hidden):
        auth.login(admin)
        page = client.get("/manage/audit/", query_string=args).get_data(as_text=True)
        table = page[page.index("<table"):]
        for text in shown:
            assert text in table
        for text in hidden:
            assert text not in table

    def test_a_bad_filter_is_named_not_a_500(self, client, auth, admin, entries):
        auth.login(admin)
        response = client.get("/manage/audit/?since=tomorrow&action=x")
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "Unknown action." in page  # the first bad field is named; then the next
        assert "<table" not in page
        page = client.get("/manage/audit/?since=tomorrow").get_data(as_text=True)
        assert 'id="since-error"' in page and "YYYY-MM-DD" in page

    def test_pages_of_fifty(self, client, auth, admin, make_entry):
        for _ in range(51):
            service.record(AuditAction.token_created, actor=admin)
        db.session.commit()
        auth.login(admin)
        first = client.get("/manage/audit/").get_data(as_text=True)
        assert first.count("API token created</td>") == 50
        second = client.get("/manage/audit/?page=2").get_data(as_text=True)
        assert second.count("API token created</td>") == 1

    def test_an_erased_actor_shows_as_former_member(self, client, auth, admin, member, entries):
        service.forget_member(member.id, member.email)
        db.session.commit()
        auth.login(admin)
        page = client.get("/manage/audit/?action=data_exported").get_data(as_text=True)
        assert "Former member" in page
        assert "Mia Member" not in page and "member@example.org" not in page


class TestCsv:
    def test_the_filtered_rows_with_formulas_neutralised(self, client, auth, admin, entries):
        auth.login(admin)
        response = client.get("/manage/audit/audit.csv?action=participants_downloaded")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        assert len(rows) == 2  # the header and the one matching entry
        header, row = rows
        assert row[header.index("Action code")] == "participants_downloaded"
        assert row[header.index("Actor")] == "Oscar Organiser"
        assert row[header.index("Target")] == "'=HYPERLINK(\"http://evil\")"

    def test_downloading_is_itself_recorded(self, client, auth, admin, entries):
        auth.login(admin)
        client.get("/manage/audit/audit.csv?actor=mia")
        db.session.expire_all()
        downloads = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == AuditAction.audit_downloaded)
        ).all()
        assert len(downloads) == 1
        assert downloads[0].actor_id == admin.id
        assert downloads[0].details == {"filters": {"actor": "mia"}, "rows": 1}
        assert downloads[0].remote_addr == "127.0.0.1"

    def test_a_refused_download_records_nothing(self, client, auth, member, entries):
        auth.login(member)
        client.get("/manage/audit/audit.csv")
        db.session.expire_all()
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == AuditAction.audit_downloaded)
        ) is None

    def test_a_bad_filter_is_a_400(self, client, auth, admin, entries):
        auth.login(admin)
        response = client.get("/manage/audit/audit.csv?until=soon")
        assert response.status_code == 302  # back, with the message as the page's notice
        assert client.get("/manage/audit/").status_code == 200


class TestApi:
    def test_admins_read_the_log(self, client, admin_token, entries, organiser):
        # Up to the fixture's last day: creating the admin's token is itself recorded, today.
        response = client.get("/api/v1/audit", query_string={"until": "2026-06-30"},
                              headers=bearer(admin_token))
        assert response.status_code == 200
        body = response.get_json()
        assert body["total"] == 3 and body["page"] == 1
        newest = body["items"][0]
        assert newest["action"] == "participants_downloaded"
        assert newest["actor"] == {"id": organiser.id, "name": "Oscar Organiser",
                                   "email": "organiser@example.org", "erased": False}
        assert newest["target"] == {"type": "event", "id": 9,
                                    "label": "=HYPERLINK(\"http://evil\")"}
        assert newest["at"].startswith("2026-03-09T08:00:00")
        assert response.headers["Cache-Control"] == "private, no-store"

    @pytest.mark.parametrize("args, actions", [
        ({"actor": "oscar"}, ["participants_downloaded"]),
        ({"action": "role_changed"}, ["role_changed"]),
        ({"since": "2026-03-02", "until": "2026-03-08"}, ["data_exported"]),
        ({"per_page": "1", "page": "3", "until": "2026-06-30"}, ["role_changed"]),
    ])
    def test_filters(self, client, admin_token, entries, args, actions):
        body = client.get("/api/v1/audit", query_string=args,
                          headers=bearer(admin_token)).get_json()
        assert [item["action"] for item in body["items"]] == actions

    @pytest.mark.parametrize("args, parameter", [
        ({"since": "last week"}, "since"), ({"until": "2026-02-30"}, "until"),
        ({"action": "nope"}, "action"), ({"page": "0"}, "page"), ({"per_page": "x"}, "per_page"),
    ])
    def test_a_bad_parameter_is_named(self, client, admin_token, entries, args, parameter):
        response = client.get("/api/v1/audit", query_string=args, headers=bearer(admin_token))
        assert response.status_code == 400
        assert response.get_json()["error"]["parameter"] == parameter

    def test_other_members_get_403_json(self, client, member, entries):
        from buyergroup.accounts.service import create_api_token

        _, secret = create_api_token(member, "Mine")
        db.session.commit()
        response = client.get("/api/v1/audit", headers=bearer(secret))
        assert response.status_code == 403
        assert response.get_json()["error"]["status"] == 403

    def test_no_token_is_401(self, client, entries):
        assert client.get("/api/v1/audit").status_code == 401

    def test_answers_match_the_openapi_document(self, client, admin_token, entries, member):
        from openapi_spec_validator import validate

        from tests.api.test_api import response_validator

        document = client.get("/api/v1/openapi.json").get_json()
        validate(document)
        service.forget_member(member.id)  # an erased actor is part of the contract too
        db.session.commit()
        responses = document["paths"]["/api/v1/audit"]["get"]["responses"]
        for status, args in (("200", {}), ("400", {"since": "x"})):
            response = client.get("/api/v1/audit", query_string=args,
                                  headers=bearer(admin_token))
            assert response.status_code == int(status)
            schema = responses[status]["content"]["application/json"]["schema"]
            errors = list(response_validator(document, schema).iter_errors(response.get_json()))
            assert not errors, [e.message for e in errors]


def test_the_address_is_the_client_behind_the_proxy(app_factory, tmp_path, make_user):
    """With PROXY_COUNT=1 (ProxyFix), the entry holds the X-Forwarded-For address."""
    proxied = app_factory(f"sqlite:///{tmp_path / 'proxied.sqlite'}", PROXY_COUNT=1)
    with proxied.app_context():
        db.create_all()
        client = proxied.test_client()
        from buyergroup.accounts.models import Role
        from buyergroup.accounts.service import create_user

        admin = create_user(email="proxy-admin@example.org", password="correct horse battery",
                            role=Role.admin, name="Pia Proxy")
        db.session.commit()
        client.post("/login", data={"email": admin.email, "password": "correct horse battery"},
                    headers={"X-Forwarded-For": "203.0.113.9"},
                    environ_base={"REMOTE_ADDR": "10.0.0.1"})
        client.get("/manage/audit/audit.csv", headers={"X-Forwarded-For": "203.0.113.9"},
                   environ_base={"REMOTE_ADDR": "10.0.0.1"})
        db.session.remove()
        entry = db.session.scalar(select(AuditEntry))
        assert entry.remote_addr == "203.0.113.9"
        db.session.remove()
        db.engine.dispose()
