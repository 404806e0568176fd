"""Each audited decision, made through its own domain's service, leaves exactly one entry."""

from __future__ import annotations

from sqlalchemy import select

from buyergroup.accounts import service as accounts
from buyergroup.accounts.models import Role, TokenScope
from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import ItemStatus, Visibility
from buyergroup.network import service as network
from buyergroup.network.models import GroupRole
from tests.events.conftest import event_data


def entries(action: AuditAction) -> list[AuditEntry]:
    db.session.flush()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_role_and_activation_changes_are_recorded_once(app, admin, member):
    accounts.change_role(admin, member, Role.organiser)
    accounts.change_role(admin, member, Role.organiser)  # no change: nothing to record
    accounts.set_active(admin, member, False)
    (role_change,) = entries(AuditAction.role_changed)
    assert (role_change.actor_id, role_change.target_id) == (admin.id, member.id)
    assert role_change.details == {"from": "member", "to": "organiser"}
    assert len(entries(AuditAction.account_deactivated)) == 1


def test_invitations_and_tokens_are_recorded(app, organiser, make_organisation):
    invitation = accounts.invite(
        inviter=organiser, email="new@example.org", organisation=make_organisation()
    )
    accounts.revoke_invitation(organiser, invitation)
    token, _secret = accounts.create_api_token(organiser, "Script", scope=TokenScope.read)
    accounts.revoke_api_token(organiser, token)
    (sent,) = entries(AuditAction.invitation_sent)
    assert sent.target_label == "new@example.org"
    assert len(entries(AuditAction.invitation_revoked)) == 1
    (created,) = entries(AuditAction.token_created)
    assert created.details == {"scope": "read"}
    assert len(entries(AuditAction.token_revoked)) == 1


def test_review_decisions_and_hidden_comments_are_recorded(app, organiser, member):
    item = library.create_item(
        None, created_by=member, authors=[member], status=ItemStatus.submitted,
        visibility=Visibility.public, kind="clause", title="Due diligence", language="en",
        body="The contractor carries out due diligence.",
    )
    assert entries(AuditAction.item_published) == []  # the seed loader's items: no decision
    library.publish(organiser, item)
    comment = library.add_comment(member, item, "Which audits count?")
    library.hide_comment(organiser, comment, "Off topic")
    (published,) = entries(AuditAction.item_published)
    assert (published.actor_id, published.target_id) == (organiser.id, item.id)
    (hidden,) = entries(AuditAction.comment_hidden)
    assert hidden.details == {"reason": "Off topic"}


def test_a_group_role_change_is_recorded(app, make_group, organiser, member):
    group = make_group("Fair servers", organiser=organiser)
    membership = network.add_member(group, member)
    network.set_member_role(organiser, membership, GroupRole.organiser)
    (change,) = entries(AuditAction.group_role_changed)
    assert change.details == {"group": group.slug, "from": "member", "to": "organiser"}


def test_downloading_the_participant_list_is_recorded(app, auth, client, make_group, organiser,
                                                     make_user):
    from buyergroup.events import service as events

    group = make_group("Fair laptops", organiser=organiser)
    event = events.create_event(organiser, group, event_data())
    tricky = make_user("=2+3@example.org", name="Formula")
    network.add_member(group, tricky)
    events.register(tricky, event)
    db.session.commit()
    auth.login(organiser)
    response = client.get(f"/events/{event.id}/participants.csv")
    assert response.status_code == 200
    # An address that a spreadsheet would read as a formula is kept as text.
    assert "'=2+3@example.org" in response.get_data(as_text=True)
    db.session.expire_all()
    (download,) = entries(AuditAction.participants_downloaded)
    assert (download.actor_id, download.target_id, download.details) == (
        organiser.id, event.id, {"rows": 1})
