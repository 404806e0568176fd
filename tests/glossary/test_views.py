"""The glossary pages through the request boundary: refusals change nothing."""

from __future__ import annotations

import re

from buyergroup.extensions import db
from buyergroup.glossary import service
from buyergroup.glossary.models import Concept
from tests.network.pages import error_by


def concept_terms(concept_id: int, language: str) -> list[str]:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Concept, concept_id).terms_in(language)


def test_a_term_too_long_is_shown_by_its_field_and_nothing_changes(client, auth, organiser):
    concept = service.save_concept(organiser, key="living-wage", terms={"en": ["living wage"]})
    db.session.commit()
    auth.login(organiser)
    response = client.post(f"/library/glossary/{concept.id}/edit", data={
        "key": "living-wage", "terms_en": "a fair wage", "terms_nl": "x" * 161})
    assert response.status_code == 200
    assert "at most 160 characters" in error_by(response, "terms_nl")
    assert concept_terms(concept.id, "en") == ["living wage"]


def test_members_cannot_change_or_delete_a_concept(client, auth, member, organiser):
    concept = service.save_concept(organiser, key="living-wage", terms={"en": ["living wage"]})
    db.session.commit()
    auth.login(member)
    edit = client.post(f"/library/glossary/{concept.id}/edit",
                       data={"key": "living-wage", "terms_en": "hijacked"})
    assert edit.status_code == 403
    assert "Only organisers can change the glossary." in edit.get_data(as_text=True)
    assert client.post(f"/library/glossary/{concept.id}/delete").status_code == 403
    assert concept_terms(concept.id, "en") == ["living wage"]


def _glossary_of(organiser, count: int) -> None:
    for number in range(count):
        service.save_concept(organiser, key=f"concept-{number:02d}",
                             terms={"en": [f"term {number:02d}"], "nl": [f"term nl {number:02d}"]})
    db.session.flush()


def _rows(response) -> list[str]:
    return re.findall(r'<tr id="concept-\d+">\s*<th scope="row">([^<]+)',
                      response.get_data(as_text=True))


def test_a_long_glossary_is_shown_a_page_at_a_time(client, auth, member, organiser):
    _glossary_of(organiser, 30)
    auth.login(member)
    first = client.get("/library/glossary")
    assert _rows(first) == [f"concept-{n:02d}" for n in range(25)]
    assert "30 concepts" in first.get_data(as_text=True)
    assert "Page 1 of 2" in first.get_data(as_text=True)
    second = client.get("/library/glossary?page=2")
    assert _rows(second) == [f"concept-{n:02d}" for n in range(25, 30)]


def test_a_search_finds_a_concept_that_is_not_on_the_first_page(client, auth, member, organiser):
    _glossary_of(organiser, 30)
    auth.login(member)
    found = client.get("/library/glossary?q=term+nl+28")
    assert _rows(found) == ["concept-28"]
    assert "1 concept" in found.get_data(as_text=True)


def test_any_page_number_shows_a_page(client, auth, member, organiser):
    _glossary_of(organiser, 30)
    auth.login(member)
    for number in ("-3", "0", "two", "3", "10001"):
        response = client.get(f"/library/glossary?page={number}")
        assert response.status_code == 200, number
        assert _rows(response), number
    assert _rows(client.get("/library/glossary?page=10001"))[0] == "concept-25"  # the last
    # Beyond any integer: the site's one answer for such a number, never a 5xx.
    assert client.get("/library/glossary?page=99999999999999999999").status_code == 400
