"""The library in a real browser: contributing, reviewing, finding, translations, copying."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.library import service
from buyergroup.library.extraction import extract_pending
from buyergroup.library.models import Attachment, ExtractionState
from buyergroup.search.service import apply_pending
from tests.browser.helpers import sign_in, sign_out
from tests.library.conftest import fresh_search_index, make_item  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser




def test_a_case_study_from_draft_to_search_result(page, live_server, member, organiser,
                                                  tmp_path):
    sign_in(page, live_server, member)
    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_role("link", name="Share a case study").click()

    # Only the case-study part of the guided form shows for a case study.
    expect(page.get_by_role("group", name="3. Your case, step by step")).to_be_visible()
    expect(page.get_by_role("group", name="3. Criterion or clause details")).to_be_hidden()
    page.get_by_label("What are you sharing?").select_option("clause")
    expect(page.get_by_role("group", name="3. Criterion or clause details")).to_be_visible()
    page.get_by_label("What are you sharing?").select_option("case_study")

    page.get_by_label("Title").fill("Mechelen buys repairable laptops")
    page.get_by_label("Summary").fill("A tender that scored repairability.")
    page.get_by_label("Approach").fill("We asked bidders for spare parts for seven years.")
    page.get_by_label("Results").fill("Two bids met every requirement.")
    page.get_by_role("group", name="Product groups").get_by_label("Laptops").check()
    page.get_by_label("Who can see it once published").select_option("public")
    notes = tmp_path / "verslag.txt"
    notes.write_text("Verslag van de marktconsultatie over herstelbaarheid.", encoding="utf-8")
    page.get_by_label("Attach files").set_input_files(str(notes))
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("status")).to_contain_text("Your draft has been saved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mechelen buys repairable laptops")
    expect(page.get_by_role("link", name="verslag.txt")).to_be_visible()
    page.get_by_role("button", name="Submit for review").first.click()
    expect(page.get_by_role("status")).to_contain_text("sent to the organisers for review")
    sign_out(page)

    sign_in(page, live_server, organiser)
    page.goto(live_server + "/library")
    page.get_by_role("link", name="Review queue").click()
    expect(page.locator(".results-count")).to_have_text("1 item is waiting for review.")
    page.get_by_role("button", name=re.compile(r"^Publish\W+Mechelen buys")).click()
    expect(page.locator(".flashes")).to_contain_text("has been published")
    sign_out(page)

    # The attachment's text is read after the response, in a subprocess: on a busy machine
    # that can outlast the clicks above, and a read that found the database busy leaves the
    # attachment pending for the scheduler's extraction job. Wait a little as a visitor
    # arriving later would, then tick the scheduler's jobs: extraction (a no-op when the
    # after-response read finished) and the index queue. (A read that failed stays pending
    # however long one waits: waiting 15 s then cost 15 s of the suite.)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        db.session.rollback()
        states = set(db.session.scalars(select(Attachment.extraction_state)))
        if states and ExtractionState.pending not in states:
            break
        time.sleep(0.2)
    extract_pending()
    db.session.rollback()
    assert set(db.session.scalars(select(Attachment.extraction_state))) == {ExtractionState.done}
    apply_pending()

    # A visitor finds it, also by a word only in the attached file.
    page.goto(live_server + "/library")
    page.get_by_label("Search the library").fill("herstelbaarheid")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".results-count")).to_have_text("1 result for “herstelbaarheid”")
    page.get_by_role("link", name="Mechelen buys repairable laptops").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()


def test_switching_to_a_translation_and_copying_a_clause(page, live_server, make_item,  # noqa: F811
                                                         organiser, context):
    english = make_item(title="Respect for ILO core conventions", language="en",
                        body="The contractor ensures the goods are made without child labour.")
    dutch = service.add_translation(organiser, english, title="Respect voor de IAO-conventies",
                                    language="nl", translation_kind="official",
                                    body="De opdrachtnemer zorgt dat er geen kinderarbeid is.")
    service.publish(organiser, dutch)
    db.session.commit()

    page.goto(live_server + f"/library/{english.id}")
    languages = page.get_by_role("navigation", name="Languages")
    expect(languages.get_by_text("English")).to_have_attribute("aria-current", "page")
    languages.get_by_role("link", name="Dutch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Respect voor de IAO-conventies")
    expect(page.locator("h1")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("navigation", name="Languages").get_by_role("link",
           name="English")).to_be_visible()

    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    copy = page.get_by_role("button", name="Copy text")
    expect(copy).to_be_visible()  # shown by site.js; hidden without JavaScript
    copy.click()
    # The button says "Copied" for two seconds; screen readers hear it from a live region.
    expect(page.locator("body > [role=status][aria-live=polite]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "De opdrachtnemer zorgt dat er geen kinderarbeid is.")


def test_a_ticked_filter_applies_at_once_and_keeps_focus(page, live_server, make_item):  # noqa: F811
    make_item(title="Repairable laptops", product_groups=["laptops"])
    make_item(title="Fair servers", product_groups=["servers"])
    apply_pending()
    page.goto(live_server + "/library")
    expect(page.locator(".results-count")).to_have_text("2 items")
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    laptops = page.get_by_role("group", name="Product group").get_by_label(re.compile("^Laptops"))
    laptops.check()
    expect(page.locator(".results-count")).to_have_text("1 item")
    expect(page).to_have_url(re.compile(r"product_group=laptops"))
    expect(page.get_by_role("link", name="Repairable laptops")).to_be_visible()
    expect(page.get_by_role("link", name="Fair servers")).to_have_count(0)
    expect(page.locator("#library-announcer")).to_have_text("1 item")
    expect(page.get_by_role("group", name="Product group").get_by_label(
        re.compile("^Laptops"))).to_be_focused()
    # The sort menu still works after the swap.
    page.get_by_label("Sort by").select_option("title")
    expect(page).to_have_url(re.compile(r"sort=title"))
    expect(page.locator(".results-count")).to_have_text("1 item")
