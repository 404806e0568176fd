"""Becoming a member: requests to join the network, deciding them, accepting invitations.

Mail is checked the way a member would see it: queued in the transaction, committed,
delivered over SMTP to the test server, then read from its mailbox.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from buyergroup.accounts.models import Invitation, InvitationState
from buyergroup.errors import AlreadyExists, NotAllowed
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from buyergroup.network.models import JoinRequest, Organisation, OrganisationKind, RequestState
from buyergroup.network.service import get_organisation_by_name
from buyergroup.onboarding import service
from tests.conftest import body_of


def commit_and_deliver() -> None:
    """What a request does at its end: commit, then send what it queued."""
    db.session.commit()
    deliver_due()


# --- Requests to join the network -----------------------------------------------------------


def request_data(**overrides) -> service.JoinRequestData:
    fields = {
        "name": "Paula Public",
        "email": "Paula@Gemeente.example.nl",
        "organisation_name": "Gemeente Utrecht",
        "job_title": "Buyer",
        "country": "nl",
        "message": "We buy 2,000 laptops a year.",
    }
    fields.update(overrides)
    return service.JoinRequestData(**fields)


def link_in(text: str) -> str:
    found = re.search(r"http://buyergroup\.test/\S+", text)
    assert found, text
    return found.group(0)


class TestJoinRequests:
    def test_submitting_emails_every_organiser_and_admin(
        self, organiser, admin, member, mailbox
    ):
        request = service.submit_join_request(request_data())
        commit_and_deliver()

        assert request.email == "paula@gemeente.example.nl"  # normalised
        assert request.country == "NL"
        assert request.state is RequestState.pending
        assert sorted(m["To"] for m in mailbox.messages) == [
            "admin@example.org", "organiser@example.org"
        ]
        body = body_of(mailbox.last_to("organiser@example.org"))
        assert "Paula Public" in body and "Gemeente Utrecht" in body
        assert "We buy 2,000 laptops a year." in body
        assert "http://buyergroup.test/manage/" in body
        assert mailbox.to("member@example.org") == []

    def test_deactivated_organisers_are_not_emailed(self, organiser, make_user, mailbox):
        from buyergroup.accounts.service import set_active

        admin = make_user("boss@example.org", role="admin")
        set_active(admin, organiser, False)
        db.session.commit()
        service.submit_join_request(request_data())
        commit_and_deliver()
        assert [m["To"] for m in mailbox.messages] == ["boss@example.org"]

    def test_a_second_pending_request_from_the_same_address_is_refused(self, organiser):
        service.submit_join_request(request_data())
        db.session.commit()
        with pytest.raises(AlreadyExists) as caught:
            service.submit_join_request(request_data(email=" PAULA@gemeente.example.nl "))
        assert caught.value.field == "email"
        db.session.rollback()
        assert db.session.scalar(select(func.count(JoinRequest.id))) == 1

    def test_a_new_request_is_accepted_after_a_decline(self, organiser):
        first = service.submit_join_request(request_data())
        service.decline_join_request(organiser, first)
        db.session.commit()
        second = service.submit_join_request(request_data())
        assert second.id != first.id and second.state is RequestState.pending

    def test_an_existing_accounts_address_stores_nothing_and_mails_its_owner(
        self, organiser, member, mailbox
    ):
        assert service.submit_join_request(request_data(email="MEMBER@example.org")) is None
        commit_and_deliver()
        assert db.session.scalar(select(func.count(JoinRequest.id))) == 0
        assert [m["To"] for m in mailbox.messages] == ["member@example.org"]
        body = body_of(mailbox.last_to("member@example.org"))
        assert "You already have an account" in body
        assert "http://buyergroup.test/password/forgot" in body

    def test_approving_invites_and_creates_the_unknown_organisation(self, organiser, mailbox):
        request = service.submit_join_request(request_data())
        db.session.commit()
        assert request.organisation is None
        mailbox.clear()

        invitation = service.approve_join_request(organiser, request)
        commit_and_deliver()

        created = get_organisation_by_name("gemeente utrecht")
        assert created is not None
        assert created.kind is OrganisationKind.other and created.country == "NL"
        db.session.expire_all()
        stored = db.session.get(JoinRequest, request.id)
        assert stored.state is RequestState.approved
        assert stored.organisation_id == created.id
        assert stored.decided_by_id == organiser.id and stored.decided_at is not None
        assert invitation.organisation_id == created.id
        assert invitation.state is InvitationState.pending

        message = mailbox.last_to("paula@gemeente.example.nl")
        body = body_of(message)
        assert "Gemeente Utrecht" in body
        link = link_in(body)
        assert link.startswith("http://buyergroup.test/invitation/")

    def test_approving_uses_the_known_organisation(self, organiser, make_organisation, mailbox):
        known = make_organisation("Gemeente Utrecht", country="NL")
        request = service.submit_join_request(request_data(organisation_name="gemeente utrecht"))
        assert request.organisation_id == known.id
        invitation = service.approve_join_request(organiser, request)
        commit_and_deliver()
        assert invitation.organisation_id == known.id
        assert db.session.scalar(select(func.count(Organisation.id))) == 1

    def test_the_invitation_link_creates_the_account(
        self, app, organiser, mailbox
    ):
        request = service.submit_join_request(request_data())
        service.approve_join_request(organiser, request)
        commit_and_deliver()
        link = link_in(body_of(mailbox.last_to("paula@gemeente.example.nl")))
        path = link.removeprefix("http://buyergroup.test")

        client = app.test_client()
        assert client.get(path).status_code == 200

    def test_declining_emails_the_applicant_with_the_note(self, organiser, mailbox):
        request = service.submit_join_request(request_data())
        commit_and_deliver()
        mailbox.clear()

        service.decline_join_request(
            organiser, request, "  Buyergroup is for public buyers only.  "
        )
        commit_and_deliver()

        db.session.expire_all()
        stored = db.session.get(JoinRequest, request.id)
        assert stored.state is RequestState.declined
        assert stored.decision_note == "Buyergroup is for public buyers only."
        message = mailbox.last_to("paula@gemeente.example.nl")
        body = body_of(message)
        assert "Hello Paula Public" in body
        assert "Buyergroup is for public buyers only." in body
        assert db.session.scalar(select(func.count(Invitation.id))) == 0

    @pytest.mark.parametrize("first", ["approve", "decline"])
    @pytest.mark.parametrize("second", ["approve", "decline"])
    def test_deciding_twice_is_refused(self, organiser, admin, mailbox, first, second):
        request = service.submit_join_request(request_data())
        decide = {
            "approve": lambda actor: service.approve_join_request(actor, request),
            "decline": lambda actor: service.decline_join_request(actor, request, "no"),
        }
        decide[first](organiser)
        commit_and_deliver()
        mailbox.clear()
        with pytest.raises(AlreadyExists):
            decide[second](admin)
        db.session.rollback()
        commit_and_deliver()
        assert mailbox.messages == []
        assert db.session.get(JoinRequest, request.id).decided_by_id == organiser.id

    def test_a_member_cannot_approve_or_decline(self, organiser, member, mailbox):
        request = service.submit_join_request(request_data())
        commit_and_deliver()
        mailbox.clear()
        with pytest.raises(NotAllowed):
            service.approve_join_request(member, request)
        with pytest.raises(NotAllowed):
            service.decline_join_request(member, request)
        db.session.rollback()
        commit_and_deliver()
        assert db.session.get(JoinRequest, request.id).state is RequestState.pending
        assert db.session.scalar(select(func.count(Invitation.id))) == 0
        assert mailbox.messages == []
