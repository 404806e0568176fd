"""One description of the library's fields: a field added to ``library.fields`` reaches the
form, the service, the version history, the item JSON, the OpenAPI document, the search
document and the item page, with nothing else changed."""

from __future__ import annotations

import pytest

from buyergroup.api.openapi import build_openapi
from buyergroup.extensions import db
from buyergroup.library import fields, service
from buyergroup.library.models import ItemKind, LibraryItem
from buyergroup.library.search_documents import build_document
from tests.library.test_api import bearer
from tests.library.test_views import case_study_form, only_item
from tests.network.pages import html, main_text

BUDGET = "The whole pilot cost 18,400 euro, paid from the innovation fund."


@pytest.fixture
def budget_field(monkeypatch):
    """A new case-study field, registered as a contributor would add one.

    A real field has its own column (and migration); here a property over an existing
    text column stands in for it, so the test needs no schema change.
    """
    monkeypatch.setattr(
        LibraryItem, "budget_notes",
        property(lambda item: item.review_note,
                 lambda item, value: setattr(item, "review_note", value)),
        raising=False,
    )
    extra = fields.Field(
        "budget_notes", fields.MARKDOWN, "Budget notes", "budget notes", "case",
        kinds=(ItemKind.case_study,), max_length=2000, rows=3, searchable=True,
        on_page=fields.ON_PAGE_TEXT, description="What it cost and who paid.",
    )
    monkeypatch.setattr(fields, "FIELDS", [*fields.FIELDS, extra])
    return extra


def test_a_registered_field_shows_everywhere(
    client, auth, member, organiser, budget_field
):
    # The form: in the case study's own fieldset.
    auth.login(member)
    form = html(client.get("/library/new?kind=case_study"))
    textarea = form.xpath('//fieldset[@data-kinds="case_study"]//textarea[@name="budget_notes"]')
    assert textarea and textarea[0].get("rows") == "3"

    # The service stores it; the item page shows it as a section of the case study.
    response = client.post("/library/new", data=case_study_form(budget_notes=BUDGET),
                           follow_redirects=True)
    assert response.status_code == 200
    item = only_item()
    assert item.budget_notes == BUDGET
    page = html(client.get(f"/library/{item.id}"))
    assert page.xpath('//section[h2[@id="budget-notes-title"]="Budget notes"]')
    assert BUDGET in main_text(client.get(f"/library/{item.id}"))

    # The form is prefilled with it; a change is named in the version history.
    edit = html(client.get(f"/library/{item.id}/edit"))
    assert edit.xpath('//textarea[@name="budget_notes"]')[0].text_content().strip() == BUDGET
    service.publish(organiser, item)  # (publishing clears the stand-in column: first)
    service.update_item(organiser, item, budget_notes="It cost less than planned.")
    db.session.commit()
    history = main_text(client.get(f"/library/{item.id}"))
    assert "budget notes" in history

    # The API's JSON and the OpenAPI document.
    body = client.get(f"/api/v1/library/{item.id}", headers=bearer(member)).get_json()
    assert body["budget_notes"] == "It cost less than planned."
    schemas = build_openapi()["components"]["schemas"]
    assert "budget_notes" in schemas["LibraryItem"]["allOf"][1]["properties"]
    assert schemas["LibraryItemInput"]["properties"]["budget_notes"]["maxLength"] == 2000

    # The search document indexes it with the body, and the library finds it.
    assert "It cost less than planned." in build_document(item).body
    assert item.title in main_text(client.get("/library?q=planned"))


def test_a_field_of_one_kind_is_cleared_for_another(member, budget_field):
    item = service.create_item(member, kind="case_study", title="Fair mice", language="en",
                               budget_notes=BUDGET)
    assert item.budget_notes == BUDGET
    service.update_item(member, item, kind="report")
    assert item.budget_notes == ""


def test_every_field_is_a_column_or_attribute_of_items():
    for f in fields.FIELDS:
        assert hasattr(LibraryItem, f.name) or f.type == fields.CODES, f.name
        assert f.section in {s.name for s in fields.SECTIONS}, f.name
