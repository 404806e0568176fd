"""The tender toolkit in a real browser: search, collect criteria in two languages in a
basket, export it in Dutch and open the document."""

from __future__ import annotations

import re

import docx
import pytest
from flask_babel import force_locale
from playwright.sync_api import expect

from buyergroup.extensions import db
from buyergroup.library import service
from buyergroup.library.models import Phase
from buyergroup.templating import label
from tests.browser.helpers import sign_in
from tests.library.conftest import fresh_search_index, make_item  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_search_collect_export_in_dutch(page, live_server, member, organiser, make_item,  # noqa: F811
                                        tmp_path):
    energy = make_item(title="Laptop energy efficiency", kind="criterion",
                       phase="technical_specification",
                       body="1. The laptop meets ENERGY STAR 8.0.\n2. The battery lasts 8 hours.")
    dutch = service.add_translation(
        organiser, energy, title="Energie-efficiëntie van laptops", language="nl",
        translation_kind="official",
        body="1. De laptop voldoet aan ENERGY STAR 8.0.\n2. De batterij gaat 8 uur mee.")
    service.publish(organiser, dutch)
    make_item(title="Laptop repairability award criterion", kind="criterion",
              phase="award_criterion", body="Points for spare parts for seven years.")
    make_item(title="Gunningscriterium herstelbaarheid laptops", kind="criterion",
              phase="award_criterion", language="nl",
              body="Punten voor reserveonderdelen gedurende zeven jaar (laptop).")
    db.session.commit()

    sign_in(page, live_server, member)
    page.goto(live_server + "/library?q=laptop&kind=criterion&language=en")
    for title in ("Laptop energy efficiency", "Laptop repairability award criterion"):
        page.get_by_role("button", name=re.compile(f"^Add to basket\\W+{title}$")).click()
        expect(page.locator(".flashes")).to_contain_text("is now in the basket")
    page.goto(live_server + "/library?q=laptops&language=nl")
    page.get_by_role("button",
                     name=re.compile(r"^Add to basket\W+Gunningscriterium herstelbaarheid")).click()
    expect(page.locator(".flashes")).to_contain_text("is now in the basket")

    page.get_by_role("link", name="Tender baskets").first.click()
    page.get_by_role("link", name="My tender basket").click()
    with force_locale("en"):
        for phase in (Phase.technical_specification, Phase.award_criterion):
            expect(page.get_by_role("heading", level=2, name=label(phase))).to_be_visible()
    entries = page.locator(".basket-entry h3")
    expect(entries).to_have_count(3)

    export = page.get_by_role("region", name="Download the tender annex")
    export.get_by_label("Language").select_option("nl")
    export.get_by_label("Format").select_option("docx")
    with page.expect_download() as download_info:
        export.get_by_role("button", name="Download").click()
    download = download_info.value
    assert re.fullmatch(r"my-tender-basket-nl\.docx", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    document = docx.Document(str(path))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    with force_locale("nl"):
        assert headings == [label(Phase.technical_specification), label(Phase.award_criterion)]
    texts = [p.text for p in document.paragraphs]
    assert "Energie-efficiëntie van laptops" in texts  # the official Dutch translation
    assert "1.\tDe laptop voldoet aan ENERGY STAR 8.0." in texts
    assert "Gunningscriterium herstelbaarheid laptops" in texts
    assert "Laptop repairability award criterion" in texts  # no Dutch yet: the original


def test_copy_text_keeps_the_numbering_and_leaves_the_notes_out(page, live_server, context,
                                                                 make_item):  # noqa: F811
    item = make_item(title="Disclosure clause", kind="clause", body=(
        "## Clause text\n\n1. The contractor discloses the sites.\n"
        "2. The contractor cooperates with monitoring.\n\n"
        "## Notes for buyers\n\n- Mention it at the market consultation.\n"))
    page.goto(live_server + f"/library/{item.id}")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.get_by_role("button", name="Copy text").click()
    expect(page.locator("body > [role=status][aria-live=polite]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "Clause text\n\n1. The contractor discloses the sites.\n"
        "2. The contractor cooperates with monitoring.")
