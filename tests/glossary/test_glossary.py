"""The glossary: folding, the organisers' pages, and its effect on library searches."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.errors import AlreadyExists, NotAllowed, ValidationFailed
from buyergroup.extensions import db
from buyergroup.glossary import service
from buyergroup.glossary.models import Concept, Term
from tests.network.pages import error_by, html, main_text


@pytest.mark.parametrize(("text", "folded"), [
    ("Diligence raisonnée", "diligence raisonnee"),
    ("  Travail   des ENFANTS ", "travail des enfants"),
    ("Überwachung", "uberwachung"),
    ("kinderarbeid", "kinderarbeid"),
])
def test_fold_lowercases_and_drops_accents(text, folded):
    assert service.fold(text) == folded


class TestService:
    def test_a_concept_with_terms_per_language(self, app, organiser):
        concept = service.save_concept(organiser, key="due-diligence", terms={
            "en": ["due diligence"], "fr": "diligence raisonnée\nDiligence raisonnée\n",
            "nl": ["gepaste zorgvuldigheid"]})
        db.session.commit()
        assert concept.terms_in("fr") == ["diligence raisonnée"]  # duplicates folded away
        folded = db.session.scalar(select(Term.folded).where(Term.language == "fr"))
        assert folded == "diligence raisonnee"

    def test_saving_again_replaces_the_terms_of_the_languages_given(self, app, organiser):
        concept = service.save_concept(organiser, key="child-labour",
                                       terms={"en": ["child labour"], "nl": ["kinderarbeid"]})
        service.save_concept(organiser, concept, key="child-labour",
                             terms={"en": ["child labour", "child labor"], "nl": []})
        db.session.commit()
        assert sorted(concept.terms_in("en")) == ["child labor", "child labour"]
        assert concept.terms_in("nl") == []

    def test_rules(self, app, organiser, member):
        with pytest.raises(NotAllowed):
            service.save_concept(member, key="x", terms={"en": ["x"]})
        with pytest.raises(ValidationFailed):
            service.save_concept(organiser, key="Not A Key", terms={"en": ["x"]})
        with pytest.raises(ValidationFailed):
            service.save_concept(organiser, key="empty", terms={"en": [" "]})
        service.save_concept(organiser, key="taken", terms={"en": ["taken"]})
        with pytest.raises(AlreadyExists):
            service.save_concept(organiser, key="taken", terms={"en": ["again"]})


class TestPages:
    def test_members_read_the_glossary_visitors_sign_in(self, client, auth, member, organiser):
        service.save_concept(organiser, key="living-wage",
                             terms={"en": ["living wage"], "fr": ["salaire vital"]})
        db.session.commit()
        assert client.get("/library/glossary").status_code == 302
        auth.login(member)
        page = client.get("/library/glossary")
        assert "living-wage" in main_text(page) and "salaire vital" in main_text(page)
        assert html(page).xpath('//td[@lang="fr"]//li/text()') == ["salaire vital"]
        assert "Add a concept" not in main_text(page)
        assert client.get("/library/glossary/new").status_code == 403
        found = client.get("/library/glossary?q=Salaire")
        assert "1 concept" in main_text(found)

    def test_organisers_add_edit_and_delete(self, client, auth, organiser):
        auth.login(organiser)
        response = client.post("/library/glossary/new", data={
            "key": "forced-labour", "terms_en": "forced labour\nforced labor",
            "terms_nl": "dwangarbeid", "terms_fr": "travail forcé", "terms_de": "Zwangsarbeit"},
            follow_redirects=True)
        assert "The concept “forced-labour” has been added." in main_text(response)
        concept = db.session.scalar(select(Concept))
        edit = client.get(f"/library/glossary/{concept.id}/edit")
        assert "dwangarbeid" in edit.get_data(as_text=True)
        client.post(f"/library/glossary/{concept.id}/edit", data={
            "key": "forced-labour", "terms_en": "forced labour", "terms_nl": "gedwongen arbeid",
            "terms_fr": "", "terms_de": ""})
        db.session.expire_all()
        assert db.session.get(Concept, concept.id).terms_in("nl") == ["gedwongen arbeid"]
        bad = client.post("/library/glossary/new", data={"key": "forced-labour",
                                                         "terms_en": "x"})
        assert "already exists" in error_by(bad, "key")
        client.post(f"/library/glossary/{concept.id}/delete")
        db.session.expire_all()
        assert db.session.scalar(select(Concept)) is None


@pytest.mark.committing  # search reads the glossary on a connection of its own
def test_a_glossary_change_reaches_search_at_once(client, auth, organiser, make_item):
    make_item(title="Verbod op kinderarbeid", language="nl", body="Geen kinderarbeid.")
    before = client.get("/library?q=child+labour")
    assert "Verbod op kinderarbeid" not in main_text(before)
    auth.login(organiser)
    client.post("/library/glossary/new", data={
        "key": "child-labour", "terms_en": "child labour", "terms_nl": "kinderarbeid"})
    after = main_text(client.get("/library?q=child+labour"))
    assert "Verbod op kinderarbeid" in after
    assert "Also searched for: kinderarbeid" in after
