"""The demo seed leaves the demo member something to find: notifications made through the
services (an item published in a group they follow, a change to an event they registered
for, replies to their question), unread, on their home page and in the header's badge; and
it emails nobody (nothing in the outbox, nothing left for a digest)."""

from __future__ import annotations

from sqlalchemy import func, select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.community import home, service
from buyergroup.community.models import Kind, Notification
from buyergroup.extensions import db
from buyergroup.mail.models import OutboxMessage
from tests.conftest import SEED_PASSWORD


def test_the_demo_member_finds_notifications_and_no_mail_went_out(seeded_app):
    member = get_user_by_email("member@example.org")
    rows = db.session.scalars(service.notifications_query(member, unread_only=True)).all()
    told = {(n.kind, n.event) for n in rows}
    assert {(Kind.new_item, "published"), (Kind.event, "updated"),
            (Kind.discussion, "reply")} <= told
    with seeded_app.test_request_context("/notifications"):
        messages = [e.message for e in service.entries(list(rows), member)]
    assert ("New in the library: Sjabloon: jaarlijks opvolgingsgesprek over gepaste "
            "zorgvuldigheid met de opdrachtnemer") in messages
    assert "Changed: Werksessie: refurbished laptops in raamovereenkomsten" in messages
    assert service.unread_count(member) == len(rows)
    # The home page's "new in what you follow" has the published item.
    with seeded_app.test_request_context("/"):
        assert [e.notification.kind for e in home.personal_home(member).new_items] == [
            Kind.new_item]
    # Nothing was emailed, and nothing waits for a digest.
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(Notification.id))
                             .where(Notification.emailed_at.is_(None))) == 0


def test_the_header_badge_shows_the_unread_count(seeded_app):
    client = seeded_app.test_client()
    client.post("/login", data={"email": "member@example.org", "password": SEED_PASSWORD})
    page = client.get("/").get_data(as_text=True)
    unread = service.unread_count(get_user_by_email("member@example.org"))
    assert unread >= 3
    assert f"data-unread-count>{unread}<" in page
