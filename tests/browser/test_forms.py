"""Long texts in forms: the limit is told, and nothing pasted is cut without a word."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser


def test_a_bio_over_the_limit_is_counted_refused_and_kept_whole(page, live_server, member):
    sign_in(page, live_server, member)
    page.goto(live_server + "/profile")
    bio = page.get_by_label("Short bio")
    expect(page.locator("#bio-limit")).to_have_text("Up to 2,000 characters.")
    bio.fill("a" * 1990)
    expect(page.locator("#bio-limit")).to_have_text("10 characters left")
    text = "b" * 2100  # pasted whole: a browser's maxlength would have cut it silently
    bio.fill(text)
    expect(page.locator("#bio-limit")).to_have_text("100 characters too many")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#bio-error")).to_contain_text("2000")
    expect(page.get_by_label("Short bio")).to_have_value(text)
