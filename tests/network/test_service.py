"""Rules for organisations, working groups and requests to join the network.

Mail is checked the way a member would see it: queued in the transaction, committed,
delivered over SMTP to the test server, then read from its mailbox. No request context is
pushed on purpose: CLI commands and jobs call these services too, and their translated error
messages must work without one.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from buyergroup.errors import AlreadyExists, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.mail.service import deliver_due
from buyergroup.network import service
from buyergroup.network.errors import LastOrganiser
from buyergroup.network.models import (
    GroupMembership,
    GroupRole,
    MembershipState,
    Organisation,
    OrganisationKind,
)
from tests.conftest import body_of


def commit_and_deliver() -> None:
    """What a request does at its end: commit, then send what it queued."""
    db.session.commit()
    deliver_due()


def membership_row(group, user) -> GroupMembership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
        )
    )


# --- Organisations --------------------------------------------------------------------------


class TestOrganisations:
    def test_organiser_creates_an_organisation(self, organiser):
        organisation = service.save_organisation(
            organiser, name="  Ville de Liège ", kind="local_authority", country="be",
            website="https://www.liege.be", short_name=" Liège ",
        )
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(Organisation, organisation.id)
        assert stored.name == "Ville de Liège"
        assert stored.slug == "ville-de-liege"
        assert stored.short_name == "Liège"
        assert stored.kind is OrganisationKind.local_authority
        assert stored.country == "BE"
        assert stored.website == "https://www.liege.be"

    def test_two_similar_names_get_distinct_slugs(self, organiser):
        first = service.save_organisation(organiser, name="City of Ghent", kind="other")
        second = service.save_organisation(organiser, name="City of Ghent!", kind="other")
        assert first.slug == "city-of-ghent"
        assert second.slug == "city-of-ghent-2"

    def test_member_cannot_create_an_organisation(self, member):
        with pytest.raises(NotAllowed):
            service.save_organisation(member, name="Sneaky Org", kind="other")
        assert service.get_organisation_by_name("Sneaky Org") is None

    def test_member_cannot_edit_an_organisation(self, member, make_organisation):
        organisation = make_organisation("Province of Antwerp")
        with pytest.raises(NotAllowed):
            service.save_organisation(member, organisation, name="Renamed")
        db.session.rollback()
        assert db.session.get(Organisation, organisation.id).name == "Province of Antwerp"

    def test_duplicate_name_is_refused_whatever_the_case(self, organiser, make_organisation):
        make_organisation("Stad Gent")
        with pytest.raises(AlreadyExists) as caught:
            service.save_organisation(organiser, name="  STAD GENT ", kind="other")
        assert caught.value.field == "name"
        assert db.session.scalar(select(func.count(Organisation.id))) == 1

    def test_renaming_onto_another_organisation_is_refused(self, organiser, make_organisation):
        make_organisation("Stad Gent")
        other = make_organisation("Stad Brugge")
        with pytest.raises(AlreadyExists):
            service.save_organisation(organiser, other, name="stad gent")

    def test_keeping_the_same_name_on_edit_is_fine(self, organiser, make_organisation):
        organisation = make_organisation("Stad Gent")
        service.save_organisation(organiser, organisation, name="STAD GENT", country="be")
        assert organisation.name == "STAD GENT"

    def test_empty_name_is_refused(self, organiser):
        with pytest.raises(ValidationFailed) as caught:
            service.save_organisation(organiser, name="   ", kind="other")
        assert caught.value.field == "name"

    @pytest.mark.parametrize(
        "website", ["www.example.org", "ftp://example.org", "javascript:alert(1)"]
    )
    def test_website_must_be_http_or_https(self, organiser, website):
        with pytest.raises(ValidationFailed) as caught:
            service.save_organisation(organiser, name="Org", kind="other", website=website)
        assert caught.value.field == "website"

    @pytest.mark.parametrize("website", ["http://example.org", "https://example.org/x"])
    def test_http_and_https_websites_are_accepted(self, organiser, website):
        organisation = service.save_organisation(
            organiser, name="Org", kind="other", website=website
        )
        assert organisation.website == website

    def test_affiliation_is_added_once(self, organiser, make_organisation):
        organisation = make_organisation()
        first = service.add_affiliation(
            organiser, organisation, name="Electronics Watch", since=date(2020, 3, 1)
        )
        again = service.add_affiliation(
            organiser, organisation, name=" Electronics Watch ", since=date(2020, 3, 1)
        )
        db.session.commit()
        assert again.id == first.id
        db.session.expire_all()
        assert [a.name for a in db.session.get(Organisation, organisation.id).affiliations] == [
            "Electronics Watch"
        ]

    def test_affiliation_end_before_start_is_refused(self, organiser, make_organisation):
        organisation = make_organisation()
        with pytest.raises(ValidationFailed) as caught:
            service.add_affiliation(
                organiser, organisation, name="Electronics Watch",
                since=date(2021, 1, 1), until=date(2020, 1, 1),
            )
        assert caught.value.field == "until"
        assert organisation.affiliations == []

    def test_affiliation_needs_a_name(self, organiser, make_organisation):
        with pytest.raises(ValidationFailed):
            service.add_affiliation(organiser, make_organisation(), name="  ")

    def test_member_cannot_add_an_affiliation(self, member, make_organisation):
        organisation = make_organisation()
        with pytest.raises(NotAllowed):
            service.add_affiliation(member, organisation, name="Electronics Watch")
        assert organisation.affiliations == []


# --- Working groups -------------------------------------------------------------------------


class TestGroups:
    def test_creator_becomes_the_first_organiser(self, organiser):
        group = service.save_group(
            organiser, name="Fair laptops", languages=["en", "fr", "en"], join_policy="approval"
        )
        db.session.commit()
        assert group.organisers == [organiser]
        assert group.languages == ["en", "fr"]
        membership = membership_row(group, organiser)
        assert membership.role is GroupRole.organiser
        assert membership.state is MembershipState.active
        assert membership.joined_at is not None

    def test_member_cannot_create_a_group(self, member):
        with pytest.raises(NotAllowed):
            service.save_group(member, name="Members' own group")

    def test_duplicate_group_name_is_refused(self, organiser, make_group):
        make_group("Fair laptops", organiser=organiser)
        with pytest.raises(AlreadyExists):
            service.save_group(organiser, name="fair LAPTOPS")

    def test_ordinary_member_cannot_edit_a_group(self, organiser, member, make_group):
        group = make_group("Fair laptops", organiser=organiser)
        service.join_group(group, member)
        with pytest.raises(NotAllowed):
            service.save_group(member, group, name="Hijacked")

    def test_joining_an_open_group_is_immediate(self, organiser, member, make_group, mailbox):
        group = make_group(organiser=organiser, join_policy="open")
        membership = service.join_group(group, member)
        commit_and_deliver()
        assert membership.is_active
        assert membership_row(group, member).state is MembershipState.active
        assert mailbox.messages == []  # nobody needs to approve anything

    def test_asking_to_join_an_approval_group_emails_every_organiser(
        self, organiser, member, make_user, make_group, mailbox
    ):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        co_organiser = make_user("co@example.org", name="Cora Co")
        service.add_member(group, co_organiser, role=GroupRole.organiser)
        db.session.commit()

        service.join_group(group, member, "  We tender servers next year.  ")
        commit_and_deliver()

        assert membership_row(group, member).state is MembershipState.pending
        assert member not in [m.user for m in group.active_memberships]
        for address in ("organiser@example.org", "co@example.org"):
            message = mailbox.last_to(address)
            assert "Mia Member" in message["Subject"] and "Fair servers" in message["Subject"]
            body = body_of(message)
            assert "We tender servers next year." in body
            assert f"http://buyergroup.test/groups/{group.slug}#requests" in body
        assert mailbox.to("member@example.org") == []

    def test_organisers_are_written_to_in_their_own_language(
        self, make_user, member, make_group, mailbox
    ):
        german = make_user("de@example.org", role="organiser", locale="de")
        group = make_group("Faire Server", organiser=german, join_policy="approval")
        service.join_group(group, member)
        commit_and_deliver()
        assert mailbox.last_to("de@example.org")["Content-Language"] == "de"

    @pytest.mark.parametrize("approve", [True, False])
    def test_the_decision_is_emailed_to_the_applicant(
        self, organiser, member, make_group, mailbox, approve
    ):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        membership = service.join_group(group, member)
        commit_and_deliver()
        mailbox.clear()

        service.decide_membership(organiser, membership, approve=approve)
        commit_and_deliver()

        row = membership_row(group, member)
        message = mailbox.last_to("member@example.org")
        assert "Fair servers" in message["Subject"]
        if approve:
            assert row.state is MembershipState.active and row.joined_at is not None
            assert row.decided_by_id == organiser.id
            assert "has been approved" in body_of(message)
        else:
            assert row is None
            assert "has not been approved" in body_of(message)
        assert len(mailbox.messages) == 1

    def test_deciding_again_changes_nothing_and_sends_nothing(
        self, organiser, member, make_group, mailbox
    ):
        group = make_group(organiser=organiser, join_policy="approval")
        membership = service.join_group(group, member)
        service.decide_membership(organiser, membership, approve=True)
        commit_and_deliver()
        mailbox.clear()
        service.decide_membership(organiser, membership, approve=False)
        commit_and_deliver()
        assert membership_row(group, member).state is MembershipState.active
        assert mailbox.messages == []

    def test_joining_twice_is_refused(self, organiser, member, make_group):
        open_group = make_group(organiser=organiser, join_policy="open")
        service.join_group(open_group, member)
        with pytest.raises(AlreadyExists):
            service.join_group(open_group, member)

        approval_group = make_group(organiser=organiser, join_policy="approval")
        service.join_group(approval_group, member)
        with pytest.raises(AlreadyExists) as caught:
            service.join_group(approval_group, member)
        assert "waiting" in str(caught.value.message)

    def test_visitor_cannot_join_a_hidden_group(self, organiser, make_group):
        from flask_login import AnonymousUserMixin

        group = make_group(organiser=organiser, is_public=False)
        with pytest.raises(NotFound):
            service.join_group(group, AnonymousUserMixin())

    def test_a_member_can_leave(self, organiser, member, make_group):
        group = make_group(organiser=organiser)
        service.join_group(group, member)
        db.session.commit()
        service.leave_group(group, member)
        db.session.commit()
        assert membership_row(group, member) is None

    def test_leaving_a_group_one_is_not_in_is_refused(self, organiser, member, make_group):
        group = make_group(organiser=organiser)
        with pytest.raises(NotFound):
            service.leave_group(group, member)

    def test_the_last_organiser_cannot_leave(self, organiser, member, make_group):
        group = make_group(organiser=organiser)
        service.join_group(group, member)
        db.session.commit()
        with pytest.raises(LastOrganiser) as refused:
            service.leave_group(group, organiser)
        assert refused.value.status_code == 409  # an invariant, not a missing right
        assert membership_row(group, organiser).role is GroupRole.organiser

    def test_an_organiser_can_leave_once_there_is_another(self, organiser, member, make_group):
        group = make_group(organiser=organiser)
        membership = service.join_group(group, member)
        service.set_member_role(organiser, membership, GroupRole.organiser)
        service.leave_group(group, organiser)
        db.session.commit()
        assert membership_row(group, organiser) is None
        assert group.organisers == [member]

    def test_the_last_organiser_cannot_be_demoted_or_removed(
        self, organiser, admin, make_group
    ):
        group = make_group(organiser=organiser)
        own = group.membership_of(organiser)
        with pytest.raises(LastOrganiser):
            service.set_member_role(organiser, own, GroupRole.member)
        # Not even by an administrator.
        with pytest.raises(LastOrganiser):
            service.set_member_role(admin, own, GroupRole.member)
        with pytest.raises(LastOrganiser):
            service.remove_member(admin, own)
        db.session.rollback()
        row = membership_row(group, organiser)
        assert row is not None and row.role is GroupRole.organiser

    def test_organiser_removes_a_member(self, organiser, member, make_group):
        group = make_group(organiser=organiser)
        membership = service.join_group(group, member)
        db.session.commit()
        service.remove_member(organiser, membership)
        db.session.commit()
        assert membership_row(group, member) is None

    def test_non_organisers_cannot_approve_change_roles_or_remove(
        self, organiser, member, make_user, make_group
    ):
        group = make_group(organiser=organiser, join_policy="approval")
        # A site organiser who is only a plain member of this group has no say in it.
        site_organiser = make_user("other-organiser@example.org", role="organiser")
        service.add_member(group, site_organiser)
        applicant = make_user("applicant@example.org")
        pending = service.join_group(group, applicant)
        db.session.commit()

        for actor in (member, site_organiser):
            with pytest.raises(NotAllowed):
                service.decide_membership(actor, pending, approve=True)
            with pytest.raises(NotAllowed):
                service.set_member_role(actor, group.membership_of(organiser), GroupRole.member)
            with pytest.raises(NotAllowed):
                service.remove_member(actor, group.membership_of(organiser))
        db.session.rollback()
        assert membership_row(group, applicant).state is MembershipState.pending
        assert membership_row(group, organiser).role is GroupRole.organiser

    def test_the_database_refuses_a_duplicate_membership(self, organiser, member, make_group):
        group = make_group(organiser=organiser)
        service.join_group(group, member)
        db.session.commit()
        # Bypass the service (as two simultaneous requests would): the unique key holds.
        db.session.add(GroupMembership(group_id=group.id, user_id=member.id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        count = db.session.scalar(
            select(func.count(GroupMembership.id)).where(GroupMembership.user_id == member.id)
        )
        assert count == 1
