"""Organisation and working-group pages, their forms, and the visitor's request to join."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from buyergroup.accounts.models import Invitation
from buyergroup.extensions import db
from buyergroup.network import service
from buyergroup.network.models import (
    GroupMembership,
    GroupRole,
    JoinPolicy,
    JoinRequest,
    MembershipState,
    Organisation,
    OrganisationKind,
    RequestState,
    WorkingGroup,
)
from buyergroup.onboarding import service as onboarding
from tests.conftest import Auth, body_of
from tests.network.pages import error_by, form_actions, html, input_value, main_text

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database


def reload(instance):
    """Read a row again: requests commit in their own session, not the test's."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(type(instance), instance.id)


def membership_state(group, user):
    db.session.rollback()
    db.session.expire_all()
    row = db.session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group.id, GroupMembership.user_id == user.id
        )
    )
    return None if row is None else (row.state, row.role)


# --- Who sees which organisations -------------------------------------------------------------


@pytest.fixture
def two_organisations(make_organisation):
    public = make_organisation("Open City Council", kind="local_authority", country="FR")
    hidden = make_organisation("Quiet Purchasing Body", kind="central_purchasing_body",
                               country="LU", is_public=False)
    return public, hidden


class TestOrganisationPages:
    def test_visitors_see_public_organisations_only(self, client, two_organisations):
        public, hidden = two_organisations
        response = client.get("/organisations")
        assert response.status_code == 200
        text = main_text(response)
        assert "Open City Council" in text
        assert "Quiet Purchasing Body" not in text
        assert "1 organisation" in text
        assert client.get(f"/organisations/{public.slug}").status_code == 200
        hidden_page = client.get(f"/organisations/{hidden.slug}")
        assert hidden_page.status_code == 404
        assert "Quiet Purchasing Body" not in hidden_page.get_data(as_text=True)

    def test_the_country_filter_does_not_reveal_hidden_organisations(
        self, client, two_organisations
    ):
        page = client.get("/organisations")
        countries = html(page).xpath('//select[@name="country"]/option/@value')
        assert "FR" in countries
        assert "LU" not in countries  # only the hidden organisation is in Luxembourg

    def test_members_see_every_organisation(self, client, auth, member, two_organisations):
        public, hidden = two_organisations
        auth.login(member)
        text = main_text(client.get("/organisations"))
        assert "Open City Council" in text and "Quiet Purchasing Body" in text
        assert client.get(f"/organisations/{hidden.slug}").status_code == 200

    def test_filters_by_kind_and_country(self, client, make_organisation):
        make_organisation("Ghent", kind="local_authority", country="BE")
        make_organisation("Flanders", kind="regional_authority", country="BE")
        make_organisation("Lyon", kind="local_authority", country="FR")

        by_kind = main_text(client.get("/organisations?kind=local_authority"))
        assert "Ghent" in by_kind and "Lyon" in by_kind and "Flanders" not in by_kind

        by_country = main_text(client.get("/organisations?country=be"))
        assert "Ghent" in by_country and "Flanders" in by_country and "Lyon" not in by_country

        both = client.get("/organisations?kind=local_authority&country=FR")
        assert "Lyon" in main_text(both) and "Ghent" not in main_text(both)
        assert input_value(both, "kind") == "local_authority"
        assert input_value(both, "country") == "FR"

        nothing = main_text(client.get("/organisations?kind=university"))
        assert "No organisation matches these filters." in nothing

    def test_lists_are_in_alphabetical_order_whatever_the_case(
        self, client, organiser, make_organisation, make_group
    ):
        for name in ("Zuid Holland", "eGov Agency", "Antwerpen"):
            make_organisation(name)
            make_group(f"{name} group", organiser=organiser)
        names = html(client.get("/organisations")).xpath('//h2[@class="card-title"]/a/text()')
        assert names == ["Antwerpen", "eGov Agency", "Zuid Holland"]
        groups = html(client.get("/groups")).xpath('//h2[@class="card-title"]/a/text()')
        assert groups == ["Antwerpen group", "eGov Agency group", "Zuid Holland group"]

    def test_the_next_page_keeps_the_filters(self, client, make_organisation):
        for n in range(32):
            make_organisation(f"Gemeente {n:02d}", country="NL")
        make_organisation("Ville de Lyon", country="FR")
        first = client.get("/organisations?country=NL")
        assert "32 organisations" in main_text(first)
        assert len(html(first).xpath('//h2[@class="card-title"]')) == 30
        (next_link,) = html(first).xpath('//a[@rel="next"]/@href')
        assert "country=NL" in next_link and "page=2" in next_link
        second = html(client.get(next_link)).xpath('//h2[@class="card-title"]/a/text()')
        assert second == ["Gemeente 30", "Gemeente 31"]

    def test_unknown_kind_is_ignored(self, client, make_organisation):
        make_organisation("Ghent")
        assert "Ghent" in main_text(client.get("/organisations?kind=spaceship"))

    def test_affiliations_are_shown_with_their_dates(self, client, make_organisation):
        organisation = make_organisation("Stad Gent")
        service.add_affiliation(None, organisation, name="Electronics Watch",
                                since=date(2020, 3, 15))
        service.add_affiliation(None, organisation, name="Procura+",
                                since=date(2016, 1, 1), until=date(2019, 6, 30))
        db.session.commit()
        text = main_text(client.get(f"/organisations/{organisation.slug}"))
        assert "Electronics Watch since March 2020" in text
        assert "Procura+ from January 2016 to June 2019" in text

    def test_members_of_an_organisation_are_hidden_from_visitors(
        self, client, auth, make_user, make_organisation
    ):
        organisation = make_organisation("Stad Gent")
        make_user("jan@gent.example.be", name="Jan Janssens", organisation=organisation)
        response = client.get(f"/organisations/{organisation.slug}")
        assert "Jan Janssens" not in response.get_data(as_text=True)
        assert "Sign in to see the members of this organisation." in main_text(response)

        auth.login("jan@gent.example.be")
        assert "Jan Janssens" in main_text(client.get(f"/organisations/{organisation.slug}"))

    def test_organisation_page_lists_only_groups_its_members_belong_to(
        self, client, auth, organiser, make_user, make_organisation, make_group
    ):
        organisation = make_organisation("Stad Gent")
        jan = make_user("jan@gent.example.be", organisation=organisation)
        joined = make_group("Fair laptops", organiser=organiser)
        asked = make_group("Fair servers", organiser=organiser, join_policy="approval")
        service.join_group(joined, jan)
        service.join_group(asked, jan)  # only asked: not (yet) a member
        db.session.commit()

        text = main_text(client.get(f"/organisations/{organisation.slug}"))
        assert "Fair laptops" in text
        assert "Fair servers" not in text


# --- Who sees which groups --------------------------------------------------------------------


class TestGroupPages:
    def test_visitors_see_public_groups_only(self, client, auth, member, organiser, make_group):
        public = make_group("Fair laptops", organiser=organiser)
        hidden = make_group("Secret pilots", organiser=organiser, is_public=False)

        text = main_text(client.get("/groups"))
        assert "Fair laptops" in text and "Secret pilots" not in text
        assert client.get(f"/groups/{public.slug}").status_code == 200
        assert client.get(f"/groups/{hidden.slug}").status_code == 404

        auth.login(member)
        assert "Secret pilots" in main_text(client.get("/groups"))
        assert client.get(f"/groups/{hidden.slug}").status_code == 200

    def test_a_hidden_host_organisation_is_not_named_to_visitors(
        self, client, auth, member, organiser, make_organisation, make_group
    ):
        hidden = make_organisation("Quiet Purchasing Body", is_public=False)
        group = make_group("Fair laptops", organiser=organiser, host_organisation=hidden)
        assert "Quiet Purchasing Body" not in client.get(f"/groups/{group.slug}").get_data(
            as_text=True
        )
        auth.login(member)
        assert "Quiet Purchasing Body" in main_text(client.get(f"/groups/{group.slug}"))

    def test_visitor_is_asked_to_sign_in_to_join(self, client, organiser, make_group):
        group = make_group("Fair laptops", organiser=organiser)
        response = client.get(f"/groups/{group.slug}")
        links = html(response).xpath('//a[normalize-space()="Sign in to join"]/@href')
        assert links == [f"/login?next=/groups/{group.slug}"]
        assert "Oscar Organiser" not in response.get_data(as_text=True)
        assert "This group has 1 member." in main_text(response)

    def test_member_joins_an_open_group_with_a_click(
        self, client, auth, member, organiser, make_group, mailbox
    ):
        group = make_group("Fair laptops", organiser=organiser, join_policy="open")
        auth.login(member)
        page = client.get(f"/groups/{group.slug}")
        assert f"/groups/{group.slug}/join" in form_actions(page)
        assert "Join group" in main_text(page)

        response = client.post(f"/groups/{group.slug}/join", follow_redirects=True)
        assert response.status_code == 200
        text = main_text(response)
        assert "You have joined Fair laptops." in text
        assert "You are a member of this group" in text
        assert "Mia Member" in text  # now in the members table
        assert membership_state(group, member) == (MembershipState.active, GroupRole.member)
        assert mailbox.messages == []

    @pytest.mark.parametrize("policy", ["open", "approval"])
    @pytest.mark.committing  # the first click is played on a connection of its own
    def test_a_double_click_on_join_is_not_an_error_page(
        self, client, auth, member, organiser, make_group, monkeypatch, policy
    ):
        """Two clicks race: the first request's row lands between the second's check and its
        insert, and the database's unique key refuses the duplicate."""
        group = make_group("Fair laptops", organiser=organiser, join_policy=policy)
        auth.login(member)
        flush = db.session.flush

        def first_click_lands_first(*args, **kwargs):
            with db.engine.begin() as other_request:
                other_request.execute(GroupMembership.__table__.insert().values(
                    group_id=group.id, user_id=member.id, role="member", state="active",
                    message="", requested_at=group.created_at,
                ))
            monkeypatch.setattr(db.session, "flush", flush)
            return flush(*args, **kwargs)

        original_join = service.join_group

        def join_group(*args, **kwargs):
            monkeypatch.setattr(db.session, "flush", first_click_lands_first)
            return original_join(*args, **kwargs)

        monkeypatch.setattr(service, "join_group", join_group)
        # The browser sends the group page as the Referer; errors.py sends the member back.
        response = client.post(f"/groups/{group.slug}/join",
                               headers={"Referer": f"http://localhost/groups/{group.slug}"})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/groups/{group.slug}"
        monkeypatch.undo()
        text = main_text(client.get(f"/groups/{group.slug}"))
        assert "This was already saved (perhaps the form was sent twice)." in text
        assert "You are a member of this group" in text
        db.session.rollback()
        count = db.session.scalar(
            select(func.count(GroupMembership.id)).where(GroupMembership.user_id == member.id)
        )
        assert count == 1

    def test_member_asks_to_join_and_the_organiser_approves_from_the_group_page(
        self, new_client, member, organiser, make_group, mailbox
    ):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        applicant = new_client()
        Auth(applicant).login(member)
        page = applicant.get(f"/groups/{group.slug}")
        assert "Ask to join" in main_text(page)
        assert "An organiser approves each request." in main_text(page)

        response = applicant.post(
            f"/groups/{group.slug}/join", data={"message": "We tender servers in 2027."},
            follow_redirects=True,
        )
        text = main_text(response)
        assert "Your request has been sent to the organisers of Fair servers." in text
        assert "Your request to join is waiting for an organiser." in text
        assert membership_state(group, member) == (MembershipState.pending, GroupRole.member)
        request_mail = mailbox.last_to("organiser@example.org")
        assert "We tender servers in 2027." in body_of(request_mail)

        desk = new_client()
        Auth(desk).login(organiser)
        page = desk.get(f"/groups/{group.slug}")
        text = main_text(page)
        assert "Requests to join" in text and "We tender servers in 2027." in text
        approve = next(a for a in form_actions(page) if a.endswith("/approve"))

        response = desk.post(approve, follow_redirects=True)
        assert "Mia Member is now a member." in main_text(response)
        assert membership_state(group, member) == (MembershipState.active, GroupRole.member)
        assert "has been approved" in body_of(mailbox.last_to("member@example.org"))

        assert "You are a member of this group" in main_text(applicant.get(f"/groups/{group.slug}"))

    def test_organiser_declines_a_request(
        self, client, auth, member, organiser, make_group, mailbox
    ):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        membership = service.join_group(group, member)
        db.session.commit()
        auth.login(organiser)
        response = client.post(
            f"/groups/{group.slug}/members/{membership.id}/decline", follow_redirects=True
        )
        assert "The request from Mia Member has been declined." in main_text(response)
        assert membership_state(group, member) is None
        assert "has not been approved" in body_of(mailbox.last_to("member@example.org"))

    def test_organiser_manages_roles_and_members(
        self, client, auth, member, organiser, make_group
    ):
        group = make_group("Fair laptops", organiser=organiser)
        membership = service.join_group(group, member)
        db.session.commit()
        auth.login(organiser)
        page = client.get(f"/groups/{group.slug}")
        role_url = f"/groups/{group.slug}/members/{membership.id}/role"
        remove_url = f"/groups/{group.slug}/members/{membership.id}/remove"
        assert {role_url, remove_url} <= form_actions(page)

        client.post(role_url, data={"role": "organiser"})
        assert membership_state(group, member) == (MembershipState.active, GroupRole.organiser)
        client.post(role_url, data={"role": "member"})
        assert membership_state(group, member) == (MembershipState.active, GroupRole.member)
        response = client.post(remove_url, follow_redirects=True)
        assert "Mia Member has been removed from the group." in main_text(response)
        assert membership_state(group, member) is None

    def test_the_last_organiser_is_told_why_they_cannot_leave(
        self, client, auth, organiser, make_group
    ):
        group = make_group("Fair laptops", organiser=organiser)
        auth.login(organiser)
        response = client.post(f"/groups/{group.slug}/leave")
        # Back on the group page with the reason, not on a "not allowed" error page.
        assert response.status_code == 302
        assert response.headers["Location"] == f"/groups/{group.slug}"
        text = main_text(client.get(f"/groups/{group.slug}"))
        assert "You are this group's only organiser." in text
        assert membership_state(group, organiser) == (MembershipState.active, GroupRole.organiser)

    @pytest.mark.parametrize("action", ["role", "remove"])
    def test_the_last_organiser_cannot_be_demoted_or_removed_from_the_page(
        self, client, auth, organiser, make_group, action
    ):
        group = make_group("Fair laptops", organiser=organiser)
        own = group.membership_of(organiser)
        auth.login(organiser)
        response = client.post(f"/groups/{group.slug}/members/{own.id}/{action}",
                               data={"role": "member"})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/groups/{group.slug}#members"
        text = main_text(client.get(f"/groups/{group.slug}"))
        assert "A group needs at least one organiser." in text
        assert membership_state(group, organiser) == (MembershipState.active, GroupRole.organiser)

    @pytest.mark.parametrize("action", ["leave", "role", "remove"])
    def test_a_json_caller_gets_409_when_the_last_organiser_would_go(
        self, client, auth, organiser, make_group, action
    ):
        group = make_group("Fair laptops", organiser=organiser)
        own = group.membership_of(organiser)
        auth.login(organiser)
        url = {
            "leave": f"/groups/{group.slug}/leave",
            "role": f"/groups/{group.slug}/members/{own.id}/role",
            "remove": f"/groups/{group.slug}/members/{own.id}/remove",
        }[action]
        response = client.post(url, data={"role": "member"},
                               headers={"Accept": "application/json"})
        assert response.status_code == 409
        assert response.json["error"]["code"] == "LastOrganiser"
        assert "organiser" in response.json["error"]["message"]
        assert membership_state(group, organiser) == (MembershipState.active, GroupRole.organiser)

    def test_an_invalid_join_message_is_explained(self, client, auth, member, organiser,
                                                  make_group):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        auth.login(member)
        client.post(f"/groups/{group.slug}/join", data={"message": "x" * 2001})
        assert "2000" in main_text(client.get(f"/groups/{group.slug}"))
        assert membership_state(group, member) is None

    def test_ordinary_member_cannot_manage_a_group(
        self, client, auth, member, organiser, make_user, make_group, mailbox
    ):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval",
                           summary="Servers with fair supply chains")
        service.join_group(group, member)
        service.decide_membership(organiser, group.membership_of(member), approve=True)
        applicant = make_user("applicant@example.org", name="Alex Applicant")
        pending = service.join_group(group, applicant)
        db.session.commit()
        organiser_membership = group.membership_of(organiser)
        mailbox.clear()

        auth.login(member)
        page = client.get(f"/groups/{group.slug}")
        assert "Edit group" not in main_text(page)
        assert not any("/members/" in action for action in form_actions(page))

        base = f"/groups/{group.slug}"
        attempts = [
            (f"{base}/members/{pending.id}/approve", {}),
            (f"{base}/members/{pending.id}/decline", {}),
            (f"{base}/members/{organiser_membership.id}/role", {"role": "member"}),
            (f"{base}/members/{pending.id}/role", {"role": "organiser"}),
            (f"{base}/members/{organiser_membership.id}/remove", {}),
            (f"{base}/edit", {"name": "Hijacked", "languages": ["en"], "join_policy": "open"}),
        ]
        for url, data in attempts:
            response = client.post(url, data=data)
            assert response.status_code == 403, url
            assert "You are not allowed" in response.get_data(as_text=True)
        assert client.get(f"{base}/edit").status_code == 403

        assert membership_state(group, applicant) == (MembershipState.pending, GroupRole.member)
        assert membership_state(group, organiser) == (MembershipState.active, GroupRole.organiser)
        stored = reload(group)
        assert stored.name == "Fair servers" and stored.join_policy is JoinPolicy.approval
        assert mailbox.messages == []

    def test_member_cannot_create_or_edit_organisations(
        self, client, auth, member, make_organisation
    ):
        organisation = make_organisation("Stad Gent")
        auth.login(member)
        assert client.get("/organisations/new").status_code == 403
        response = client.post("/organisations/new", data={"name": "Members Org", "kind": "ngo"})
        assert response.status_code == 403
        response = client.post(f"/organisations/{organisation.slug}/edit",
                               data={"name": "Renamed", "kind": "ngo"})
        assert response.status_code == 403
        response = client.post(f"/organisations/{organisation.slug}/affiliations",
                               data={"name": "Electronics Watch"})
        assert response.status_code == 403
        db.session.rollback()
        assert service.get_organisation_by_name("Members Org") is None
        assert reload(organisation).name == "Stad Gent"
        assert reload(organisation).affiliations == []

    def test_visitors_are_sent_to_sign_in_before_changing_anything(
        self, client, organiser, make_group
    ):
        group = make_group("Fair laptops", organiser=organiser)
        for url in (f"/groups/{group.slug}/join", f"/groups/{group.slug}/edit", "/groups/new",
                    "/organisations/new"):
            response = client.post(url, data={"name": "x"})
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login"), url
        assert reload(group).name == "Fair laptops"


# --- Forms for groups and organisations ------------------------------------------------------


class TestForms:
    def test_organiser_creates_a_group(self, client, auth, organiser, make_organisation):
        host = make_organisation("Stad Gent")
        auth.login(organiser)
        form = client.get("/groups/new")
        assert form.status_code == 200
        hosts = html(form).xpath('//select[@name="host_organisation_id"]/option/@value')
        assert str(host.id) in hosts

        response = client.post("/groups/new", data={
            "name": "Fair laptops", "summary": "Laptops made fairly",
            "description": "We **compare** criteria.", "languages": ["en", "nl"],
            "join_policy": "approval", "is_public": "y", "founded_on": "2024-09-01",
            "host_organisation_id": str(host.id),
        }, follow_redirects=True)
        assert response.status_code == 200
        text = main_text(response)
        assert "The working group has been created. You are its organiser." in text
        assert "You are an organiser of this group" in text
        hosted_by = html(response).xpath('//dt[.="Hosted by"]/following-sibling::dd[1]/a')
        assert [a.text for a in hosted_by] == ["Stad Gent"]

        group = db.session.scalar(select(WorkingGroup).where(WorkingGroup.name == "Fair laptops"))
        assert group.slug == "fair-laptops"
        assert group.languages == ["en", "nl"]
        assert group.join_policy is JoinPolicy.approval
        assert group.founded_on == date(2024, 9, 1)
        assert group.host_organisation_id == host.id
        assert group.organisers == [organiser]

    def test_the_edit_form_shows_the_groups_current_settings(
        self, client, auth, organiser, make_organisation, make_group
    ):
        host = make_organisation("Stad Gent")
        group = make_group("Fair servers", organiser=organiser, join_policy="approval",
                           languages=["fr", "de"], host_organisation=host, is_public=False)
        auth.login(organiser)
        form = client.get(f"/groups/{group.slug}/edit")
        assert form.status_code == 200
        assert input_value(form, "name") == "Fair servers"
        # Saving the form unchanged must not silently open the group to everyone.
        assert input_value(form, "join_policy") == "approval"
        assert input_value(form, "host_organisation_id") == str(host.id)
        checked = html(form).xpath('//input[@name="languages"][@checked]/@value')
        assert sorted(checked) == ["de", "fr"]
        assert not html(form).xpath('//input[@name="is_public"][@checked]')

    def test_organiser_edits_a_group(self, client, auth, organiser, make_group):
        group = make_group("Fair servers", organiser=organiser, join_policy="approval")
        auth.login(organiser)
        response = client.post(f"/groups/{group.slug}/edit", data={
            "name": "Fair servers and storage", "summary": "Now with storage",
            "languages": ["en", "fr"], "join_policy": "open", "is_public": "y",
        }, follow_redirects=True)
        assert "The working group has been saved." in main_text(response)
        stored = reload(group)
        assert stored.name == "Fair servers and storage"
        assert stored.slug == "fair-servers"  # links keep working
        assert stored.summary == "Now with storage"
        assert stored.join_policy is JoinPolicy.open
        assert stored.languages == ["en", "fr"]

    def test_a_group_form_with_an_empty_name_is_shown_again(self, client, auth, organiser):
        auth.login(organiser)
        response = client.post("/groups/new", data={
            "name": "  ", "summary": "Kept summary", "languages": ["en"], "join_policy": "open",
        })
        assert response.status_code == 200
        assert error_by(response, "name")
        assert input_value(response, "summary") == "Kept summary"
        assert "Please correct the following" in main_text(response)
        assert db.session.scalar(select(func.count(WorkingGroup.id))) == 0

    def test_a_duplicate_group_name_is_shown_by_the_field(
        self, client, auth, organiser, make_group
    ):
        make_group("Fair laptops", organiser=organiser)
        auth.login(organiser)
        response = client.post("/groups/new", data={
            "name": "FAIR LAPTOPS", "summary": "Kept summary", "languages": ["en"],
            "join_policy": "open",
        })
        assert response.status_code == 200
        assert error_by(response, "name") == "A working group with this name already exists."
        assert input_value(response, "name") == "FAIR LAPTOPS"
        assert input_value(response, "summary") == "Kept summary"
        db.session.rollback()
        assert db.session.scalar(select(func.count(WorkingGroup.id))) == 1

    def test_renaming_a_group_onto_another_is_refused_by_the_field(
        self, client, auth, organiser, make_group
    ):
        make_group("Fair laptops", organiser=organiser)
        group = make_group("Fair servers", organiser=organiser)
        auth.login(organiser)
        response = client.post(f"/groups/{group.slug}/edit", data={
            "name": "fair laptops", "languages": ["en"], "join_policy": "open",
        })
        assert response.status_code == 200
        assert error_by(response, "name") == "A working group with this name already exists."
        assert input_value(response, "name") == "fair laptops"
        assert "Edit Fair servers" in main_text(response)
        assert reload(group).name == "Fair servers"

    def test_organiser_creates_and_edits_an_organisation(self, client, auth, organiser):
        auth.login(organiser)
        assert client.get("/organisations/new").status_code == 200
        response = client.post("/organisations/new", data={
            "name": "Ville de Liège", "short_name": "Liège", "kind": "local_authority",
            "country": "BE", "website": "https://www.liege.be", "description": "A city.",
            "is_public": "y",
        }, follow_redirects=True)
        assert "The organisation has been created." in main_text(response)
        organisation = db.session.scalar(select(Organisation))
        assert organisation.slug == "ville-de-liege"
        assert organisation.kind is OrganisationKind.local_authority

        form = client.get(f"/organisations/{organisation.slug}/edit")
        assert input_value(form, "name") == "Ville de Liège"
        assert input_value(form, "kind") == "local_authority"  # not reset to the first kind
        assert input_value(form, "country") == "BE"
        assert input_value(form, "website") == "https://www.liege.be"

        response = client.post(f"/organisations/{organisation.slug}/edit", data={
            "name": "Ville de Liège", "short_name": "Liège", "kind": "local_authority",
            "country": "BE", "website": "https://www.liege.be/fr", "description": "A city.",
        }, follow_redirects=True)
        assert "The organisation has been saved." in main_text(response)
        stored = reload(organisation)
        assert stored.website == "https://www.liege.be/fr"
        assert stored.is_public is False  # the box was left unticked

    def test_an_organisation_form_with_bad_input_is_shown_again(
        self, client, auth, organiser, make_organisation
    ):
        make_organisation("Stad Gent")
        auth.login(organiser)
        empty = client.post("/organisations/new", data={
            "name": "", "kind": "ngo", "short_name": "Kept", "website": "https://kept.example",
        })
        assert empty.status_code == 200
        assert error_by(empty, "name")
        assert input_value(empty, "short_name") == "Kept"
        assert input_value(empty, "website") == "https://kept.example"
        assert input_value(empty, "kind") == "ngo"

        duplicate = client.post("/organisations/new", data={
            "name": "stad gent", "kind": "ngo", "country": "BE",
        })
        assert duplicate.status_code == 200
        assert error_by(duplicate, "name") == "An organisation with this name already exists."
        assert input_value(duplicate, "name") == "stad gent"
        assert input_value(duplicate, "country") == "BE"

        bad_site = client.post("/organisations/new", data={
            "name": "New Org", "kind": "ngo", "website": "not a web address",
        })
        assert bad_site.status_code == 200
        assert error_by(bad_site, "website") == "Enter a full web address."
        assert input_value(bad_site, "website") == "not a web address"

        db.session.rollback()
        assert db.session.scalar(select(func.count(Organisation.id))) == 1

    def test_organiser_adds_and_removes_an_affiliation(
        self, client, auth, organiser, make_organisation
    ):
        organisation = make_organisation("Stad Gent")
        auth.login(organiser)
        response = client.post(f"/organisations/{organisation.slug}/affiliations", data={
            "name": "Electronics Watch", "since": "2020-03-01",
        }, follow_redirects=True)
        text = main_text(response)
        assert "The affiliation has been added." in text
        assert "Electronics Watch since March 2020" in text

        response = client.post(f"/organisations/{organisation.slug}/affiliations", data={
            "name": "Procura+", "since": "2021-01-01", "until": "2020-01-01",
        }, follow_redirects=True)
        assert "The end date must be after the start date." in main_text(response)

        affiliation = reload(organisation).affiliations[0]
        client.post(f"/organisations/{organisation.slug}/affiliations/{affiliation.id}/delete")
        assert reload(organisation).affiliations == []


# --- A visitor asks to join the network -------------------------------------------------------


class TestJoinRequest:
    def test_visitor_asks_and_an_organiser_invites(
        self, new_client, organiser, mailbox
    ):
        visitor = new_client()
        assert visitor.get("/join").status_code == 200
        response = visitor.post("/join", data={
            "name": "Paula Public", "email": "Paula@Utrecht.example.nl",
            "organisation_name": "Gemeente Utrecht", "job_title": "Buyer", "country": "NL",
            "message": "We buy 2,000 laptops a year.",
        })
        assert response.status_code == 200
        text = main_text(response)
        assert "Thank you, your request has been sent" in text
        assert "Paula@Utrecht.example.nl" in text
        response.close()  # as a server does after sending: the mail leaves then
        assert "Paula Public" in body_of(mailbox.last_to("organiser@example.org"))

        desk = new_client()
        Auth(desk).login(organiser)
        dashboard = desk.get("/manage/")
        assert dashboard.status_code == 200
        text = main_text(dashboard)
        assert "Paula Public" in text and "paula@utrecht.example.nl" in text
        assert "We buy 2,000 laptops a year." in text
        assert "No organisation with this name yet; approving creates it." in text
        request = db.session.scalar(select(JoinRequest))
        approve_url = f"/manage/requests/{request.id}/approve"
        assert approve_url in form_actions(dashboard)

        response = desk.post(approve_url, follow_redirects=True)
        assert "Paula Public has been invited" in main_text(response)
        assert "No requests are waiting." in main_text(response)
        assert reload(request).state is RequestState.approved

        invitation_mail = mailbox.last_to("paula@utrecht.example.nl")
        body = body_of(invitation_mail)
        assert "Gemeente Utrecht" in body
        link = next(word for word in body.split() if "/invitation/" in word)
        assert visitor.get(link.removeprefix("http://buyergroup.test")).status_code == 200

    def test_the_invitation_is_in_the_language_the_visitor_used(
        self, new_client, organiser, mailbox
    ):
        visitor = new_client()
        visitor.post("/language", data={"language": "fr"})
        visitor.post("/join", data={
            "name": "Louise Acheteuse", "email": "louise@lyon.example.fr",
            "organisation_name": "Ville de Lyon", "country": "FR",
        }).close()  # the mail leaves when the server closes the response
        request = db.session.scalar(select(JoinRequest))
        assert request.locale == "fr"

        desk = new_client()
        Auth(desk).login(organiser)
        desk.post(f"/manage/requests/{request.id}/approve")
        assert mailbox.last_to("louise@lyon.example.fr")["Content-Language"] == "fr"
        # The organisers were told in their own language (none set: English).
        assert mailbox.last_to("organiser@example.org")["Content-Language"] == "en"

    def test_organiser_declines_with_a_note(self, client, auth, organiser, mailbox):
        request = onboarding.submit_join_request(onboarding.JoinRequestData(
            name="Sam Seller", email="sam@vendor.example.com", organisation_name="Vendor Ltd",
        ))
        db.session.commit()
        auth.login(organiser)
        response = client.post(f"/manage/requests/{request.id}/decline",
                               data={"note": "Buyergroup is for public buyers."},
                               follow_redirects=True)
        assert "The request from Sam Seller has been declined." in main_text(response)
        assert reload(request).state is RequestState.declined
        assert "Buyergroup is for public buyers." in body_of(
            mailbox.last_to("sam@vendor.example.com")
        )
        assert db.session.scalar(select(func.count(Invitation.id))) == 0

    def test_a_member_cannot_see_or_decide_requests(self, client, auth, member, mailbox):
        request = onboarding.submit_join_request(onboarding.JoinRequestData(
            name="Sam Seller", email="sam@vendor.example.com", organisation_name="Vendor Ltd",
        ))
        db.session.commit()
        auth.login(member)
        assert client.get("/manage/").status_code == 403
        assert client.post(f"/manage/requests/{request.id}/approve").status_code == 403
        assert client.post(f"/manage/requests/{request.id}/decline").status_code == 403
        assert reload(request).state is RequestState.pending
        assert mailbox.to("sam@vendor.example.com") == []

    def test_a_bad_email_is_shown_again_with_a_message(self, client):
        response = client.post("/join", data={
            "name": "Paula Public", "email": "paula-at-utrecht",
            "organisation_name": "Gemeente Utrecht",
        })
        assert response.status_code == 200
        assert error_by(response, "email") == "Invalid email address."
        assert input_value(response, "email") == "paula-at-utrecht"
        assert input_value(response, "name") == "Paula Public"
        assert input_value(response, "organisation_name") == "Gemeente Utrecht"
        assert db.session.scalar(select(func.count(JoinRequest.id))) == 0

    def test_an_existing_members_email_is_answered_like_a_new_one(
        self, new_client, organiser, member, mailbox
    ):
        # The page must not tell a stranger who has an account: the same answer as for a
        # new address, and the owner (not the organisers) gets a mail with the way in.
        def ask(email):
            response = new_client().post("/join", data={
                "name": "Mia Again", "email": email, "organisation_name": "Somewhere",
            })
            page = main_text(response).replace(email, "ADDRESS")
            response.close()  # as a server does after sending: the mail leaves then
            return response.status_code, page

        assert ask("Member@Example.org") == ask("stranger@example.org")
        assert db.session.scalar(select(func.count(JoinRequest.id))) == 1  # the stranger's
        owner_mail = body_of(mailbox.last_to("member@example.org"))
        assert "You already have an account" in owner_mail
        assert "http://buyergroup.test/login" in owner_mail
        assert "http://buyergroup.test/password/forgot" in owner_mail
        # The organisers heard about the stranger only.
        assert len(mailbox.to("organiser@example.org")) == 1

    def test_asking_twice_gets_a_clear_message(self, client, organiser, mailbox):
        data = {"name": "Paula Public", "email": "paula@utrecht.example.nl",
                "organisation_name": "Gemeente Utrecht"}
        assert "Thank you" in main_text(client.post("/join", data=data))
        mailbox.clear()
        again = client.post("/join", data=data)
        assert again.status_code == 200
        assert "already have a request from this address" in error_by(again, "email")
        assert db.session.scalar(select(func.count(JoinRequest.id))) == 1
        assert mailbox.messages == []

    def test_signed_in_members_are_sent_to_the_groups(self, client, auth, member):
        auth.login(member)
        response = client.get("/join")
        assert response.status_code == 302
        assert response.headers["Location"] == "/groups"
