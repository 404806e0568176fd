"""The data export: a ZIP with everything about the member and their files, and its API."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.events import service as events
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library import uploads
from tests.library.conftest import pdf_bytes


def _member_with_data(member, group, make_event, make_item, organiser):
    stored = uploads.store_bytes(pdf_bytes(), "Contract conditions été.pdf", "application/pdf")
    draft = library.create_item(member, kind="report", title="Our laptop pilot",
                                language="en", body="How it went.", files=[stored])
    published = make_item(organiser, title="Clause on conflict minerals")
    library.add_comment(member, published, "We used this clause in 2025.")
    event = make_event(title="Fair laptops workshop")
    events.register(member, event, show_name=True)
    db.session.commit()
    return draft, event


def _exports():
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.data_exported)).all()


def test_the_zip_holds_the_json_and_the_uploaded_files(client, auth, member, group, make_event,
                                                       make_item, organiser):
    draft, event = _member_with_data(member, group, make_event, make_item, organiser)
    auth.login(member)
    page = client.get("/profile/data")
    assert page.status_code == 200
    assert "Download my data (ZIP)" in page.get_data(as_text=True)
    assert _exports() == []  # looking at the page takes nothing away
    response = client.post("/profile/data")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment;" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        data = json.loads(archive.read("data.json"))
        files = [n for n in names if n.startswith("files/")]
        assert len(files) == 1 and files[0].endswith(".pdf")
        assert archive.read(files[0]) == pdf_bytes()
    assert data["profile"]["email"] == "member@example.org"
    assert data["profile"]["name"] == "Mia Member"
    assert "password_hash" not in json.dumps(data)
    assert data["privacy_choices"]["email_visible_to_members"] is False
    assert [m["group"]["slug"] for m in data["group_memberships"]] == [group.slug]
    assert data["event_registrations"][0]["event"]["title"] == "Fair laptops workshop"
    assert data["event_registrations"][0]["name_shown_to_participants"] is True
    assert data["comments"][0]["body"] == "We used this clause in 2025."
    assert [i["title"] for i in data["library_items"]] == ["Our laptop pilot"]
    assert data["files"][0]["name"] == "Contract conditions été.pdf"
    assert data["files"][0]["in_archive"] == files[0]
    assert any(s["ended_at"] is None for s in data["sessions"])  # this very session
    entries = _exports()
    assert len(entries) == 1 and entries[0].actor_id == member.id
    assert entries[0].target_id == member.id and entries[0].details == {"via": "web"}


def test_the_api_export_is_the_same_data_with_links_to_the_files(
        client, member, group, make_event, make_item, organiser, token_of):
    draft, event = _member_with_data(member, group, make_event, make_item, organiser)
    headers = token_of(member, "read")  # reading one's own data needs no write scope
    response = client.get("/api/v1/me/export", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["format"] == "buyergroup-member-export/1"
    assert data["profile"]["email"] == "member@example.org"
    assert data["api_tokens"][0]["name"] == "privacy test"
    assert "token_hash" not in json.dumps(data)
    url = data["files"][0]["url"]
    assert url.startswith("http://buyergroup.test/library/")
    auth_client = client
    auth_client.post("/login", data={"email": member.email, "password":
                                     "correct horse battery"})
    download = auth_client.get(url.removeprefix("http://buyergroup.test"))
    assert download.status_code == 200 and download.data == pdf_bytes()
    assert [e.details for e in _exports()] == [{"via": "api"}]


def test_the_api_export_needs_a_token(client):
    assert client.get("/api/v1/me/export").status_code == 401


def test_another_domain_adds_its_section(client, member, token_of):
    from buyergroup.signals import member_data_requested

    def follows(user):
        return {"follows": [{"of": "group", "id": 1}]}

    member_data_requested.connect(follows)
    try:
        data = client.get("/api/v1/me/export", headers=token_of(member)).get_json()
    finally:
        member_data_requested.disconnect(follows)
    assert data["follows"] == [{"of": "group", "id": 1}]
