"""The rules of discussions, without HTTP: who may write, mentions, answers, moderation."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from buyergroup import signals
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.discussions import service
from buyergroup.errors import Conflict, NotAllowed, ValidationFailed
from buyergroup.extensions import db


@contextmanager
def received(signal):
    calls = []

    def receiver(sender, **payload):
        calls.append((sender, payload))

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


class TestWriting:
    def test_members_ask_and_reply_outsiders_cannot(self, private_group, private_people):
        p = private_people
        thread = service.start_thread(p.member, private_group, title="Screens and audits",
                                      body="Who audits screen factories?",
                                      product_groups=["screens"], themes=["due-diligence"])
        service.reply(p.other, thread, "We rely on Electronics Watch monitoring.")
        db.session.commit()
        assert [post.body for post in thread.posts] == [
            "Who audits screen factories?", "We rely on Electronics Watch monitoring."]
        assert thread.product_groups == ["screens"] and thread.themes == ["due-diligence"]
        with pytest.raises(NotAllowed):
            service.reply(p.outsider, thread, "Let me in")
        with pytest.raises(NotAllowed):
            service.start_thread(p.outsider, private_group, title="x", body="y")

    def test_bad_input_names_its_field(self, private_group, private_people):
        member = private_people.member
        cases = [
            (dict(title="  ", body="text"), "title"),
            (dict(title="t" * 201, body="text"), "title"),
            (dict(title="ok", body=" \n "), "body"),
            (dict(title="ok", body="ok", themes=["astrology"]), "themes"),
            (dict(title="ok", body="ok", language="xx"), "language"),
            (dict(title="ok", body="ok", library_items=[999999]), "library_items"),
        ]
        for fields, name in cases:
            with pytest.raises(ValidationFailed) as error:
                service.start_thread(member, private_group, **fields)
            assert error.value.field == name, fields

    def test_a_link_to_an_item_the_writer_cannot_see_is_refused(
        self, private_group, private_people, make_group
    ):
        from buyergroup.library import service as library
        from buyergroup.library.models import ItemKind, ItemStatus, Visibility

        elsewhere = make_group("Elsewhere", is_public=False)
        hidden = library.create_item(
            None, created_by=private_people.organiser, kind=ItemKind.clause, title="Secret",
            language="en", body="x", status=ItemStatus.published,
            visibility=Visibility.group, group=elsewhere,
        )
        db.session.commit()
        with pytest.raises(ValidationFailed) as error:
            service.start_thread(private_people.member, private_group, title="t", body="b",
                                 library_items=[hidden.id])
        assert "no library item" in str(error.value.message)


class TestMentions:
    def test_only_members_who_may_read_are_mentioned(self, private_group, private_people,
                                                      make_user):
        p = private_people
        stranger = make_user("stranger@example.org", name="Sam Stranger")
        with received(signals.discussion_posted) as calls:
            thread = service.start_thread(
                p.member, private_group, title="Mentions",
                body="@priv-other and @priv-organiser, what do you think? cc @sam-stranger "
                     "and @priv-member (myself) and @nobody-here",
            )
        (sender, payload), = calls
        assert sender is thread
        assert payload["post"] is thread.opening_post and payload["actor"] is p.member
        assert {u.email for u in payload["mentioned"]} == {p.other.email, p.organiser.email}
        assert stranger not in payload["mentioned"]
        html = str(service.render_post(thread.opening_post))
        assert '<span class="mention">@priv-other</span>' in html
        # Someone outside the group stays plain text: nothing says the account exists.
        assert "@sam-stranger" in html and 'mention">@sam-stranger' not in html

    def test_a_mention_inside_a_link_is_left_alone(self, private_group, private_people):
        thread = service.start_thread(private_people.member, private_group, title="Mail",
                                      body="Write to priv-other@example.org or see "
                                           "https://example.org/@priv-other")
        html = str(service.render_post(thread.opening_post))
        assert "mention" not in html
        assert 'href="https://example.org/@priv-other"' in html

    def test_markdown_is_sanitised(self, private_group, private_people):
        thread = service.start_thread(
            private_people.member, private_group, title="XSS",
            body="<script>alert(1)</script> **bold** [x](javascript:alert(1))")
        html = str(service.render_post(thread.opening_post))
        assert "<script" not in html and "javascript:" not in html
        assert "<strong>bold</strong>" in html

    def test_replies_announce_with_their_mentions(self, private_group, private_people,
                                                  make_thread):
        p = private_people
        thread = make_thread(private_group, p.member)
        with received(signals.discussion_posted) as calls:
            post = service.reply(p.other, thread, "Agreed, @priv-member.")
        (_, payload), = calls
        assert payload["post"] is post and payload["mentioned"] == [p.member]


class TestAnswers:
    def test_the_asker_or_an_organiser_accepts_one_answer(self, private_group,
                                                           private_people, make_thread):
        p = private_people
        thread = make_thread(private_group, p.member)
        first = service.reply(p.other, thread, "Ask for an audit report.")
        second = service.reply(p.organiser, thread, "Ask for a supply chain map.")
        with pytest.raises(NotAllowed):
            service.accept_answer(p.other, thread, first)  # not the asker
        with received(signals.discussion_answer_accepted) as calls:
            service.accept_answer(p.member, thread, first)
        assert calls[0][1]["post"] is first and calls[0][1]["actor"] is p.member
        service.accept_answer(p.organiser, thread, second)
        db.session.commit()
        assert thread.accepted_post is second and not first.is_accepted
        with pytest.raises(ValidationFailed):
            service.accept_answer(p.member, thread, thread.opening_post)

    def test_the_database_refuses_two_accepted_answers(self, private_group, private_people,
                                                       make_thread):
        from sqlalchemy.exc import IntegrityError

        p = private_people
        thread = make_thread(private_group, p.member)
        a = service.reply(p.other, thread, "a")
        b = service.reply(p.other, thread, "b")
        a.is_accepted = True
        db.session.flush()
        b.is_accepted = True
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()

    def test_knowledge_gap_addressed_by_an_item(self, private_group, private_people,
                                                make_thread):
        from buyergroup.library import service as library
        from buyergroup.library.models import ItemKind, ItemStatus, Visibility

        p = private_people
        thread = make_thread(private_group, p.member)
        item = library.create_item(None, created_by=p.organiser, kind=ItemKind.report,
                                   title="Guide to audits", language="en", body="x",
                                   status=ItemStatus.published, visibility=Visibility.public)
        service.set_knowledge_gap(p.member, thread, is_gap=True)
        assert thread.is_knowledge_gap and thread.addressed_by is None
        service.set_knowledge_gap(p.organiser, thread, is_gap=True, addressed_by_id=item.id)
        assert thread.addressed_by is item and thread.addressed_at is not None
        with pytest.raises(NotAllowed):
            service.set_knowledge_gap(p.other, thread, is_gap=False)


class TestModeration:
    def test_organisers_hide_with_a_reason_and_lock(self, private_group, private_people,
                                                    make_thread):
        p = private_people
        thread = make_thread(private_group, p.member)
        post = service.reply(p.other, thread, "Buy from my cousin's shop!")
        with pytest.raises(NotAllowed):
            service.hide_post(p.member, post, "spam")
        with pytest.raises(ValidationFailed):
            service.hide_post(p.organiser, post, "  ")
        service.hide_post(p.organiser, post, "Advertising")
        assert post.is_hidden and post.hidden_reason == "Advertising"
        hidden = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == AuditAction.post_hidden)).all()
        assert [(e.actor_id, e.target_id, e.details["reason"]) for e in hidden] == [
            (p.organiser.id, post.id, "Advertising")]
        with pytest.raises(NotAllowed):
            service.lock_thread(p.member, thread)
        service.lock_thread(p.organiser, thread)
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == AuditAction.thread_locked)) == 1
        with pytest.raises(Conflict):
            service.reply(p.member, thread, "One more thing")
        service.lock_thread(p.organiser, thread, locked=False)
        service.reply(p.member, thread, "One more thing")

    def test_members_report_and_organisers_see_reports(self, private_group, private_people,
                                                       make_thread):
        p = private_people
        thread = make_thread(private_group, p.member)
        post = service.reply(p.other, thread, "Rude words")
        with pytest.raises(NotAllowed):
            service.report_post(p.other, post, "my own")  # not one's own post
        with pytest.raises(NotAllowed):
            service.report_post(p.outsider, post, "cannot read it")
        report = service.report_post(p.member, post, "Impolite")
        with pytest.raises(Conflict):
            service.report_post(p.member, post, "again")
        assert service.open_reports(p.organiser, private_group) == [report]
        with pytest.raises(NotAllowed):
            service.open_reports(p.member, private_group)
        service.hide_post(p.organiser, post, "Impolite")
        assert service.open_reports(p.organiser, private_group) == []
