"""The community pages: Follow buttons, /follows, /notifications, preferences, the header
badge and the personal home page, with their query counts."""

from __future__ import annotations

import re

import pytest

from buyergroup.community import service
from buyergroup.community.models import Frequency, Kind
from buyergroup.discussions import service as discussions
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.network.service import add_member, join_group
from tests.queries import count_for

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database


def test_follow_button_on_a_group_page_and_back(client, auth, make_group, organiser, member):
    other = make_group("Screens", organiser=organiser)
    auth.login(member)
    page = client.get(f"/groups/{other.slug}").get_data(as_text=True)
    assert ">Follow<" in page
    response = client.post("/follows", data={"target": "group", "key": str(other.id),
                                             "next": f"/groups/{other.slug}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/groups/{other.slug}")
    page = client.get(f"/groups/{other.slug}").get_data(as_text=True)
    assert "Following" in page
    listed = client.get("/follows").get_data(as_text=True)
    assert "Screens" in listed
    client.post("/follows", data={"target": "group", "key": str(other.id), "action": "unfollow",
                                  "next": "/follows"})
    assert service.following(member, "group", str(other.id)) is None


def test_follows_page_follows_a_theme_and_stops(client, auth, member):
    auth.login(member)
    client.post("/follows", data={"target": "theme", "key": "due-diligence", "next": "/follows"})
    row = service.following(member, "theme", "due-diligence")
    assert row is not None
    page = client.get("/follows").get_data(as_text=True)
    assert "Due diligence" in page
    client.post(f"/follows/{row.id}/delete")
    assert service.following(member, "theme", "due-diligence") is None


def test_following_what_one_may_not_see_is_404_and_bad_input_no_5xx(
    client, auth, member, make_item
):
    draft = make_item()
    auth.login(member)
    for data in ({"target": "item", "key": str(draft.id)}, {"target": "x", "key": "1"},
                 {"target": "group", "key": "99999999999999999999"}):
        assert client.post("/follows", data=data).status_code == 404
    assert client.post("/follows", data={"target": "", "key": ""}).status_code == 302
    assert client.post("/follows/123456/delete").status_code == 404


def test_badge_notifications_page_open_and_mark_all(
    client, auth, group, member, make_item, publish
):
    item = publish(make_item(group=group, title="New server clause"))
    publish(make_item(group=group, title="Second clause"))
    auth.login(member)
    home = client.get("/about").get_data(as_text=True)
    assert re.search(r'data-unread-count>2<', home)
    page = client.get("/notifications").get_data(as_text=True)
    assert "New in the library: New server clause" in page
    row = [n for n in db.session.scalars(service.notifications_query(member))
           if n.title == "New server clause"][0]
    opened = client.get(f"/notifications/{row.id}")
    assert opened.headers["Location"].endswith(f"/library/{item.id}")
    assert re.search(r'data-unread-count>1<', client.get("/about").get_data(as_text=True))
    client.post("/notifications/read")
    assert "data-unread-count" not in client.get("/about").get_data(as_text=True)


def test_someone_elses_notification_is_not_found(
    client, auth, group, member, make_user, make_item, publish
):
    publish(make_item(group=group))
    row = db.session.scalars(service.notifications_query(member)).first()
    auth.login(make_user(name="Nosy"))
    assert client.get(f"/notifications/{row.id}").status_code == 404
    assert client.post(f"/notifications/{row.id}/read").status_code == 404


def test_preferences_page_saves_choices(client, auth, member):
    auth.login(member)
    page = client.get("/profile/notifications").get_data(as_text=True)
    assert "New items in what I follow" in page
    assert "Items waiting for my review" not in page
    data = {kind.value: "never" for kind in service.visible_kinds(member)}
    data["new_item"] = "weekly"
    response = client.post("/profile/notifications", data=data)
    assert response.status_code == 302
    assert service.preferences_of(member)[Kind.new_item] is Frequency.weekly
    assert service.preferences_of(member)[Kind.comment] is Frequency.never
    bad = client.post("/profile/notifications", data={**data, "new_item": "hourly"})
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)
    assert "Email settings" in client.get("/profile").get_data(as_text=True)


def test_visitors_keep_todays_home_and_members_get_their_own(
    client, auth, member, make_item, organiser
):
    assert "Ethical and sustainable ICT procurement, together" in client.get("/").get_data(
        as_text=True)
    draft = make_item(member, title="My unfinished clause")
    library.submit(member, draft)
    library.return_to_author(organiser, draft, "Please add how to verify it.")
    db.session.commit()
    auth.login(member)
    page = client.get("/").get_data(as_text=True)
    assert "My next events" in page and "My drafts and returned items" in page
    assert "My unfinished clause" in page and "Returned to the author" in page
    assert "For organisers" not in page


def test_organisers_home_shows_review_queue_and_requests(
    client, auth, make_group, organiser, member, make_item
):
    item = make_item(member, title="Waiting clause")
    library.submit(member, item)
    closed = make_group("Approval group", organiser=organiser, join_policy="approval")
    join_group(closed, member, "Hello")
    db.session.commit()
    auth.login(organiser)
    page = client.get("/").get_data(as_text=True)
    assert "1 item waits for review" in page and "Waiting clause" in page
    assert "Approval group" in page and "1 request" in page


def _many_notifications(group, make_item, publish, n):
    for i in range(n):
        publish(make_item(group=group, title=f"Clause {i}"))


@pytest.mark.parametrize("path", ["/", "/about"])
def test_queries_do_not_grow_with_follows_and_notifications(
    client, auth, group, member, organiser, make_item, publish, path
):
    auth.login(member)
    _many_notifications(group, make_item, publish, 1)
    few = count_for(client, path)
    _many_notifications(group, make_item, publish, 12)
    for code in ("laptops", "servers", "screens"):
        service.follow(member, "product_group", code)
    db.session.commit()
    assert count_for(client, path) == few


def test_header_and_personal_home_add_at_most_three_queries(
    client, auth, group, member, organiser, make_item, publish
):
    """The personal home's own queries (beyond what any signed-in page costs, the header's
    count included) are at most the visitor home's own, plus three."""
    visitor_home = count_for(client, "/") - count_for(client, "/about")
    _many_notifications(group, make_item, publish, 5)
    for user in (member, organiser):
        auth.login(user)
        own = count_for(client, "/") - count_for(client, "/about")
        assert own <= visitor_home + 3, (user.email, own, visitor_home)
        client.post("/logout")


def test_the_header_count_is_one_query(client, auth, group, member, make_item, publish):
    from tests.queries import statements

    _many_notifications(group, make_item, publish, 3)
    auth.login(member)
    client.get("/about")
    with statements() as sent:
        client.get("/about")
    assert len([s for s in sent if "community_notifications" in s]) == 1


def test_the_header_badge_comes_with_the_account_and_counts_what_its_reader_may_see(
    client, auth, make_user, make_group, member, organiser
):
    # The badge is a column of the session loader's statement, one count per site role: a
    # member who organises one group is told of a request to join it (the count's SQL reads
    # the memberships table twice, and must not confuse the two), a site member is not.
    from buyergroup.network.models import GroupRole
    from tests.queries import statements

    lead = make_user("lead@example.org", name="Lena Lead")
    closed = make_group("Approval group", organiser=organiser, join_policy="approval")
    add_member(closed, lead, GroupRole.organiser)
    join_group(closed, member, "Please")
    db.session.commit()
    assert service.unread_count(lead) == 1
    auth.login(lead)
    client.get("/about")
    with statements() as sent:
        page = client.get("/about").get_data(as_text=True)
    assert re.search(r"data-unread-count>1<", page)
    assert [s for s in sent if s.lstrip().startswith("SELECT count(")] == []
    client.post("/logout")
    auth.login(member)
    assert "data-unread-count" not in client.get("/about").get_data(as_text=True)


def test_join_by_invitation_link_is_noticed_by_group_organiser(make_group, organiser,
                                                               member):
    # A group member added by the service (no request) tells no organiser.
    group = make_group("Quiet group", organiser=organiser)
    add_member(group, member)
    db.session.commit()
    assert service.unread_count(organiser) == 0


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=-3", "page=abc",
                                   "show=unread&page=2", "show=%00"])
def test_odd_parameters_never_give_a_5xx(client, auth, member, query):
    """A page shows a page, or says which parameter it cannot read (a number beyond any
    page is a 400, as on every list); the API refuses what its document does not allow
    (per_page above 100) with a JSON error naming the parameter."""
    auth.login(member)
    page = client.get(f"/notifications?{query}")
    assert page.status_code in (200, 400), query
    answer = client.get(f"/api/v1/notifications?{query}&per_page=999")
    assert answer.status_code == 400, query
    assert answer.get_json()["error"]["parameter"] in ("page", "per_page", "show")
    assert client.get(f"/api/v1/notifications?{query}").status_code in (200, 400)


@pytest.mark.parametrize("path", ["/notifications/99999999999999999999",
                                  "/notifications/abc", "/unsubscribe/%00",
                                  "/follows/99999999999999999999/delete"])
def test_odd_paths_never_give_a_5xx(client, auth, member, path):
    auth.login(member)
    status = (client.post(path) if path.endswith("delete") else client.get(path)).status_code
    assert status in (400, 404, 405)


def test_the_personal_home_lists_open_questions_of_my_groups_only(
    client, auth, group, member, organiser, make_group
):
    elsewhere = make_group("Another group", organiser=organiser, is_public=False)
    open_question = discussions.start_thread(organiser, group, title="Who buys refurbished?",
                                             body="Tell us.")
    answered = discussions.start_thread(organiser, group, title="Which label for screens?",
                                        body="TCO or EPEAT?")
    answer = discussions.reply(member, answered, "TCO Certified, generation 10.")
    discussions.accept_answer(organiser, answered, answer)
    discussions.start_thread(organiser, elsewhere, title="A question elsewhere", body="?")
    db.session.commit()
    auth.login(member)
    page = client.get("/").get_data(as_text=True)
    assert "Open questions in my groups" in page
    assert open_question.title in page
    assert answered.title not in page and "A question elsewhere" not in page


def test_a_member_who_organises_a_group_sees_its_requests_and_one_who_does_not_sees_none(
        client, auth, make_group, make_user, member):
    from buyergroup.network.models import GroupRole

    chair = make_user("chair@example.org", name="Chloé Chair")
    group = make_group("Approval buyers", join_policy="approval")
    add_member(group, chair, GroupRole.organiser)
    add_member(group, member)
    for n in range(2):
        join_group(group, make_user(f"applicant{n}@example.org"))
    db.session.commit()
    auth.login(chair)
    page = client.get("/").get_data(as_text=True)
    assert "Requests to join your working groups" in page
    assert re.search(r"Approval buyers</a> <span class=\"meta\">2 requests", page)
    client.post("/logout")
    auth.login(member)
    assert "Requests to join your working groups" not in client.get("/").get_data(as_text=True)
