"""The translate form tells nothing of a translation the member may not see."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.library import service
from buyergroup.library.models import ItemStatus, LibraryItem
from tests.network.pages import error_by, html

FORM_LANGUAGES = '//form[@id="item-form"]//select[@name="language"]/option/@value'


@pytest.fixture
def original_with_hidden_translations(make_item, make_user, group_with_member, organiser):
    """A public English item with a group-only German version and a Dutch draft."""
    group, insider = group_with_member
    original = make_item(title="Fair servers clause", language="en")
    german = service.add_translation(insider, original, title="Faire Server (nur Gruppe)",
                                     language="de", visibility="group", group=group)
    german.status = ItemStatus.published
    drafter = make_user("drafter@example.org", name="Dora Drafter")
    service.add_translation(drafter, original, title="Eerlijke servers (concept)", language="nl")
    db.session.commit()
    return original, insider


def test_the_form_offers_the_languages_of_hidden_translations(
    client, auth, make_user, original_with_hidden_translations
):
    original, _ = original_with_hidden_translations
    outsider = make_user("outsider@example.org")
    auth.login(outsider)
    page = client.get(f"/library/{original.id}/translate")
    languages = html(page).xpath(FORM_LANGUAGES)
    assert "en" not in languages  # the original, which they see
    assert "de" in languages and "nl" in languages  # nothing tells of the hidden ones
    body = page.get_data(as_text=True)
    assert "nur Gruppe" not in body and "concept" not in body


def test_a_translation_in_a_hidden_translations_language_is_accepted(
    client, auth, make_user, original_with_hidden_translations
):
    original, _ = original_with_hidden_translations
    outsider = make_user("outsider@example.org")
    auth.login(outsider)
    response = client.post(f"/library/{original.id}/translate", data={
        "kind": "clause", "title": "Faire Server", "language": "de",
        "body": "Der Auftragnehmer ...", "visibility": "public",
        "translation_kind": "member", "action": "submit",
    })
    assert response.status_code == 302, error_by(response, "language")
    mine = db.session.scalar(select(LibraryItem).where(LibraryItem.title == "Faire Server"))
    assert mine.translation_key == original.translation_key
    assert mine.status is ItemStatus.submitted  # the moderators, who see both, decide


def test_who_sees_a_translation_is_not_offered_its_language_again(
    client, auth, original_with_hidden_translations
):
    original, insider = original_with_hidden_translations
    auth.login(insider)
    languages = html(client.get(f"/library/{original.id}/translate")).xpath(FORM_LANGUAGES)
    assert "de" not in languages and "nl" in languages
    refused = client.post(f"/library/{original.id}/translate", data={
        "kind": "clause", "title": "Noch ein Server", "language": "de",
        "body": "...", "visibility": "public", "translation_kind": "member",
        "action": "submit",
    })
    assert refused.status_code == 200
