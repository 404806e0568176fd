"""Follow a working group, an organiser publishes an item in it, the member sees the badge
and opens the notification; and screenshots of the new pages (en, desktop and phone)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from buyergroup.community import service as community
from buyergroup.discussions import service as discussions
from buyergroup.extensions import db
from buyergroup.library import service as library
from buyergroup.library.models import Visibility
from buyergroup.network.service import add_member
from tests.browser.helpers import sign_in, sign_out

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/community-shots"))


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_follow_a_group_then_see_the_badge_and_open_the_notification(
    page, live_server, make_group, make_user, organiser, member
):
    group = make_group("Fair servers", organiser=organiser)
    author = make_user("author@example.org", name="Ada Author")
    item = library.create_item(None, created_by=author, authors=[author],
                               kind="clause", title="Due diligence clause for servers",
                               language="en", visibility=Visibility.members, group=group,
                               body="Suppliers map their supply chain.")
    library.submit(author, item)
    db.session.commit()

    sign_in(page, live_server, member)
    page.goto(live_server + f"/groups/{group.slug}")
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("button", name="Following")).to_be_visible()
    expect(page.get_by_text("You follow this now")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, organiser)
    page.goto(live_server + f"/library/{item.id}")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("Published")
    sign_out(page)

    sign_in(page, live_server, member)
    badge = page.locator("[data-unread-count]")
    expect(badge).to_contain_text("1")
    page.get_by_role("link", name="Notifications 1 unread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    page.get_by_role("link", name="New in the library: Due diligence clause for servers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Due diligence clause for servers")
    expect(page.locator("[data-unread-count]")).to_have_count(0)


def test_screenshots_of_the_new_pages(page, live_server, make_group, make_user, organiser,
                                      member):
    from buyergroup.community import service

    group = make_group("Fair servers", organiser=organiser)
    from buyergroup.network.service import add_member

    add_member(group, member)
    service.follow(member, "theme", "due-diligence")
    service.follow(member, "product_group", "laptops")
    db.session.commit()
    for title in ("Due diligence clause for servers", "Take-back clause for laptops",
                  "Conflict minerals reporting"):
        item = library.create_item(None, created_by=organiser, authors=[organiser],
                                   kind="clause", title=title, language="en",
                                   visibility=Visibility.members, group=group)
        library.publish(organiser, item)
    draft = library.create_item(member, kind="case_study", title="Our laptop tender",
                                language="en")
    db.session.commit()
    assert draft.id
    sign_in(page, live_server, member)
    for width, suffix in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        for path, name in (("/", "home"), ("/notifications", "notifications"),
                           ("/follows", "follows"), ("/profile/notifications",
                                                     "preferences"),
                           (f"/groups/{group.slug}", "group")):
            page.goto(live_server + path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            _shoot(page, f"{name}-{suffix}")


def test_a_new_question_in_a_followed_group_is_told_answered_and_the_asker_hears(
    page, live_server, make_group, organiser, member
):
    group = make_group("Fair servers", organiser=organiser)
    add_member(group, member)
    community.follow(member, "group", str(group.id))
    db.session.commit()
    thread = discussions.start_thread(
        organiser, group, title="How did you verify the due-diligence clause?",
        body="We ask for a supply-chain map. How do you check it?")
    db.session.commit()

    sign_in(page, live_server, member)
    expect(page.locator("[data-unread-count]")).to_contain_text("1")
    page.get_by_role("link", name="Notifications 1 unread").click()
    page.get_by_role("link", name=re.compile("New question: How did you verify")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(thread.title)
    page.get_by_label("Your reply").fill("We asked **Electronics Watch** to check the map.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("main")).to_contain_text("asked Electronics Watch to check")
    sign_out(page)

    sign_in(page, live_server, organiser)
    expect(page.locator("[data-unread-count]")).to_contain_text("1")
    page.get_by_role("link", name="Notifications 1 unread").click()
    expect(page.get_by_role("main")).to_contain_text("New reply in How did you verify")
