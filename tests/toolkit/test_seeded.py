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
