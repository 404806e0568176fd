"""Library rules without HTTP: the review cycle, who may do what, versions, translations,
comments. Email goes through the outbox to the test SMTP server, as in production."""

from __future__ import annotations

import pytest

from buyergroup.errors import NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library import permissions, service
from buyergroup.library.models import ItemStatus, LibraryItem, TranslationKind, Visibility
from buyergroup.mail.service import deliver_due
from tests.conftest import body_of


def deliver() -> None:
    db.session.commit()
    deliver_due()


def draft_by(user, **fields) -> LibraryItem:
    fields.setdefault("kind", "case_study")
    fields.setdefault("title", "Leuven buys fair mice")
    fields.setdefault("language", "en")
    fields.setdefault("approach", "We asked for a fair mouse in the tender.")
    item = service.create_item(user, **fields)
    db.session.commit()
    return item


class TestReviewCycle:
    def test_a_member_creates_a_draft_that_only_authors_and_organisers_see(
        self, member, make_user, organiser
    ):
        item = draft_by(member)
        other = make_user("other@example.org")
        assert item.status is ItemStatus.draft
        assert item.created_by == member
        assert [a.name for a in item.authors] == ["Mia Member"]
        assert permissions.can_see(member, item)
        assert permissions.can_see(organiser, item)
        assert not permissions.can_see(other, item)
        assert not permissions.can_see(None, item)
        with pytest.raises(NotFound):
            service.get_item(item.id, other)

    def test_submit_then_publish_tells_the_author_in_their_language(
        self, member, organiser, mailbox
    ):
        member.locale = "fr"
        item = draft_by(member, visibility="public")
        service.submit(member, item)
        db.session.commit()
        assert item.status is ItemStatus.submitted and item.submitted_at is not None
        assert item in db.session.scalars(service.review_queue()).all()

        service.publish(organiser, item)
        deliver()
        assert item.status is ItemStatus.published
        assert item.published_at is not None and item.reviewed_by == organiser
        assert item not in db.session.scalars(service.review_queue()).all()
        message = mailbox.last_to("member@example.org")
        assert message["Content-Language"] == "fr"
        assert "Leuven buys fair mice" in message["Subject"]
        assert f"http://buyergroup.test/library/{item.id}" in body_of(message)
        assert permissions.can_see(None, item)  # public and published: visitors too

    def test_return_with_a_reason_emails_the_author_who_can_edit_and_resubmit(
        self, member, organiser, mailbox
    ):
        item = draft_by(member)
        service.submit(member, item)
        service.return_to_author(organiser, item, "Please add the results of the pilot.")
        deliver()
        assert item.status is ItemStatus.returned
        assert item.review_note == "Please add the results of the pilot."
        body = body_of(mailbox.last_to("member@example.org"))
        assert "Please add the results of the pilot." in body
        assert f"/library/{item.id}/edit" in body
        assert permissions.can_edit(member, item)
        service.submit(member, item)
        assert item.status is ItemStatus.submitted

    def test_a_return_needs_a_reason(self, member, organiser, mailbox):
        item = draft_by(member)
        service.submit(member, item)
        with pytest.raises(ValidationFailed) as refused:
            service.return_to_author(organiser, item, "   ")
        assert refused.value.field == "reason"
        db.session.rollback()
        deliver()
        assert mailbox.messages == []

    def test_publishing_your_own_item_sends_no_mail(self, organiser, mailbox):
        item = draft_by(organiser)
        service.publish(organiser, item)
        deliver()
        assert mailbox.messages == []


class TestPermissions:
    def test_a_member_cannot_publish_or_return(self, member, make_user):
        item = draft_by(member)
        with pytest.raises(NotAllowed):
            service.publish(member, item)
        with pytest.raises(NotAllowed):
            service.return_to_author(member, item, "no")
        with pytest.raises(NotAllowed):
            service.create_item(member, kind="report", title="x", language="en",
                                status="published")
        assert item.status is ItemStatus.draft

    def test_a_member_cannot_edit_someone_elses_item(self, member, make_user):
        item = draft_by(member)
        other = make_user("other@example.org")
        assert not permissions.can_edit(other, item)
        with pytest.raises(NotAllowed):
            service.update_item(other, item, title="Taken over")
        with pytest.raises(NotFound):  # not even visible to them
            service.get_item(item.id, other, edit=True)
        db.session.rollback()
        assert db.session.get(LibraryItem, item.id).title == "Leuven buys fair mice"

    def test_authors_edit_drafts_but_not_published_items_organisers_edit_any(
        self, member, organiser
    ):
        item = draft_by(member)
        service.update_item(member, item, title="Leuven buys fair mice and keyboards")
        service.publish(organiser, item)
        db.session.commit()
        assert not permissions.can_edit(member, item)
        with pytest.raises(NotAllowed):
            service.update_item(member, item, title="Changed after publication")
        service.update_item(organiser, item, title="Fair mice in Leuven")
        assert item.title == "Fair mice in Leuven"

    def test_a_co_author_with_an_account_may_edit(self, member, make_user):
        colleague = make_user("colleague@example.org", name="Cora Colleague")
        item = draft_by(member, authors=[member, colleague])
        assert permissions.can_edit(colleague, item)
        assert item in db.session.scalars(service.items_of(colleague)).all()

    def test_only_members_of_a_group_may_share_with_it(
        self, member, group_with_member
    ):
        group, insider = group_with_member
        with pytest.raises(ValidationFailed) as refused:
            draft_by(member, visibility="group", group=group)
        assert refused.value.field == "group"
        db.session.rollback()
        item = draft_by(insider, visibility="group", group=group)
        assert item.group == group and item.visibility is Visibility.group

    def test_group_visibility_needs_a_group(self, member):
        with pytest.raises(ValidationFailed) as refused:
            draft_by(member, visibility="group")
        assert refused.value.field == "group"

    def test_visibility_of_published_items(self, make_item, make_user, group_with_member):
        group, insider = group_with_member
        outsider = make_user("outsider@example.org")
        public = make_item(visibility="public", title="Public")
        members = make_item(visibility="members", title="Members")
        grouped = make_item(author=insider, visibility="group", group=group, title="Group")
        assert [permissions.can_see(None, i) for i in (public, members, grouped)] == [
            True, False, False]
        assert [permissions.can_see(outsider, i) for i in (public, members, grouped)] == [
            True, True, False]
        assert [permissions.can_see(insider, i) for i in (public, members, grouped)] == [
            True, True, True]
        assert permissions.audiences_for(None) == ["public"]
        assert permissions.audiences_for(insider) == [
            "public", "members", f"group:{group.id}", f"user:{insider.id}"]


class TestVersions:
    def test_each_save_writes_a_version_with_the_changed_fields(self, member, organiser):
        item = draft_by(member, themes=["labour-conditions"])
        service.update_item(member, item, title="Fair mice in Leuven",
                            themes=["labour-conditions", "circularity"], note="Better title")
        service.update_item(member, item, title="Fair mice in Leuven")  # no change: no version
        service.submit(member, item)
        service.publish(organiser, item)
        db.session.commit()
        versions = sorted(item.versions, key=lambda v: v.number)
        assert [v.number for v in versions] == [1, 2, 3, 4]
        assert versions[1].changed_fields.split() == ["title", "themes"]
        assert versions[1].note == "Better title" and versions[1].editor == member
        assert service.version_data(versions[0])["title"] == "Leuven buys fair mice"
        assert service.version_data(versions[1])["themes"] == ["circularity",
                                                                "labour-conditions"]
        assert versions[2].changed_fields == "status"
        assert versions[3].editor == organiser
        assert service.version_data(versions[3])["status"] == "published"

    def test_fields_of_another_kind_are_cleared(self, member):
        item = draft_by(member, kind="clause", phase="award_criterion",
                        rationale="Why it matters", verification=["label"])
        service.update_item(member, item, kind="case_study")
        assert item.phase is None and item.rationale == "" and item.verification == []
        assert "phase" in item.versions[0].changed_fields.split()


class TestTranslations:
    def test_a_member_translation_joins_the_original(self, member, make_item, make_user):
        original = make_item(title="Respect for ILO core conventions", language="en")
        translator = make_user("vertaler@example.org", name="Vera Vertaler")
        dutch = service.add_translation(translator, original, kind="clause",
                                        title="Respect voor de IAO-conventies", language="nl")
        db.session.commit()
        assert dutch.translation_key == original.translation_key
        assert dutch.translation_kind is TranslationKind.member
        assert dutch.status is ItemStatus.draft
        assert service.translations_of(original, translator) == [dutch]
        assert service.translations_of(original, None) == []  # a draft: not for visitors

    def test_only_organisers_mark_a_translation_official(
        self, member, organiser, make_item, make_user
    ):
        original = make_item()
        translator = make_user("vertaler@example.org")
        with pytest.raises(NotAllowed):
            service.add_translation(translator, original, title="x", language="fr",
                                    translation_kind="official")
        db.session.rollback()
        french = service.add_translation(translator, original, title="Conventions de l'OIT",
                                         language="fr")
        with pytest.raises(NotAllowed):
            service.set_translation_kind(translator, french, "official")
        service.set_translation_kind(organiser, french, "official")
        assert french.translation_kind is TranslationKind.official

    def test_one_version_per_language(self, make_item, make_user):
        original = make_item(language="en")
        translator = make_user("vertaler@example.org")
        with pytest.raises(ValidationFailed) as refused:
            service.add_translation(translator, original, title="Again", language="en")
        assert refused.value.field == "language"

    def test_organisers_link_existing_items_as_translations(self, organiser, make_item):
        english = make_item(title="Living wage clause", language="en")
        french = make_item(title="Clause salaire vital", language="fr")
        assert french.translation_key != english.translation_key
        service.link_translation(organiser, french, english, "official")
        db.session.commit()
        assert service.translations_of(english, None) == [french]
        assert french.translation_kind is TranslationKind.official


class TestComments:
    def test_members_comment_on_what_they_can_see(self, member, make_item, make_user):
        item = make_item(visibility="members")
        reader = make_user("reader@example.org")
        comment = service.add_comment(reader, item, "  We used this in 2023.  ")
        assert comment.body == "We used this in 2023."
        with pytest.raises(NotAllowed):
            service.add_comment(None, item, "Anonymous")
        with pytest.raises(ValidationFailed):
            service.add_comment(reader, item, "   ")

    def test_organisers_hide_comments_with_a_reason(self, member, organiser, make_item):
        item = make_item()
        comment = service.add_comment(member, item, "Buy from my cousin's shop!")
        with pytest.raises(NotAllowed):
            service.hide_comment(member, comment, "Spam")
        with pytest.raises(ValidationFailed):
            service.hide_comment(organiser, comment, "")
        service.hide_comment(organiser, comment, "Advertising")
        assert comment.is_hidden and comment.hidden_reason == "Advertising"
        service.restore_comment(organiser, comment)
        assert not comment.is_hidden


class TestRelations:
    def test_related_items_link_both_ways_and_respect_visibility(self, make_item):
        clause = make_item(title="Clause")
        guide = make_item(title="Guide", kind="report")
        hidden = make_item(title="Members only", visibility="members")
        service.relate(None, clause, guide)
        service.relate(None, clause, hidden)
        service.relate(None, clause, guide)  # again: no duplicate
        db.session.commit()
        assert service.related_items(guide, None) == [clause]
        assert service.related_items(clause, None) == [guide]
        assert {i.title for i in service.related_items(clause, clause.created_by)} == {
            "Guide", "Members only"}
