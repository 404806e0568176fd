"""Digests and notification email through a real SMTP server: headers, both parts,
language and time zone, one-click unsubscribe without a session, exactly once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from buyergroup.community import digests, service, unsubscribe
from buyergroup.community.models import DigestRun, Frequency, Kind, Notification
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.mail.models import OutboxMessage
from buyergroup.mail.service import deliver_due
from buyergroup.network.service import add_member
from tests.conftest import body_of


@pytest.fixture(autouse=True)
def https_base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://buyergroup.test")


def html_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_content()
    raise AssertionError("no HTML part")


def _digest_setup(group, member, make_item, publish, titles=("Server clause",)):
    member.locale = "nl"
    member.timezone = "Europe/Amsterdam"
    db.session.commit()
    for title in titles:
        publish(make_item(group=group, title=title))
    # A fixed moment, to check the time zone: 09:30 UTC is 10:30 in Amsterdam.
    db.session.execute(
        Notification.__table__.update().values(created_at=datetime(2026, 11, 30, 9, 30,
                                                                   tzinfo=UTC))
    )
    db.session.commit()


def test_daily_digest_by_smtp(app, mailbox, group, member, make_item, publish):
    _digest_setup(group, member, make_item, publish, ("Server clause", "Laptop clause"))
    report = digests.send_digests("daily")
    assert report.sent == 1
    deliver_due()
    assert len(mailbox.to(member.email)) == 1
    message = mailbox.last_to(member.email)
    assert message["Content-Language"] == "nl"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://buyergroup.test/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = body_of(message), html_of(message)
    for body in (text, html):
        assert "Fair servers" in body  # grouped by working group
        assert "Server clause" in body and "Laptop clause" in body
        assert "10:30" in body  # the member's time zone
        assert "30-11-2026" in body or "30 nov" in body  # Dutch date format
    assert url in text and url.replace("&", "&amp;") in html
    assert "https://buyergroup.test/profile/notifications" in text


def test_a_second_run_and_nothing_new_send_nothing(app, mailbox, group, member, make_item,
                                                   publish):
    _digest_setup(group, member, make_item, publish)
    assert digests.send_digests("daily").sent == 1
    again = digests.send_digests("daily")
    assert again.sent == 0
    # One digest in the outbox (its subject is in the member's language, so find it by run).
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.id.in_(select(DigestRun.outbox_id)))) == 1
    # Nothing pending for the weekly digest (new items are daily by default): no mail.
    assert digests.send_digests("weekly").sent == 0
    # A run whose members have nothing new sends nothing.
    assert digests.send_digests("daily").candidates == 0


def test_hidden_items_are_left_out_and_no_empty_digest(
    app, mailbox, make_group, organiser, make_user, make_item, publish
):
    closed = make_group("Closed", organiser=organiser)
    insider = make_user(name="Ines")
    add_member(closed, insider)
    db.session.commit()
    service.follow(insider, "theme", "circularity")
    db.session.commit()
    publish(make_item(visibility="group", group=closed, themes=["circularity"]))
    from buyergroup.network.service import remove_member

    remove_member(organiser, closed.membership_of(insider))
    db.session.commit()
    report = digests.send_digests("daily")
    assert (report.sent, report.nothing_new) == (0, 1)


def test_a_run_killed_half_way_sends_the_rest_next_time(
    app, mailbox, group, member, make_user, make_item, publish, monkeypatch
):
    others = [make_user(name=f"Follower {i}") for i in range(3)]
    for user in others:
        service.follow(user, "group", str(group.id))
    db.session.commit()
    publish(make_item(group=group, title="Clause"))
    real = digests.queue_email
    calls = []

    def dying(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(digests, "queue_email", dying)
    with pytest.raises(KeyboardInterrupt):
        digests.send_digests("daily", batch_size=2)  # killed in its second batch
    db.session.rollback()
    assert db.session.scalar(select(func.count(DigestRun.id))) == 2
    monkeypatch.setattr(digests, "queue_email", real)
    report = digests.send_digests("daily")
    assert (report.sent, report.already_sent) == (2, 0)
    deliver_due()
    digests_sent = [m["To"] for m in mailbox.messages if "digest" in m["Subject"]]
    assert sorted(digests_sent) == sorted([member.email, *(u.email for u in others)])


def test_one_click_unsubscribe_by_post_without_a_session(app, mailbox, group, member,
                                                         make_item, publish):
    _digest_setup(group, member, make_item, publish)
    digests.send_digests("daily")
    deliver_due()
    url = mailbox.last_to(member.email)["List-Unsubscribe"].strip("<>")
    path = urlsplit(url).path
    fresh = app.test_client()  # no session, no CSRF token
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = fresh.post(path, data={"List-Unsubscribe": "One-Click"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200
    assert "you will no longer receive these emails" in response.get_data(as_text=True)
    db.session.expire_all()
    assert service.preferences_of(member)[Kind.new_item] is Frequency.never
    # The GET shows a button and changes nothing (link scanners follow links).
    service.set_preferences(member, {Kind.new_item: Frequency.daily})
    db.session.commit()
    assert "Stop these emails" in fresh.get(path).get_data(as_text=True)
    db.session.expire_all()
    assert service.preferences_of(member)[Kind.new_item] is Frequency.daily


def test_tampered_expired_and_foreign_links_change_nothing(
    app, client, auth, member, make_user, monkeypatch
):
    token = unsubscribe.make_token(member.id, [Kind.new_item])
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = client.post(f"/unsubscribe/{tampered}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    # Another member's id in a token signed by someone else (the payload changed).
    forged = unsubscribe.make_token(member.id + 1, [Kind.new_item]).split(".")[0] + "." + \
        ".".join(token.split(".")[1:])
    assert client.post(f"/unsubscribe/{forged}").status_code == 400
    monkeypatch.setattr(unsubscribe, "MAX_AGE_SECONDS", -1)
    expired = client.post(f"/unsubscribe/{token}")
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    monkeypatch.setattr(unsubscribe, "MAX_AGE_SECONDS", 3600)
    auth.login(make_user(name="Someone else"))
    foreign = client.post(f"/unsubscribe/{token}")
    assert foreign.status_code == 400 and "another account" in foreign.get_data(as_text=True)
    assert service.preferences_of(member)[Kind.new_item] is Frequency.daily
    assert client.post("/unsubscribe/x").status_code == 400


def test_immediate_email_for_organisers_with_unsubscribe(app, mailbox, organiser, member,
                                                         make_item):
    item = make_item(member, title="Please review me")
    library.submit(member, item)
    db.session.commit()
    deliver_due()
    message = mailbox.last_to(organiser.email)
    assert message["Subject"] == "Waiting for review: Please review me"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"https://buyergroup.test/library/{item.id}" in body_of(message)
    assert "Please review me" in html_of(message)


def test_due_at_seven_local_time(member):
    member.timezone = "Europe/Brussels"
    monday_6 = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 06:00 in Brussels, a Monday
    monday_7 = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert not digests.is_due(Frequency.daily, member, monday_6)
    assert digests.is_due(Frequency.daily, member, monday_7)
    assert not digests.is_due(Frequency.weekly, member, monday_6)
    assert digests.is_due(Frequency.weekly, member, monday_7)
    assert digests.period_of(Frequency.weekly, member, monday_7) == "2026-W49"
    # On Wednesday the week's digest (if not sent yet) carries what came until Monday 07:00.
    wednesday = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert digests.cutoff_of(Frequency.weekly, member, wednesday) == monday_7
    assert digests.cutoff_of(Frequency.daily, member, monday_6) == datetime(
        2026, 11, 29, 6, 0, tzinfo=UTC)
    member.timezone = "Pacific/Auckland"  # already Monday evening there
    assert digests.period_of(Frequency.daily, member, monday_6) == "2026-11-30"


def test_scheduler_job_and_command(app, group, member, make_item, publish, mailbox):
    from buyergroup.scheduler import JOBS

    assert any(job.target == "buyergroup.community.digests:send_due_digests" for job in JOBS)
    publish(make_item(group=group, title="Command clause"))
    result = app.test_cli_runner().invoke(args=["digests", "send", "--frequency", "daily"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert mailbox.last_to(member.email)["Subject"].startswith("Your daily Buyergroup digest")
    again = app.test_cli_runner().invoke(args=["digests", "send", "--frequency", "daily"])
    assert "0 sent" in again.output


@pytest.mark.committing
def test_two_schedulers_at_once_send_each_digest_once(
    app, backend, group, member, make_user, make_item, publish, monkeypatch
):
    if backend != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    users = [make_user(name=f"Follower {i}") for i in range(6)]
    for user in users:
        service.follow(user, "group", str(group.id))
    db.session.commit()
    publish(make_item(group=group, title="Clause"))
    real = digests.build_digest

    def slow(*args, **kwargs):
        time.sleep(0.05)  # both schedulers are inside the same member's digest at once
        return real(*args, **kwargs)

    monkeypatch.setattr(digests, "build_digest", slow)
    barrier = threading.Barrier(2)
    reports: list = [None, None]

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                reports[index] = digests.send_digests("daily")
            except Exception as error:  # noqa: BLE001 - reported below
                reports[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, digests.DigestReport) for r in reports), reports
    assert sum(r.sent for r in reports) == 7
    # The other run found each claim taken (or, once committed, nothing left to send).
    assert sum(r.already_sent + r.nothing_new for r in reports) == 7
    rows = db.session.execute(
        select(OutboxMessage.recipient, func.count())
        .where(OutboxMessage.id.in_(select(DigestRun.outbox_id)))
        .group_by(OutboxMessage.recipient)
    ).all()
    assert len(rows) == 7 and all(count == 1 for _r, count in rows)


def test_the_scheduler_sends_at_seven_in_each_members_own_time_zone(
    app, group, member, make_user, make_item, publish
):
    from datetime import timedelta

    from buyergroup.database import utcnow

    far = make_user(name="Nora New York", timezone="America/New_York")
    service.follow(far, "group", str(group.id))
    member.timezone = "Europe/Brussels"
    db.session.commit()
    publish(make_item(group=group, title="Clause"))
    # 06:30 UTC tomorrow: 07:30 in Brussels (due), 01:30 in New York (not yet).
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=6, minute=30)
    first = digests.send_digests("daily", now=tomorrow, due_only=True)
    assert first.sent == 1
    assert db.session.scalar(select(DigestRun.user_id)) == member.id
    later = digests.send_digests("daily", now=tomorrow.replace(hour=12), due_only=True)
    assert (later.sent, later.candidates) == (1, 1)  # New York's 07:00 has come


def test_weekly_digest_with_a_link_per_kind(app, mailbox, group, member, make_item, publish,
                                            make_user):
    from buyergroup.library import service as library

    service.set_preferences(member, {Kind.new_item: Frequency.weekly,
                                     Kind.comment: Frequency.weekly})
    db.session.commit()
    item = publish(make_item(group=group, title="Weekly clause"))
    service.follow(member, "item", str(item.id))
    library.add_comment(make_user(name="Cora Commenter"), item, "Does this work for servers?")
    db.session.commit()
    digests.send_digests("daily")  # the item's author hears of the comment daily
    deliver_due()
    assert mailbox.to(member.email) == []
    assert digests.send_digests("weekly").sent == 1
    deliver_due()
    message = mailbox.last_to(member.email)
    assert message["Subject"] == "Your weekly Buyergroup digest: 2 new notifications"
    text = body_of(message)
    assert "New items in what I follow" in text and "Comments on items I follow" in text
    links = [line.split(": ", 1)[1] for line in text.splitlines()
             if line.startswith("Stop emails about this: ")]
    assert len(links) == 2
    # One kind's link stops that kind only.
    response = app.test_client().post(urlsplit(links[0]).path)
    assert response.status_code == 200
    db.session.expire_all()
    prefs = service.preferences_of(member)
    assert sorted(k.value for k, f in prefs.items() if f is Frequency.never) in (
        ["comment"], ["new_item"])
