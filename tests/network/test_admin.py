"""The organisers' desk at /manage: invitations, group requests, and accounts and roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.accounts.models import Invitation, InvitationState, Role, User
from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.library.models import ItemStatus, Visibility
from buyergroup.network import service
from tests.conftest import Auth, body_of
from tests.network.pages import error_by, form_actions, html, input_value, main_text


def reload_user(user) -> User:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(User, user.id)


def invitations() -> list[Invitation]:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalars(select(Invitation).order_by(Invitation.id)).all()


class TestAccess:
    @pytest.mark.parametrize("path", ["/manage/", "/manage/invite", "/manage/users"])
    def test_members_are_refused(self, client, auth, member, path):
        auth.login(member)
        assert client.get(path).status_code == 403

    def test_visitors_are_sent_to_sign_in(self, client):
        response = client.get("/manage/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")

    def test_accounts_and_roles_are_for_administrators_only(
        self, client, auth, organiser, member
    ):
        auth.login(organiser)
        assert client.get("/manage/").status_code == 200
        assert "Accounts and roles" not in main_text(client.get("/manage/"))
        assert client.get("/manage/users").status_code == 403
        assert client.post(f"/manage/users/{member.id}/role",
                           data={"role": "admin"}).status_code == 403
        assert client.post(f"/manage/users/{member.id}/deactivate").status_code == 403
        assert reload_user(member).role is Role.member
        assert reload_user(member).is_active_account


class TestInvitations:
    def test_organiser_invites_someone_into_an_organisation_and_a_group(
        self, new_client, organiser, make_organisation, make_group, mailbox
    ):
        ghent = make_organisation("Stad Gent")
        group = make_group("Fair laptops", organiser=organiser)
        desk = new_client()
        Auth(desk).login(organiser)

        form = desk.get(f"/manage/invite?organisation={ghent.id}")
        assert input_value(form, "organisation_id") == str(ghent.id)
        roles = html(form).xpath('//select[@name="role"]/option/@value')
        assert roles == ["member", "organiser"]  # never above one's own role

        response = desk.post("/manage/invite", data={
            "email": "New.Buyer@Gent.example.be", "name": "Nina New",
            "organisation_id": str(ghent.id), "group_id": str(group.id), "role": "member",
            "locale": "nl", "message": "Welkom!",
        }, follow_redirects=True)
        assert "An invitation has been sent to New.Buyer@Gent.example.be." in main_text(response)
        text = main_text(response)
        assert "new.buyer@gent.example.be" in text and "Stad Gent" in text

        message = mailbox.last_to("new.buyer@gent.example.be")
        assert message["Content-Language"] == "nl"
        body = body_of(message)
        assert "Welkom!" in body
        link = next(word for word in body.split() if "/invitation/" in word)

        invitee = new_client()
        path = link.removeprefix("http://buyergroup.test")
        response = invitee.post(path, data={
            "name": "Nina New", "password": "a long enough password",
            "password_confirm": "a long enough password", "locale": "nl",
            "timezone": "Europe/Brussels", "confirm": "a long enough password",
        })
        assert response.status_code == 302, main_text(response)
        user = db.session.scalar(select(User).where(User.email == "new.buyer@gent.example.be"))
        assert user.organisation_id == ghent.id
        db.session.expire_all()
        assert group.membership_of(user) is not None

    def test_an_organiser_cannot_invite_an_administrator(
        self, client, auth, organiser, make_organisation, mailbox
    ):
        ghent = make_organisation("Stad Gent")
        auth.login(organiser)
        response = client.post("/manage/invite", data={
            "email": "boss@example.org", "organisation_id": str(ghent.id), "role": "admin",
            "locale": "en",
        })
        assert response.status_code == 200
        assert error_by(response, "role")
        assert input_value(response, "email") == "boss@example.org"
        assert invitations() == []
        assert mailbox.messages == []

    def test_inviting_an_existing_member_is_explained_by_the_field(
        self, client, auth, organiser, member, mailbox
    ):
        auth.login(organiser)
        response = client.post("/manage/invite", data={
            "email": "MEMBER@example.org", "organisation_id": str(member.organisation_id),
            "role": "member", "locale": "en",
        })
        assert response.status_code == 200
        assert error_by(response, "email") == "This person already has an account."
        assert invitations() == []

    def test_an_invitation_can_be_revoked(
        self, client, auth, organiser, make_organisation, mailbox
    ):
        ghent = make_organisation("Stad Gent")
        auth.login(organiser)
        client.post("/manage/invite", data={
            "email": "nina@example.org", "organisation_id": str(ghent.id), "role": "member",
            "locale": "en",
        })
        (invitation,) = invitations()
        revoke = f"/manage/invitations/{invitation.id}/revoke"
        assert revoke in form_actions(client.get("/manage/"))
        response = client.post(revoke, follow_redirects=True)
        assert "The invitation to nina@example.org has been revoked." in main_text(response)
        assert "No open invitations." in main_text(response)
        assert invitations()[0].state is InvitationState.revoked

        link = next(w for w in body_of(mailbox.last_to("nina@example.org")).split()
                    if "/invitation/" in w)
        assert client.get(link.removeprefix("http://buyergroup.test")).status_code != 200


class TestGroupRequestsOnTheDesk:
    def test_organisers_see_requests_for_the_groups_they_organise(
        self, new_client, organiser, member, make_user, make_group
    ):
        other_organiser = make_user("other@example.org", role="organiser", name="Olga Other")
        mine = make_group("Fair servers", organiser=organiser, join_policy="approval")
        theirs = make_group("Fair phones", organiser=other_organiser, join_policy="approval")
        service.join_group(mine, member)
        service.join_group(theirs, member)
        db.session.commit()

        desk = new_client()
        Auth(desk).login(organiser)
        text = main_text(desk.get("/manage/"))
        assert "Requests to join your working groups (1)" in text
        assert "Fair servers" in text and "Fair phones" not in text

        admin = make_user("boss@example.org", role="admin")
        admin_desk = new_client()
        Auth(admin_desk).login(admin)
        text = main_text(admin_desk.get("/manage/"))
        assert "Requests to join your working groups (2)" in text


class TestAccounts:
    def test_admin_changes_a_role_and_deactivates_an_account(
        self, new_client, admin, member
    ):
        desk = new_client()
        Auth(desk).login(admin)
        page = desk.get("/manage/users?q=mia")
        listed = html(page).xpath("//table//tbody/tr/td[1]/a/text()")
        assert listed == ["Mia Member"]

        response = desk.post(f"/manage/users/{member.id}/role", data={"role": "organiser"},
                             follow_redirects=True)
        assert "Mia Member is now: Organiser." in main_text(response)
        assert reload_user(member).role is Role.organiser

        response = desk.post(f"/manage/users/{member.id}/deactivate", follow_redirects=True)
        assert "The account of Mia Member has been deactivated." in main_text(response)
        assert not reload_user(member).is_active_account
        sign_in = Auth(new_client()).login(member)
        assert sign_in.status_code == 200  # the form again, not a redirect: refused

        desk.post(f"/manage/users/{member.id}/activate")
        assert reload_user(member).is_active_account

    def test_admin_cannot_demote_or_deactivate_themselves(self, client, auth, admin):
        auth.login(admin)
        client.post(f"/manage/users/{admin.id}/role", data={"role": "member"})
        client.post(f"/manage/users/{admin.id}/deactivate")
        stored = reload_user(admin)
        assert stored.role is Role.admin and stored.is_active_account


class TestOneDesk:
    """The desk is where an organiser acts on what waits: reviews and requests to join."""

    @pytest.fixture
    def waiting(self, make_group, make_user, organiser, member):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        asking = make_user("asking@example.org", name="Ada Asking")
        membership = service.join_group(group, asking, message="I buy servers for Gent.")
        item = library_service.create_item(
            None, created_by=member, authors=[member], status=ItemStatus.submitted,
            visibility=Visibility.public, kind="clause", title="Server take-back clause",
            language="en", body="The supplier takes the servers back.")
        db.session.commit()
        return group, membership, item

    def test_the_desk_shows_reviews_and_group_requests_with_their_buttons(
            self, client, auth, organiser, waiting):
        group, membership, item = waiting
        auth.login(organiser)
        page = client.get("/manage/")
        text = main_text(page)
        assert "1 item to review" in text and "1 request to join a group" in text
        assert "Server take-back clause" in text and "I buy servers for Gent." in text
        actions = form_actions(page)
        assert f"/library/{item.id}/publish" in actions
        assert f"/library/{item.id}/return" in actions
        assert f"/groups/{group.slug}/members/{membership.id}/approve" in actions
        assert f"/groups/{group.slug}/members/{membership.id}/decline" in actions

    def test_deciding_on_the_desk_comes_back_to_the_desk(self, client, auth, organiser,
                                                        waiting):
        group, membership, item = waiting
        auth.login(organiser)
        client.get("/manage/")
        approved = client.post(f"/groups/{group.slug}/members/{membership.id}/approve",
                               data={"next": "desk"})
        assert approved.headers["Location"].startswith("/manage/")
        published = client.post(f"/library/{item.id}/publish", data={"next": "desk"})
        assert published.headers["Location"].startswith("/manage/")
        text = main_text(client.get("/manage/"))
        assert "0 items to review" in text and "0 requests to join a group" in text
        assert "Nothing is waiting." in text
