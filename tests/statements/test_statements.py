"""Joint statements: drafting in versions, opening, signing rights, the public page of
signatories, the roadmap's progress, and the DOCX and PDF exports reopened."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from pypdf import PdfReader

from buyergroup.errors import AlreadyExists, Conflict, NotAllowed, ValidationFailed
from buyergroup.extensions import db
from buyergroup.network.models import GroupRole
from buyergroup.network.service import add_member
from buyergroup.statements import service
from buyergroup.statements.models import ActionStatus, StatementState

TEXT = """## Why we act

Public buyers spend a fifth of what the EU pays for laptops.

## We commit to

- ask for supply chain **transparency** in every ICT tender;
- share our criteria and clauses in the library.
"""


@pytest.fixture
def setting(make_group, make_user, make_organisation):
    group = make_group("European ethical ICT", is_public=True)
    ghent = make_organisation("City of Ghent", country="BE")
    oslo = make_organisation("Oslo kommune", country="NO")
    organiser = make_user("org@example.org", name="Olga Organiser")
    signer = make_user("signer@example.org", name="Sigrid Signer", organisation=ghent)
    colleague = make_user("colleague@example.org", name="Colin Colleague", organisation=ghent)
    other_signer = make_user("oslo@example.org", name="Ola Nordmann", organisation=oslo)
    site_organiser = make_user("site@example.org", role="organiser", name="Sita Organiser")
    add_member(group, organiser, GroupRole.organiser)
    add_member(group, colleague)
    service.authorise_signatory(site_organiser, signer)
    service.authorise_signatory(site_organiser, other_signer)
    db.session.commit()
    return dict(group=group, ghent=ghent, oslo=oslo, organiser=organiser, signer=signer,
                colleague=colleague, other_signer=other_signer, site=site_organiser)


def _statement(s):
    statement = service.create_statement(s["organiser"], s["group"],
                                         title="Joint statement on ethical ICT", body=TEXT)
    db.session.commit()
    return statement


class TestDrafting:
    def test_organisers_draft_in_versions_and_members_read_drafts(self, client, auth, setting):
        s = setting
        with pytest.raises(NotAllowed):
            service.create_statement(s["colleague"], s["group"], title="t", body="b")
        statement = _statement(s)
        service.add_version(s["organiser"], statement, title=statement.title,
                            body=TEXT + "\nA third commitment.", note="Added a line")
        db.session.commit()
        assert [v.number for v in statement.versions] == [1, 2]
        with pytest.raises(ValidationFailed):
            service.add_version(s["organiser"], statement, title=statement.title,
                                body=statement.current.body)
        # A draft is the group's: a visitor or a signed-in outsider gets a 404.
        assert client.get(f"/statements/{statement.id}").status_code == 404
        auth.login(s["signer"])
        assert client.get(f"/statements/{statement.id}").status_code == 404
        auth.logout()
        auth.login(s["colleague"])
        page = client.get(f"/statements/{statement.id}/versions/1")
        assert page.status_code == 200 and "A third commitment" not in page.text

    def test_the_text_is_frozen_once_open(self, setting):
        statement = _statement(setting)
        service.open_for_signature(setting["organiser"], statement)
        with pytest.raises(Conflict):
            service.add_version(setting["organiser"], statement, title="New", body="New")


class TestSigning:
    def test_only_an_authorised_member_signs_for_their_organisation(self, setting):
        s = setting
        statement = _statement(s)
        with pytest.raises(Conflict):
            service.sign(s["signer"], statement)  # still a draft
        service.open_for_signature(s["organiser"], statement)
        with pytest.raises(NotAllowed):
            service.sign(s["colleague"], statement)  # same organisation, not authorised
        with pytest.raises(NotAllowed):
            service.sign(s["organiser"], statement)  # no organisation at all
        signature = service.sign(s["signer"], statement, on=date(2026, 11, 30))
        assert signature.organisation == s["ghent"] and signature.version_number == 1
        with pytest.raises(AlreadyExists):
            service.sign(s["signer"], statement)
        service.close_signature(s["organiser"], statement)
        with pytest.raises(Conflict):
            service.sign(s["other_signer"], statement)

    def test_members_cannot_authorise_themselves(self, setting):
        with pytest.raises(NotAllowed):
            service.authorise_signatory(setting["colleague"], setting["colleague"])

    def test_the_public_page_lists_signatories_and_the_sign_button(self, client, auth,
                                                                   setting):
        s = setting
        statement = _statement(s)
        service.open_for_signature(s["organiser"], statement)
        service.sign(s["other_signer"], statement, on=date(2026, 10, 1))
        db.session.commit()
        page = client.get(f"/statements/{statement.id}")
        assert page.status_code == 200
        assert "Oslo kommune" in page.text and "Norway" in page.text
        assert "Oct 1, 2026" in page.text
        assert "Sign on behalf" not in page.text
        auth.login(s["colleague"])
        page = client.get(f"/statements/{statement.id}")
        assert "Sign on behalf" not in page.text and "authorised" in page.text
        assert client.post(f"/statements/{statement.id}/sign").status_code == 403
        auth.logout()
        auth.login(s["signer"])
        assert "Sign on behalf of City of Ghent" in client.get(
            f"/statements/{statement.id}").text
        client.post(f"/statements/{statement.id}/sign")
        db.session.refresh(statement)
        assert {x.organisation.name for x in statement.signatures} == {
            "City of Ghent", "Oslo kommune"}


class TestRoadmap:
    def test_progress_follows_the_actions(self, client, auth, setting):
        s = setting
        statement = _statement(s)
        a = service.add_action(s["organiser"], statement, title="Publish model clauses",
                               organisation_id=s["ghent"].id, due_on=date(2027, 3, 1))
        service.add_action(s["organiser"], statement, title="Pilot monitoring",
                           status="in_progress")
        service.add_action(s["organiser"], statement, title="Report back", status="done")
        assert statement.progress == 50
        service.set_action_status(s["organiser"], a, ActionStatus.done)
        assert statement.progress == 83
        with pytest.raises(NotAllowed):
            service.set_action_status(s["colleague"], a, "planned")
        with pytest.raises(ValidationFailed):
            service.add_action(s["organiser"], statement, title="x", status="finished")
        db.session.commit()
        auth.login(s["organiser"])
        page = client.get(f"/statements/{statement.id}")
        assert 'value="83"' in page.text and "Publish model clauses" in page.text


class TestExports:
    def test_docx_reopens_with_text_and_signatories(self, client, setting):
        s = setting
        statement = _statement(s)
        service.open_for_signature(s["organiser"], statement)
        service.sign(s["signer"], statement, on=date(2021, 6, 14))
        service.add_action(s["organiser"], statement, title="Share criteria")
        db.session.commit()
        response = client.get(f"/statements/{statement.id}.docx")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        document = Document(io.BytesIO(response.data))
        text = "\n".join(p.text for p in document.paragraphs)
        assert "Joint statement on ethical ICT" in text
        assert "ask for supply chain transparency in every ICT tender;" in text
        assert "**" not in text
        headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
        assert "Why we act" in headings and "Signatories" in headings
        rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
        assert rows == [["Organisation", "Country", "Signed on"],
                        ["City of Ghent", "Belgium", "June 14, 2021"]]
        assert "Share criteria" in text

    def test_pdf_reopens_with_text_and_signatories(self, client, setting):
        s = setting
        statement = _statement(s)
        service.open_for_signature(s["organiser"], statement)
        service.sign(s["signer"], statement, on=date(2021, 6, 14))
        db.session.commit()
        response = client.get(f"/statements/{statement.id}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        reader = PdfReader(io.BytesIO(response.data))
        text = " ".join(page.extract_text() for page in reader.pages)
        assert "Joint statement on ethical ICT" in text
        assert "City of Ghent" in text and "June 14, 2021" in text
        assert reader.metadata.title == "Joint statement on ethical ICT"

    def test_a_long_statement_runs_over_pages(self, setting):
        from buyergroup.statements.export import to_pdf

        s = setting
        statement = service.create_statement(
            s["organiser"], s["group"], title="Long",
            body="\n\n".join(f"Paragraph {n} " + "word " * 80 for n in range(60)))
        reader = PdfReader(io.BytesIO(to_pdf(statement)))
        assert len(reader.pages) > 3
        assert "Paragraph 59" in reader.pages[-1].extract_text()

    def test_a_draft_is_not_exported_to_outsiders(self, client, setting):
        statement = _statement(setting)
        assert statement.state is StatementState.draft
        assert client.get(f"/statements/{statement.id}.docx").status_code == 404
        assert client.get(f"/statements/{statement.id}.pdf").status_code == 404


class TestPages:
    def test_an_organiser_drafts_opens_and_the_list_shows_it(self, client, auth, setting):
        s = setting
        auth.login(s["organiser"])
        assert client.get(f"/groups/{s['group'].slug}/statements/new").status_code == 200
        response = client.post(f"/groups/{s['group'].slug}/statements/new",
                               data={"title": "Fair servers pledge", "body": TEXT})
        assert response.status_code == 302
        statement_id = int(response.headers["Location"].rsplit("/", 1)[1])
        client.post(f"/statements/{statement_id}/edit",
                    data={"title": "Fair servers pledge", "body": TEXT + "\nMore.",
                          "note": "One more line"})
        client.post(f"/statements/{statement_id}/open")
        auth.logout()
        listing = client.get(f"/groups/{s['group'].slug}/statements")
        assert "Fair servers pledge" in listing.text and "Open for signature" in listing.text
        assert "Fair servers pledge" in client.get("/statements").text
        page = client.get(f"/statements/{statement_id}")
        assert "One more line" in page.text and "Version 2" in page.text

    def test_an_empty_title_keeps_the_text(self, client, auth, setting):
        auth.login(setting["organiser"])
        response = client.post(f"/groups/{setting['group'].slug}/statements/new",
                               data={"title": "", "body": "My long careful text"})
        assert response.status_code == 200 and "My long careful text" in response.text

    def test_members_cannot_draft_or_authorise(self, client, auth, setting):
        auth.login(setting["colleague"])
        assert client.get(f"/groups/{setting['group'].slug}/statements/new").status_code == 403
        assert client.get("/statements/signatories").status_code == 403

    def test_site_organisers_record_who_signs(self, client, auth, setting):
        auth.login(setting["site"])
        page = client.get("/statements/signatories")
        assert "Sigrid Signer" in page.text
        client.post("/statements/signatories",
                    data={"user_id": str(setting["colleague"].id)})
        from buyergroup.statements.permissions import may_sign_for

        assert may_sign_for(setting["colleague"], setting["ghent"])


def test_the_page_of_signatories_asks_as_much_for_2_signatures_as_for_6(
    client, setting, make_organisation
):
    # Each signature names its organisation: one lookup per signature before.
    from tests.queries import count_for

    s = setting
    statement = _statement(s)
    service.open_for_signature(s["organiser"], statement)

    def add_signatures(start: int, stop: int) -> None:
        for n in range(start, stop):
            service.record_signature(statement, make_organisation(f"Signing body {n}"),
                                     signed_on=date(2026, 1, 1 + n))
        db.session.commit()

    add_signatures(0, 2)
    with_2 = count_for(client, f"/statements/{statement.id}")
    add_signatures(2, 6)
    assert count_for(client, f"/statements/{statement.id}") == with_2
    page = client.get(f"/statements/{statement.id}").get_data(as_text=True)
    assert all(f"Signing body {n}" in page for n in range(6))
