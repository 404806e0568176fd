"""The demo seed's toolkit content: levels for every criterion, the labels register with its
alert, the demo member's baskets and the recorded uses."""

from __future__ import annotations

from sqlalchemy import select

from buyergroup.accounts.service import get_user_by_email
from buyergroup.extensions import db
from buyergroup.labels.models import Label, StaleLabelFlag
from buyergroup.library.fields import CLAUSE_KINDS
from buyergroup.library.models import LibraryItem
from buyergroup.toolkit import exports, service
from buyergroup.toolkit.models import ClauseUse


def test_every_seeded_criterion_and_clause_has_ambition_and_verification(seeded_app):
    items = db.session.scalars(select(LibraryItem).where(LibraryItem.kind.in_(CLAUSE_KINDS)))
    missing = [i.seed_key for i in items
               if i.ambition is None or i.ambition_scheme is None or not i.verification]
    assert missing == []


def test_register_alert_baskets_and_uses(seeded_app):
    tco = db.session.scalar(select(Label).where(Label.name == "TCO Certified"))
    assert [(g.name, g.status.value) for g in tco.generations] == [
        ("generation 10", "current"), ("generation 9", "superseded")]
    flagged = [f.item.seed_key for f in db.session.scalars(select(StaleLabelFlag))]
    assert flagged == ["laptops-energy-efficiency-core-en"]
    member = get_user_by_email("member@example.org")
    baskets = service.baskets_for(member)
    assert sorted(b.name for b in baskets) == ["Laptops 2027 – framework agreement",
                                               "Smartphones – renewal 2026"]
    assert db.session.scalar(select(db.func.count(ClauseUse.id))) == 5
    laptops = next(b for b in baskets if b.name.startswith("Laptops"))
    annex = exports.build_annex(laptops, member, "nl")
    assert len(annex.sections) == 5
    assert exports.to_docx(annex)[:2] == b"PK"


def test_seeded_item_page_shows_the_alert(seeded_app):
    item = db.session.scalar(select(LibraryItem).where(
        LibraryItem.seed_key == "laptops-energy-efficiency-core-en"))
    page = seeded_app.test_client().get(f"/library/{item.id}").get_data(as_text=True)
    assert "Cites TCO Certified generation 9, which has been superseded." in page


def test_seeded_basket_offers_the_dutch_law_variant_and_exports_it(seeded_app):
    import io

    import docx
    from lxml import html

    def key(seed_key):
        return db.session.scalar(select(LibraryItem).where(LibraryItem.seed_key == seed_key))

    member = get_user_by_email("member@example.org")
    belgian, dutch = key("ew-contract-conditions-nl"), key(
        "ew-contract-conditions-nl-aanbestedingswet")
    assert service.legal_variants(belgian, member) == [dutch]
    assert service.legal_variants(dutch, member) == [belgian]
    laptops = next(b for b in service.baskets_for(member) if b.name.startswith("Laptops"))
    entry = next(e for e in laptops.entries if e.item_id == belgian.id)
    client = seeded_app.test_client()
    client.post("/login", data={"email": member.email, "password": "buyergroup-demo"})
    client.post("/language", data={"language": "en", "next": "/"})  # the demo member reads nl
    page = html.fromstring(client.get(f"/baskets/{laptops.id}").data)
    options = page.xpath(f'//select[@name="variant{entry.id}-variant_id"]/option')
    assert [o.get("value") for o in options] == ["", str(dutch.id)]
    assert options[0].text_content().startswith("As added: Belgium: Wet van 17 juni 2016")
    assert options[1].text_content().startswith("Netherlands: Aanbestedingswet 2012")
    client.post(f"/baskets/{laptops.id}/entries/{entry.id}/variant",
                data={f"variant{entry.id}-variant_id": str(dutch.id)})
    text = client.get(f"/baskets/{laptops.id}").get_data(as_text=True)
    assert "The export uses the legal variant for Aanbestedingswet 2012" in text
    exported = client.get(f"/baskets/{laptops.id}/export?format=docx&language=nl")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(exported.data)).paragraphs]
    assert dutch.title in paragraphs and belgian.title not in paragraphs
    assert any("schriftelijk in gebreke" in p for p in paragraphs)
    # ... and says so, in the document's language.
    assert any(p.startswith("Juridische variant voor Aanbestedingswet 2012") for p in paragraphs)
    # The item page names the variant; side by side, the two texts align paragraph by
    # paragraph (the same six blocks).
    item_page = html.fromstring(client.get(f"/library/{belgian.id}").data)
    assert item_page.xpath(f'//section[@id="legal-variants"]//a[@href="/library/{dutch.id}"]')
    side = html.fromstring(client.get(
        f"/library/{belgian.id}/side-by-side?with={dutch.id}").data)
    rows = [[td.text_content().strip() for td in tr.xpath("td")]
            for tr in side.xpath("//tbody/tr")]
    assert len(rows) == 6 and rows[0] == ["Doel", "Doel"]
    assert all(left and right for left, right in rows)
