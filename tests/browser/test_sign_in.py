import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_member_signs_in_and_out(page, live_server, member):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email address").fill(member.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back, Mia Member")
    expect(page.get_by_role("link", name="Mia Member")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
