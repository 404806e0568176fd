"""The data overview (``/profile/data``) costs the same statements whatever the member keeps.

It shows how many records of each kind the download holds: counted by the database in one
statement, with the conditions the export selects by, so its figures are the export's.
"""

from __future__ import annotations

import re

from buyergroup.events import service as events
from buyergroup.events.storage import store_upload
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library import uploads
from buyergroup.library.models import ItemStatus
from buyergroup.privacy import service
from tests.library.conftest import pdf_bytes
from tests.queries import statements, statements_for


def _figures(client) -> list[int]:
    page = client.get("/profile/data").get_data(as_text=True)
    return [int(n) for n in re.findall(r'<span class="stat-value">(\d+)</span>', page)]


def _add_records(user, published, make_event, count, start=0):
    """``count`` drafts with a file, comments and registrations for ``user``."""
    for index in range(start, start + count):
        stored = uploads.store_bytes(pdf_bytes(), f"Pilot {index}.pdf", "application/pdf")
        library.create_item(user, kind="report", title=f"Pilot {index}", language="en",
                            body="How it went.", files=[stored])
        library.add_comment(user, published, f"Comment {index}")
        events.register(user, make_event(title=f"Workshop {index}"))
    db.session.commit()


def test_the_data_page_does_not_grow_with_the_members_records(
        client, auth, member, make_event, make_item, organiser):
    published = make_item(organiser, title="Clause on conflict minerals")
    auth.login(member)
    _add_records(member, published, make_event, 1)
    few = statements_for(client, "/profile/data")
    assert _figures(client) == [1, 1, 1, 1, 1]
    _add_records(member, published, make_event, 4, start=1)
    many = statements_for(client, "/profile/data")
    assert _figures(client) == [1, 5, 5, 5, 5]
    assert len(many) == len(few) <= 8, "\n".join(many)


def test_the_figures_are_the_lengths_of_the_exports_sections(
        client, auth, organiser, group, make_event, make_item, make_member, tmp_path):
    """Every counted kind, the files of both domains among them, for an organiser who is
    also an author (co-author of another's item), a commenter and a participant."""
    colleague = make_member()
    make_item(organiser, title="Own clause")
    shared = library.create_item(
        None, created_by=colleague, authors=[colleague, organiser], status="published",
        visibility="public", kind="clause", title="Shared clause", language="en",
        body="Written together.")
    library.add_comment(organiser, shared, "Agreed.")
    _add_records(organiser, shared, make_event, 2)
    notes = tmp_path / "minutes.md"
    notes.write_text("# Minutes\n\nWe agreed on a joint clause.", encoding="utf-8")
    event = make_event(title="Minuted workshop")
    with notes.open("rb") as stream:
        events.add_material(organiser, event, title="Minutes", stored=store_upload(stream,
                                                                              "minutes.md"))
    events.add_material(organiser, event, title="A note only", note="No file: not counted.")
    db.session.commit()

    exported = service.export_data(organiser)
    expected = {name: len(exported[name]) for name in (
        "group_memberships", "event_registrations", "library_items", "comments", "files")}
    assert service.export_counts(organiser) == expected
    assert expected["files"] == 3 and {f["kind"] for f in exported["files"]} == {
        "library_attachment", "event_material"}
    auth.login(organiser)
    assert _figures(client) == list(expected.values())


def _download_statements(client) -> list[str]:
    with statements() as sent:
        response = client.post("/profile/data")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return sent


def test_the_download_does_not_grow_with_the_members_records(
        client, auth, member, make_event, make_item, organiser):
    """Each registration's event comes with its row (as each membership's group and each
    invitation's organisation do); the files are listed once for data.json and the ZIP."""
    published = make_item(organiser, title="Clause on conflict minerals")
    auth.login(member)
    _add_records(member, published, make_event, 1)
    few = _download_statements(client)
    _add_records(member, published, make_event, 4, start=1)
    many = _download_statements(client)
    assert len(many) == len(few), "\n".join(many)


def test_the_erase_page_counts_in_one_statement_what_erasure_keeps_and_deletes(
        client, auth, member, make_event, make_item, organiser):
    """Published and archived items the member created or co-wrote are kept, drafts are not
    counted; each comment and registration is; one statement for all three."""
    published = make_item(organiser, title="Clause on conflict minerals")
    auth.login(member)
    before = len(statements_for(client, "/profile/erase"))
    _add_records(member, published, make_event, 2)  # two drafts, comments, registrations
    make_item(member, title="Published pilot")
    make_item(member, title="Archived pilot").status = ItemStatus.archived  # no service yet
    library.create_item(None, created_by=organiser, authors=[organiser, member],
                        status=ItemStatus.published, kind="report", title="Co-written report",
                        language="en", body="What we found.")
    db.session.commit()
    page = client.get("/profile/erase").get_data(as_text=True)
    assert service.erasure_summary(member) == {"published": 3, "comments": 2,
                                               "registrations": 2}
    assert "Deleted: 2 event registrations." in page
    assert "Kept: 3 published library items" in page and "Kept: 2 comments" in page
    with statements() as sent:
        service.erasure_summary(member)
    assert len(sent) == 1
    assert len(statements_for(client, "/profile/erase")) == before
