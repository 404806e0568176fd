"""A clause's page with every panel filled: issue 12's 8 statements, whatever it shows."""

from __future__ import annotations

from datetime import date

from buyergroup.extensions import db
from buyergroup.labels import jobs
from buyergroup.labels import service as labels
from buyergroup.library import service as library
from buyergroup.library import uploads
from buyergroup.library.models import ItemRelation
from buyergroup.network.service import add_member
from buyergroup.toolkit import service
from tests.library.conftest import pdf_bytes
from tests.queries import TEST_OWN, statements
from tests.toolkit.conftest import superseded_generation


def _sent(client, url: str) -> list[str]:
    client.get(url)  # warm: templates compiled, kept statements built
    db.session.expire_all()
    with statements() as sent:
        assert client.get(url).status_code == 200
    return [s for s in sent
            if not s.lstrip().upper().startswith(TEST_OWN)]


def test_a_clauses_page_asks_as_much_with_more_of_every_panel_and_at_most_8(
    client, auth, member, organiser, make_item, make_user, make_organisation, group_with_member
):
    group, insider = group_with_member
    clause = make_item(title="Living wage clause", kind="clause", countries=["NL"],
                       phase="contract_performance_clause", visibility="group", group=group,
                       legal_system="Directive 2014/24/EU", body="Pay a living wage.")
    auth.login(insider)

    def more(start: int, stop: int) -> None:
        # Each round adds, by people the request has not loaded: versions (the history
        # names their editors), files, translations, related items and legal variants,
        # comments, uses (the register names who recorded them), citations of labels
        # superseded (each notice names its label's current generation), and baskets.
        for n in range(start, stop):
            person = make_user(f"person{n}@example.org", name=f"Person {n}",
                               organisation=make_organisation(f"Body {n}"))
            add_member(group, person)
            editor = make_user(f"editor{n}@example.org", name=f"Editor {n}", role="organiser")
            library.update_item(editor, clause, body=f"Pay a living wage ({n}).")
            stored = uploads.store_bytes(pdf_bytes(), f"wage-{n}.pdf", "application/pdf")
            library.add_attachment(editor, clause, stored)
            translation = library.add_translation(
                person, clause, title=f"Leefbaar loon {n}", language=["nl", "fr", "de"][n],
                body=f"Betaal {n}.")
            library.publish(organiser, translation)
            variant = make_item(title=f"Living wage clause {n} (Belgium)", kind="clause",
                                phase="contract_performance_clause", legal_system=f"Law {n}",
                                countries=[["BE", "FR", "DE"][n]])
            library.relate(None, clause, variant)
            library.add_comment(person, clause, f"Comment {n}")
            service.record_use(None, clause, service.UseData(
                contracting_authority=f"City {n}", tender_title=f"Tender {n}",
                used_on=date(2024, 1, 1 + n)), recorded_by=person)
            old = superseded_generation(organiser, f"Label {n}")
            labels.set_citations(None, clause, [*(g.id for g, _ in labels.cited_generations(
                clause)), old.id])
            service.add_item(insider, service.create_basket(insider, f"Basket {n}"), clause.id)
        jobs.check_stale_labels()
        db.session.commit()

    more(0, 1)
    few = _sent(client, f"/library/{clause.id}")
    more(1, 3)
    many = _sent(client, f"/library/{clause.id}")
    page = client.get(f"/library/{clause.id}").get_data(as_text=True)
    for shown in ("Person 2", "Editor 2", "wage-2.pdf", 'hreflang="de"', "Comment 2", "City 2",
                  "Living wage clause 2 (Belgium)", "Basket 2", "edition 2"):
        assert shown in page, shown
    assert len(many) == len(few), "\n".join(s[:300] for s in many)
    assert len(many) <= 8, "\n".join(s[:300] for s in many)
    assert db.session.query(ItemRelation).filter_by(item_id=clause.id).count() == 3
