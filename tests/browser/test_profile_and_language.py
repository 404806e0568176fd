import pytest
from playwright.sync_api import expect

from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser



def test_visitor_changes_language_and_it_is_remembered(page, live_server):
    page.goto(live_server + "/groups")
    page.get_by_label("Language").select_option("fr")
    # The switcher submits itself; the same page comes back in French.
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(live_server + "/groups")
    expect(page.get_by_role("heading", level=1)).to_have_text("Groupes de travail")
    page.goto(live_server + "/organisations")
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_member_edits_profile(page, live_server, member, make_organisation):
    other = make_organisation("City of Ghent", country="BE", kind="local_authority")
    sign_in(page, live_server, member)
    page.get_by_role("link", name=member.name).click()
    page.get_by_label("Name", exact=True).fill("Mia De Smet")
    page.get_by_label("Organisation").select_option(label=other.name)
    page.get_by_label("Job title").fill("ICT buyer")
    page.get_by_label("Country").select_option("BE")
    page.get_by_role("checkbox", name="Dutch").check()
    page.get_by_role("checkbox", name="Laptops").check()
    page.get_by_role("checkbox", name="Due diligence").check()
    page.get_by_label("Short bio").fill("Buys laptops for the city.")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_label("Interface language").select_option("nl")
    page.get_by_role("button", name="Save profile").click()
    # Saved, and the interface now speaks Dutch.
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Mia De Smet")
    expect(page.get_by_label("Tijdzone")).to_have_value("Europe/Lisbon")
    page.goto(live_server + f"/members/{member.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mia De Smet")
    expect(page.get_by_role("main")).to_contain_text("City of Ghent")


def test_profile_with_bad_input_keeps_what_was_typed(page, live_server, member):
    sign_in(page, live_server, member)
    page.goto(live_server + "/profile")
    page.get_by_label("Job title").fill("Category manager")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save profile").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Job title")).to_have_value("Category manager")
    expect(page.get_by_role("alert")).to_be_visible()


def test_main_menu_works_with_keyboard_alone(page, live_server, member):
    sign_in(page, live_server, member)
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    # Then the language and account tools, the brand, and the main menu.
    menu = page.get_by_role("navigation", name="Main menu")
    home = menu.get_by_role("link", name="Home")
    for _ in range(8):
        page.keyboard.press("Tab")
        if home.evaluate("el => el === document.activeElement"):
            break
    expect(home).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Library")).to_be_focused()
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Events")).to_be_focused()
    page.keyboard.press("Tab")
    groups_link = menu.get_by_role("link", name="Working groups")
    expect(groups_link).to_be_focused()
    # Focus is visible: the focused link has an outline.
    assert groups_link.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server + "/groups")
    expect(groups_link).to_have_attribute("aria-current", "page")
    # The skip link moves focus to the main content.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_small_screen_menu_opens_and_closes_with_keyboard(page, live_server):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server + "/")
    toggle = page.get_by_role("button", name="Menu")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    menu = page.get_by_role("navigation", name="Main menu")
    menu_link = menu.get_by_role("link", name="Organisations")
    expect(menu_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
