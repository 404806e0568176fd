"""The tender annex, opened again with python-docx and odfpy: phases in procurement order,
the chosen language's text, the item's own numbering, citations, no hidden items."""

from __future__ import annotations

import io

import docx
import pytest
from flask_babel import force_locale, gettext
from odf import teletype
from odf.opendocument import load
from odf.text import H, P

from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.library.models import Phase
from buyergroup.templating import label
from buyergroup.toolkit import exports, service
from buyergroup.vocabulary import language_name

CLAUSE_BODY = """## Purpose

Explains why the clause exists (left out of the tender).

## Clause text

1. **Labour standards.** The contractor respects the ILO core conventions.
2. **Disclosure.** The contractor discloses the production sites.
    - final assembly
    - components
3. **Remediation.** The contractor remedies violations.

## Notes for buyers

- Mention it at the market consultation.
"""


@pytest.fixture
def annex_basket(member, organiser, make_item, make_organisation, group_with_member):
    group, _insider = group_with_member
    org = make_organisation("Electronics Watch", kind="ngo")
    clause = make_item(title="Contract conditions", kind="clause",
                       phase="contract_performance_clause", body=CLAUSE_BODY,
                       organisation=org, year=2020, licence="CC-BY-4.0",
                       verification=["independent_monitoring"],
                       verification_notes="Worker-driven monitoring.")
    official = library_service.add_translation(
        organiser, clause, title="Contractvoorwaarden", language="nl", translation_kind="official",
        body="## Tekst van de clausule\n\n1. Arbeidsnormen.\n2. Openbaarmaking.\n3. Herstel.\n")
    library_service.publish(None, official)
    spec = make_item(title="Energy efficiency", kind="criterion", phase="technical_specification",
                     body="The laptop meets ENERGY STAR 8.0.")
    member_nl = library_service.add_translation(
        member, spec, title="Energie-efficiëntie", language="nl", translation_kind="member",
        body="De laptop voldoet aan ENERGY STAR 8.0.")
    library_service.publish(None, member_nl)
    untranslated = make_item(title="Exclusion for forced labour", kind="criterion",
                             phase="exclusion", body="Bidders convicted of forced labour are "
                             "excluded.")
    hidden = make_item(title="Group only selection", kind="criterion", phase="selection",
                       visibility="group", group=group)
    db.session.commit()
    basket = service.create_basket(member, "Laptops 2027 – framework agreement", language="nl")
    for item in (clause, spec, untranslated):
        service.add_item(member, basket, item.id)
    # Added by someone who could see it; the member can not.
    from buyergroup.toolkit.models import BasketEntry

    basket.entries.append(BasketEntry(item=hidden, position=0))
    service.set_note(member, basket, service.entry_for_item(basket, spec.id), "Weging 10 %")
    db.session.commit()
    return basket


def docx_paragraphs(data: bytes) -> list[tuple[str, str]]:
    document = docx.Document(io.BytesIO(data))
    return [(p.style.name, p.text) for p in document.paragraphs]


def test_docx_annex(app, member, annex_basket):
    annex = exports.build_annex(annex_basket, member, "nl")
    paragraphs = docx_paragraphs(exports.to_docx(annex))
    headings1 = [text for style, text in paragraphs if style == "Heading 1"]
    with force_locale("nl"):
        expected = [label(Phase.exclusion), label(Phase.technical_specification),
                    label(Phase.contract_performance_clause)]
    assert headings1 == expected  # procurement order; the hidden selection item is absent
    texts = [text for _, text in paragraphs]
    assert paragraphs[0] == ("Title", "Laptops 2027 – framework agreement")
    assert "Group only selection" not in "\n".join(texts)
    # The official Dutch translation replaces the English clause, numbering intact.
    assert "Contractvoorwaarden" in texts
    assert ["1.\tArbeidsnormen.", "2.\tOpenbaarmaking.", "3.\tHerstel."] == [
        t for t in texts if t[:2] in ("1.", "2.", "3.")]
    # The member translation is used and marked; the untranslated one says so.
    with force_locale("nl"):
        member_note = gettext("Member translation, not checked by the source organisation.")
        fallback_note = gettext(
            "Not yet translated into %(wanted)s: this is the original text in %(original)s.",
            wanted=language_name("nl"), original=language_name("en"))
    assert "Energie-efficiëntie" in texts and member_note in texts
    assert "Exclusion for forced labour" in texts
    assert "Bidders convicted of forced labour are excluded." in texts
    assert fallback_note in texts
    assert any(t.endswith("Weging 10 %") for t in texts)
    assert any("Electronics Watch, 2020" in t and "/library/" in t for t in texts)


def test_original_language_keeps_numbering_and_drops_explanations(app, member, annex_basket):
    annex = exports.build_annex(annex_basket, member, "en")
    texts = [text for _, text in docx_paragraphs(exports.to_docx(annex))]
    assert "1.\tLabour standards. The contractor respects the ILO core conventions." in texts
    assert "•\tfinal assembly" in texts
    assert "3.\tRemediation. The contractor remedies violations." in texts
    assert not any("market consultation" in t or "left out of the tender" in t for t in texts)
    document = docx.Document(io.BytesIO(exports.to_docx(annex)))
    bold = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    assert "Labour standards." in bold


def test_odt_annex(app, member, annex_basket):
    annex = exports.build_annex(annex_basket, member, "nl")
    document = load(io.BytesIO(exports.to_odt(annex)))
    headings = [(int(h.getAttribute("outlinelevel")), teletype.extractText(h))
                for h in document.getElementsByType(H)]
    with force_locale("nl"):
        assert [t for level, t in headings if level == 1] == [
            label(Phase.exclusion), label(Phase.technical_specification),
            label(Phase.contract_performance_clause)]
    paragraphs = [teletype.extractText(p) for p in document.getElementsByType(P)]
    assert "1. Arbeidsnormen." in paragraphs and "3. Herstel." in paragraphs
    assert not any("Group only" in p for p in paragraphs)
    assert any("Electronics Watch, 2020" in p for p in paragraphs)


def test_markdown_and_text(app, member, annex_basket):
    annex = exports.build_annex(annex_basket, member, "en")
    md = exports.to_markdown(annex)
    assert md.startswith("# Laptops 2027 – framework agreement")
    assert "1. **Labour standards.** The contractor" in md and "   - final assembly" in md
    text = exports.to_text(annex)
    assert "**" not in text and "1. Labour standards." in text


def test_copy_text_keeps_numbering(app):
    assert exports.clean_text(CLAUSE_BODY).splitlines() == [
        "Clause text",
        "",
        "1. Labour standards. The contractor respects the ILO core conventions.",
        "2. Disclosure. The contractor discloses the production sites.",
        "    • final assembly",
        "    • components",
        "3. Remediation. The contractor remedies violations.",
    ]


def test_export_over_http(client, auth, member, annex_basket, bearer):
    auth.login(member)
    response = client.get(f"/baskets/{annex_basket.id}/export?format=docx&language=nl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == exports.CONTENT_TYPES["docx"]
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="laptops-2027-framework-agreement-nl.docx"')
    api = client.get(f"/api/v1/baskets/{annex_basket.id}/export?format=odt&language=fr",
                     headers=bearer(member))
    assert api.status_code == 200 and api.headers["Content-Type"].startswith(
        "application/vnd.oasis.opendocument.text")
    assert client.get(f"/baskets/{annex_basket.id}/export?format=pdf").status_code == 302
    bad = client.get(f"/api/v1/baskets/{annex_basket.id}/export?format=pdf",
                     headers=bearer(member))
    assert bad.status_code == 400
    md = client.get(f"/api/v1/baskets/{annex_basket.id}/export?format=md&language=de",
                    headers=bearer(member))
    assert md.headers["Content-Type"].startswith("text/markdown")


def test_empty_basket_export_says_so(client, auth, member, bearer):
    basket = service.create_basket(member, "Empty")
    db.session.commit()
    response = client.get(f"/api/v1/baskets/{basket.id}/export?format=docx",
                          headers=bearer(member))
    assert response.status_code == 400
    assert "no items to export" in response.get_json()["error"]["message"]
    auth.login(member)
    page = client.get(f"/baskets/{basket.id}").get_data(as_text=True)
    assert "This basket has no items to export." in page
