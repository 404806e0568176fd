"""The glossary pages through the request boundary: refusals change nothing."""

from __future__ import annotations

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
