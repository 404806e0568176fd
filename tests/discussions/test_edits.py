"""Authors change their own words: a reply by its author, the question's title and text by
the asker, while the thread is open and the post shown; nobody else's (organisers hide,
they do not rewrite). An edit shows "edited" with the time, tells only members it newly
mentions (once), and the search finds the new words, not the old ones."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buyergroup.community.models import Notification
from buyergroup.discussions import service
from buyergroup.errors import Conflict, NotAllowed, ValidationFailed
from buyergroup.extensions import db
from tests.discussions.test_api import bearer


def _url(group, thread, post=None):
    base = f"/groups/{group.slug}/discussions/{thread.id}"
    return f"{base}/posts/{post.id}/edit" if post is not None else base


def _mentions_of(user) -> int:
    return len(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.event == "mention")).all())


@pytest.fixture
def discussion(private_group, private_people, make_thread):
    p = private_people
    thread = make_thread(private_group, p.member, title="Servers: who audits?",
                         body="Who audits server factories?")
    reply = service.reply(p.other, thread, "We ask Electronics Watch.")
    db.session.commit()
    return thread, reply


class TestService:
    def test_the_author_edits_a_reply_and_it_shows_when(self, discussion, private_people):
        thread, reply = discussion
        service.edit_post(private_people.other, reply, "We ask Electronics Watch, yearly.")
        db.session.commit()
        assert reply.body == "We ask Electronics Watch, yearly." and reply.edited_at
        # Saving the same words again is no edit.
        edited_at = reply.edited_at
        service.edit_post(private_people.other, reply, "We ask Electronics Watch, yearly.")
        assert reply.edited_at == edited_at

    def test_nobody_edits_anothers_words_organisers_included(self, discussion,
                                                             private_people):
        thread, reply = discussion
        p = private_people
        for who in (p.member, p.organiser, p.outsider):
            with pytest.raises(NotAllowed):
                service.edit_post(who, reply, "Rewritten.")
        with pytest.raises(NotAllowed):
            service.edit_thread(p.organiser, thread, title="A better title")
        with pytest.raises(NotAllowed):
            service.edit_thread(p.other, thread, body="Rewritten.")
        assert reply.body == "We ask Electronics Watch." and reply.edited_at is None

    def test_not_once_locked_or_hidden(self, discussion, private_people):
        thread, reply = discussion
        p = private_people
        service.hide_post(p.organiser, reply, "Names a supplier.")
        with pytest.raises(Conflict):
            service.edit_post(p.other, reply, "Sorry, without the name.")
        service.restore_post(p.organiser, reply)
        service.lock_thread(p.organiser, thread)
        with pytest.raises(Conflict):
            service.edit_post(p.other, reply, "One more thing.")
        with pytest.raises(Conflict):
            service.edit_thread(p.member, thread, title="Servers: who audits them?")

    def test_the_asker_changes_title_and_question(self, discussion, private_people):
        thread, _reply = discussion
        service.edit_thread(private_people.member, thread, title="Servers: who audits them?")
        db.session.commit()
        assert thread.title == "Servers: who audits them?"
        assert thread.opening_post.body == "Who audits server factories?"
        assert thread.opening_post.edited_at is not None
        with pytest.raises(ValidationFailed) as error:
            service.edit_thread(private_people.member, thread, title=" ")
        assert error.value.field == "title"
        with pytest.raises(ValidationFailed) as error:
            service.edit_post(private_people.member, thread.opening_post, "")
        assert error.value.field == "body"

    def test_an_edit_tells_only_the_newly_mentioned_and_each_once(
        self, discussion, private_people, make_user
    ):
        thread, _reply = discussion
        p = private_people
        post = service.reply(p.member, thread, "Thanks @priv-other.")
        db.session.commit()
        assert _mentions_of(p.other) == 1
        stranger = make_user("sam@example.org", name="Sam Stranger")  # not in the group
        service.edit_post(p.member, post, "Thanks @priv-other and @priv-organiser, "
                                          "and @sam-stranger.")
        db.session.commit()
        assert (_mentions_of(p.other), _mentions_of(p.organiser)) == (1, 1)
        assert _mentions_of(stranger) == 0
        # Taken out and put back: not told again.
        service.edit_post(p.member, post, "Thanks.")
        service.edit_post(p.member, post, "Thanks @priv-organiser.")
        db.session.commit()
        assert _mentions_of(p.organiser) == 1


class TestPages:
    def test_the_author_edits_on_the_page_and_readers_see_edited(
        self, client, auth, discussion, private_group, private_people
    ):
        thread, reply = discussion
        auth.login(private_people.other)
        page = client.get(_url(private_group, thread)).text
        assert _url(private_group, thread, reply) in page  # the author's Edit link
        form = client.get(_url(private_group, thread, reply))
        assert form.status_code == 200 and "We ask Electronics Watch." in form.text
        response = client.post(_url(private_group, thread, reply),
                               data={"body": "We ask Electronics Watch, yearly."})
        assert response.status_code == 302
        auth.logout()
        auth.login(private_people.member)
        page = client.get(_url(private_group, thread)).text
        assert "We ask Electronics Watch, yearly." in page
        assert 'class="post-edited"' in page
        # Not the member's own reply: no Edit link for it, and the form refuses.
        assert _url(private_group, thread, reply) not in page
        assert client.get(_url(private_group, thread, reply)).status_code == 403
        assert client.post(_url(private_group, thread, reply),
                           data={"body": "Rewritten."}).status_code == 403

    def test_the_asker_edits_the_title_on_the_same_page(
        self, client, auth, discussion, private_group, private_people
    ):
        thread, _reply = discussion
        auth.login(private_people.member)
        url = _url(private_group, thread, thread.opening_post)
        assert 'name="title"' in client.get(url).text
        response = client.post(url, data={"title": "", "body": "Who audits?"})
        assert response.status_code == 200 and 'aria-invalid="true"' in response.text
        client.post(url, data={"title": "Servers: who audits them?", "body": "Who audits?"})
        db.session.expire_all()
        assert thread.title == "Servers: who audits them?"

    def test_an_organiser_gets_no_edit_form(self, client, auth, discussion, private_group,
                                            private_people):
        thread, reply = discussion
        auth.login(private_people.organiser)  # of the group: hides, does not rewrite
        assert client.get(_url(private_group, thread, reply)).status_code == 403
        assert "/edit" not in client.get(_url(private_group, thread)).text


class TestApi:
    def test_the_author_patches_a_reply(self, client, discussion, private_people):
        thread, reply = discussion
        url = f"/api/v1/discussions/{thread.id}/replies/{reply.id}"
        response = client.patch(url, json={"body": "Yearly."},
                                headers=bearer(private_people.other))
        assert response.status_code == 200
        assert response.json["body"] == "Yearly." and response.json["edited_at"]
        for who, status in (("member", 403), ("organiser", 403), ("outsider", 404)):
            refused = client.patch(url, json={"body": "Rewritten."},
                                   headers=bearer(getattr(private_people, who)))
            assert refused.status_code == status, who
        bad = client.patch(url, json={"body": 3, "extra": 1},
                           headers=bearer(private_people.other))
        assert bad.status_code == 400 and set(bad.json["error"]["fields"]) == {"extra"}
        # The question is not a reply: it is changed through the thread.
        question = f"/api/v1/discussions/{thread.id}/replies/{thread.opening_post.id}"
        assert client.patch(question, json={"body": "x"},
                            headers=bearer(private_people.member)).status_code == 404

    def test_the_asker_patches_the_thread_until_it_is_locked(self, client, discussion,
                                                             private_people):
        thread, _reply = discussion
        url = f"/api/v1/discussions/{thread.id}"
        headers = bearer(private_people.member)
        response = client.patch(url, json={"title": "Servers: who audits them?"},
                                headers=headers)
        assert response.status_code == 200
        assert response.json["title"] == "Servers: who audits them?"
        assert response.json["posts"][0]["edited_at"]
        assert client.patch(url, json={}, headers=headers).status_code == 400
        assert client.patch(url, json={"title": "x"},
                            headers=bearer(private_people.other)).status_code == 403
        service.lock_thread(private_people.organiser, thread)
        db.session.commit()
        assert client.patch(url, json={"title": "Once more"},
                            headers=headers).status_code == 409
