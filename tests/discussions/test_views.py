"""Discussion pages through the client: who sees what, asking, replying, moderating."""

from __future__ import annotations

import pytest

from buyergroup.discussions.models import Post, Thread
from buyergroup.extensions import db

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database


def _url(group, thread=None, suffix=""):
    base = f"/groups/{group.slug}/discussions"
    return f"{base}/{thread.id}{suffix}" if thread is not None else base + suffix


class TestVisibility:
    @pytest.mark.parametrize("who, status", [
        ("visitor", 404), ("outsider", 404), ("member", 200), ("organiser", 200),
    ])
    def test_a_private_groups_discussions_are_for_its_members(
        self, client, auth, private_group, private_people, make_thread, who, status
    ):
        thread = make_thread(private_group, private_people.member, title="Confidential pilot")
        if who != "visitor":
            auth.login(getattr(private_people, who))
        for url in (_url(private_group), _url(private_group, thread)):
            response = client.get(url)
            assert response.status_code == status, url
            assert ("Confidential pilot" in response.text) is (status == 200)

    @pytest.mark.parametrize("who", ["visitor", "outsider", "member", "organiser"])
    def test_a_public_groups_discussions_are_read_by_everyone(
        self, client, auth, public_group, public_people, make_thread, who
    ):
        thread = make_thread(public_group, public_people.member, title="Laptop batteries")
        if who != "visitor":
            auth.login(getattr(public_people, who))
        listing = client.get(_url(public_group))
        page = client.get(_url(public_group, thread))
        assert listing.status_code == page.status_code == 200
        assert "Laptop batteries" in listing.text and "Laptop batteries" in page.text
        # Only members may write: the others are told how to take part.
        writes = who in ("member", "organiser")
        assert ('name="body"' in page.text) is writes
        assert ("Ask a question" in listing.text) is writes

    def test_outsiders_cannot_post_even_by_hand(self, client, auth, public_group,
                                                public_people, make_thread):
        thread = make_thread(public_group, public_people.member)
        auth.login(public_people.outsider)
        response = client.post(_url(public_group, thread, "/reply"), data={"body": "Hi"})
        assert response.status_code == 403
        assert client.post(_url(public_group, suffix="/new"),
                           data={"title": "t", "body": "b", "language": "en"}).status_code == 403
        assert db.session.query(Post).count() == 1

    def test_a_thread_under_another_group_is_not_found(self, client, auth, public_group,
                                                       private_group, private_people,
                                                       make_thread):
        thread = make_thread(private_group, private_people.member)
        assert client.get(_url(public_group, thread)).status_code == 404

    def test_linked_items_are_shown_only_to_who_may_see_them(
        self, client, auth, public_group, public_people, make_thread, make_group
    ):
        from buyergroup.library import service as library
        from buyergroup.library.models import ItemKind, ItemStatus, Visibility

        members_only = library.create_item(
            None, created_by=public_people.member, kind=ItemKind.report,
            title="Members-only audit guide", language="en", body="x",
            status=ItemStatus.published, visibility=Visibility.members)
        db.session.commit()
        thread = make_thread(public_group, public_people.member,
                             library_items=[members_only.id])
        assert "Members-only audit guide" not in client.get(_url(public_group, thread)).text
        auth.login(public_people.outsider)
        assert "Members-only audit guide" in client.get(_url(public_group, thread)).text
        # And the item's page says where it is discussed, to those who may read it.
        item_page = client.get(f"/library/{members_only.id}")
        assert "Discussed at" in item_page.text and thread.title in item_page.text


class TestWriting:
    def test_a_member_asks_and_another_replies(self, client, auth, private_group,
                                               private_people):
        auth.login(private_people.member)
        response = client.post(_url(private_group, suffix="/new"), data={
            "title": "Which label covers smartphones?", "body": "Asking for **our** tender.",
            "language": "en", "product_groups": ["smartphones"], "themes": ["transparency"],
        })
        assert response.status_code == 302
        thread = db.session.query(Thread).one()
        assert thread.product_groups == ["smartphones"]
        auth.logout()
        auth.login(private_people.other)
        response = client.post(_url(private_group, thread, "/reply"),
                               data={"body": "TCO Certified, @priv-member."},
                               follow_redirects=True)
        assert "TCO Certified" in response.text
        assert '<span class="mention">@priv-member</span>' in response.text

    def test_an_empty_reply_keeps_the_page_and_says_why(self, client, auth, private_group,
                                                        private_people, make_thread):
        thread = make_thread(private_group, private_people.member)
        auth.login(private_people.other)
        response = client.post(_url(private_group, thread, "/reply"), data={"body": "   "})
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.text

    def test_a_long_title_keeps_what_was_typed(self, client, auth, private_group,
                                               private_people):
        auth.login(private_people.member)
        response = client.post(_url(private_group, suffix="/new"), data={
            "title": "x" * 250, "body": "My carefully written question", "language": "en"})
        assert response.status_code == 200
        assert "My carefully written question" in response.text

    @pytest.mark.parametrize("url", [
        "/groups/nope/discussions", "/groups/nope/discussions/1",
        "/groups/{slug}/discussions/99999", "/groups/{slug}/discussions?page=-4&state=%00",
        "/groups/{slug}/discussions?product_group=" + "x" * 500,
    ])
    def test_no_parameter_gives_a_server_error(self, client, public_group, url):
        response = client.get(url.format(slug=public_group.slug))
        assert response.status_code in (200, 404)


class TestAnswersAndModeration:
    def test_the_asker_accepts_an_answer(self, client, auth, private_group, private_people,
                                         make_thread):
        from buyergroup.discussions import service

        thread = make_thread(private_group, private_people.member)
        post = service.reply(private_people.other, thread, "Ask for the audit.")
        db.session.commit()
        auth.login(private_people.other)  # the one who answered cannot accept it
        assert client.post(_url(private_group, thread, f"/posts/{post.id}/accept")
                           ).status_code == 403
        db.session.refresh(post)
        assert not post.is_accepted
        auth.logout()
        auth.login(private_people.member)
        page = client.post(_url(private_group, thread, f"/posts/{post.id}/accept"),
                           follow_redirects=True)
        assert "Accepted answer" in page.text
        db.session.refresh(post)
        assert post.is_accepted

    def test_organisers_hide_lock_and_read_reports(self, client, auth, private_group,
                                                   private_people, make_thread):
        from buyergroup.discussions import service

        p = private_people
        thread = make_thread(private_group, p.member)
        post = service.reply(p.other, thread, "Totally off topic advert")
        db.session.commit()
        auth.login(p.member)
        client.post(_url(private_group, thread, f"/posts/{post.id}/report"),
                    data={"reason": "An advert"})
        assert client.get(_url(private_group, suffix="/reports")).status_code == 403
        auth.logout()
        auth.login(p.organiser)
        reports = client.get(_url(private_group, suffix="/reports"))
        assert "An advert" in reports.text
        client.post(_url(private_group, thread, f"/posts/{post.id}/hide"),
                    data={"reason": "Advertising"})
        client.post(_url(private_group, thread, "/lock"))
        page = client.get(_url(private_group, thread))
        assert "Advertising" in page.text  # the organiser sees the reason and the text
        auth.logout()
        auth.login(p.member)
        page = client.get(_url(private_group, thread))
        assert "Totally off topic advert" not in page.text
        assert "hidden by an organiser" in page.text
        assert "locked" in page.text and 'name="body"' not in page.text

    def test_the_group_page_has_the_tab_and_recent_activity(
        self, client, auth, public_group, public_people, make_thread
    ):
        make_thread(public_group, public_people.member, title="Who repairs screens?")
        page = client.get(f"/groups/{public_group.slug}")
        assert "Recent activity" in page.text and "Who repairs screens?" in page.text
        assert f'href="/groups/{public_group.slug}/discussions"' in page.text

    def test_a_private_groups_activity_hides_its_threads(
        self, client, auth, private_group, private_people, make_thread
    ):
        make_thread(private_group, private_people.member, title="Our secret tender")
        auth.login(private_people.outsider)
        page = client.get(f"/groups/{private_group.slug}")
        assert page.status_code == 200 and "Our secret tender" not in page.text
        assert f"/groups/{private_group.slug}/discussions" not in page.text


class TestQueries:
    def test_pages_do_not_grow_with_the_number_of_posts(self, client, auth, public_group,
                                                       public_people, make_thread, make_user):
        from buyergroup.discussions import service
        from tests.queries import count_for

        thread = make_thread(public_group, public_people.member)
        service.reply(public_people.other, thread, "One")
        db.session.commit()
        auth.login(public_people.member)
        page = f"/groups/{public_group.slug}/discussions/{thread.id}"
        listing = f"/groups/{public_group.slug}/discussions"
        few = count_for(client, page), count_for(client, listing)
        for n in range(8):
            writer = make_user(f"writer{n}@example.org", name=f"Writer {n}")
            from buyergroup.network.service import add_member

            add_member(public_group, writer)
            db.session.commit()
            service.reply(writer, thread, f"Reply {n}")
            make_thread(public_group, writer, title=f"Question {n}")
        db.session.commit()
        many = count_for(client, page), count_for(client, listing)
        assert many == few, (few, many)
