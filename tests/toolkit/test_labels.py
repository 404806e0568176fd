"""The labels register and the stale-label alerts."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import html

from buyergroup.errors import NotAllowed, NotFound
from buyergroup.extensions import db
from buyergroup.labels import jobs
from buyergroup.labels import service as labels
from buyergroup.labels.models import Label, StaleLabelFlag
from buyergroup.mail.service import deliver_due
from buyergroup.scheduler import JOBS
from buyergroup.toolkit import exports, service
from tests.conftest import body_of
from tests.toolkit.conftest import superseded_generation


@pytest.fixture
def tco(organiser):
    label = labels.save_label(organiser, name="TCO Certified", issuer="TCO Development",
                              scope="social_and_environmental",
                              product_groups=["laptops", "screens"])
    gen9 = labels.save_generation(organiser, label, name="generation 9",
                                  published_on=date(2021, 12, 1))
    gen10 = labels.save_generation(organiser, label, name="generation 10",
                                   published_on=date(2024, 12, 1))
    db.session.commit()
    return label, gen9, gen10


@pytest.fixture
def citing(make_item, make_user, tco, member):
    _, gen9, gen10 = tco
    author = make_user("author@example.org", name="Anna Author")
    old = make_item(author=author, title="Laptops: TCO 9", kind="criterion")
    old2 = make_item(author=author, title="Screens: TCO 9", kind="criterion")
    new = make_item(title="Laptops: TCO 10", kind="criterion")
    labels.set_citations(None, old, [gen9.id])
    labels.set_citations(None, old2, [gen9.id])
    labels.set_citations(None, new, [gen10.id])
    db.session.commit()
    return old, old2, new


def test_the_job_is_in_the_scheduler():
    assert "stale_labels" in [job.id for job in JOBS]


def test_flags_exactly_the_citing_items_and_mails_once(app, mailbox, organiser, tco, citing):
    old, old2, new = citing
    _, gen9, _ = tco
    assert jobs.check_stale_labels() == {"flagged": 0, "cleared": 0, "emails": 0}
    labels.set_status(organiser, gen9, "superseded")
    db.session.commit()
    assert jobs.check_stale_labels() == {"flagged": 2, "cleared": 0, "emails": 1}
    deliver_due()
    flagged = {f.item_id for f in db.session.scalars(db.select(StaleLabelFlag))}
    assert flagged == {old.id, old2.id}
    messages = mailbox.to("author@example.org")
    assert len(messages) == 1  # one email for both items
    body = body_of(messages[0])
    assert "Laptops: TCO 9" in body and "Screens: TCO 9" in body
    assert "TCO Certified generation 10 is current since December 1, 2024." in body
    # A second run finds nothing new and sends nothing.
    assert jobs.check_stale_labels() == {"flagged": 0, "cleared": 0, "emails": 0}
    deliver_due()
    assert len(mailbox.to("author@example.org")) == 1


def test_notice_on_item_page_basket_and_export_then_cleared(client, auth, member, organiser,
                                                             tco, citing):
    old, _, _ = citing
    _, gen9, gen10 = tco
    labels.set_status(organiser, gen9, "superseded")
    jobs.check_stale_labels()
    basket = service.create_basket(member, "TCO")
    service.add_item(member, basket, old.id)
    db.session.commit()
    notice = "Cites TCO Certified generation 9, which has been superseded."
    page = client.get(f"/library/{old.id}").get_data(as_text=True)
    assert notice in page and "TCO Certified generation 10 is current since" in page
    auth.login(member)
    assert notice in client.get(f"/baskets/{basket.id}").get_data(as_text=True)
    annex = exports.build_annex(basket, member, "en", stale_warnings=labels.stale_warnings)
    assert any(notice in w for w in annex.sections[0].items[0].warnings)
    item_json = client.get(f"/api/v1/library/{old.id}").get_json()
    assert item_json["stale_labels"] == [
        {"label": "TCO Certified", "generation": "generation 9", "status": "superseded"}]
    assert item_json["labels"][0]["generation"] == "generation 9"
    # Fixing the citation clears the flag.
    labels.set_citations(None, old, [gen10.id])
    db.session.commit()
    assert notice not in client.get(f"/library/{old.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/library/{old.id}").get_json()["stale_labels"] == []


def test_a_generation_current_again_clears_on_the_next_run(organiser, tco, citing):
    _, gen9, _ = tco
    labels.set_status(organiser, gen9, "withdrawn")
    jobs.check_stale_labels()
    labels.set_status(organiser, gen9, "current")
    assert jobs.check_stale_labels()["cleared"] == 2


def test_citations_come_from_the_register(client, auth, member, make_item, tco):
    item = make_item(author=member, status="draft", kind="criterion")
    auth.login(member)
    page = html.fromstring(client.get(f"/labels/items/{item.id}/citations").data)
    boxes = page.xpath('//input[@name="generations"]/@value')
    assert sorted(boxes) == sorted([str(tco[1].id), str(tco[2].id)])
    client.post(f"/labels/items/{item.id}/citations", data={"generations": [str(tco[2].id)]})
    assert [g.name for g in labels.citations_of(item)] == ["generation 10"]
    with pytest.raises(NotFound):
        labels.set_citations(member, item, ["999999"])


def test_only_organisers_change_the_register(client, auth, member, tco):
    with pytest.raises(NotAllowed):
        labels.set_status(member, tco[1], "withdrawn")
    auth.login(member)
    assert client.post(f"/labels/generations/{tco[1].id}/status",
                       data={"status": "withdrawn"}).status_code == 403


def test_api_lists_labels_with_generations(client, tco):
    body = client.get("/api/v1/labels").get_json()
    assert body["items"][0]["name"] == "TCO Certified"
    assert [(g["name"], g["status"]) for g in body["items"][0]["generations"]] == [
        ("generation 10", "current"), ("generation 9", "current")]


def test_organisers_add_a_label_and_a_generation(client, auth, organiser):
    auth.login(organiser)
    bad = client.post("/labels", data={"name": "", "issuer": "Nobody"})
    assert bad.status_code == 400
    assert html.fromstring(bad.data).xpath('//input[@name="issuer"]/@value') == ["Nobody"]
    client.post("/labels", data={"name": "Fairtrade", "issuer": "Fairtrade International",
                                 "scope": "social", "product_groups": ["peripherals"]})
    label = db.session.scalar(db.select(Label).where(Label.name == "Fairtrade"))
    assert label.product_groups == ["peripherals"] and label.scope.value == "social"
    tomorrow = (date.today().replace(year=date.today().year + 1)).isoformat()
    response = client.post(f"/labels/{label.id}/generations",
                           data={"name": "2024 standard", "published_on": tomorrow,
                                 "status": "current"})
    assert response.status_code == 400 and "future" in response.get_data(as_text=True)
    client.post(f"/labels/{label.id}/generations",
                data={"name": "2024 standard", "published_on": "2024-01-01", "status": "current"})
    db.session.refresh(label)
    assert [g.name for g in label.generations] == ["2024 standard"]


# --- Editing and deleting the register on the web ----------------------------------------


def test_organisers_edit_a_label(client, auth, organiser, tco):
    label, _, _ = tco
    auth.login(organiser)
    form = html.fromstring(client.get(f"/labels/{label.id}/edit").data)
    assert form.xpath('//input[@name="name"]/@value') == ["TCO Certified"]
    assert sorted(form.xpath('//input[@name="product_groups"][@checked]/@value')) == [
        "laptops", "screens"]
    data = {"name": "TCO Certified", "issuer": "TCO Development AB", "scope": "environmental",
            "product_groups": ["laptops", "smartphones"], "url": "https://tcocertified.com/"}
    response = client.post(f"/labels/{label.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(label)
    assert (label.issuer, label.scope.value, label.product_groups) == (
        "TCO Development AB", "environmental", ["laptops", "smartphones"])
    assert client.get("/api/v1/labels").get_json()["items"][0]["issuer"] == "TCO Development AB"
    # A name another label has, or a link that is not a web address, is refused by its field
    # and what was typed stays.
    labels.save_label(organiser, name="EPEAT")
    db.session.commit()
    bad = client.post(f"/labels/{label.id}/edit", data={**data, "name": "epeat",
                                                         "issuer": "Typed issuer"})
    assert bad.status_code == 400
    page = html.fromstring(bad.data)
    assert "already has a label with this name" in page.xpath(
        '//input[@name="name"]/preceding-sibling::p[@class="error"]')[0].text_content()
    assert page.xpath('//input[@name="issuer"]/@value') == ["Typed issuer"]
    bad = client.post(f"/labels/{label.id}/edit", data={**data, "url": "javascript:alert(1)"})
    assert bad.status_code == 400
    db.session.refresh(label)
    assert label.name == "TCO Certified" and label.url == "https://tcocertified.com/"


def test_a_generation_edited_to_superseded_flags_its_citations(client, auth, organiser, tco,
                                                               citing):
    old, old2, _ = citing
    _, gen9, _ = tco
    auth.login(organiser)
    form = html.fromstring(client.get(f"/labels/generations/{gen9.id}/edit").data)
    assert form.xpath('//select[@name="status"]/option[@selected]/@value') == ["current"]
    response = client.post(f"/labels/generations/{gen9.id}/edit", follow_redirects=True, data={
        "name": "generation 9", "published_on": "2021-11-30", "status": "superseded",
        "url": "https://tcocertified.com/"})
    assert "flagged at the next check" in response.get_data(as_text=True)
    db.session.refresh(gen9)
    assert (gen9.status.value, gen9.published_on) == ("superseded", date(2021, 11, 30))
    assert jobs.check_stale_labels()["flagged"] == 2
    assert {f.item_id for f in db.session.scalars(db.select(StaleLabelFlag))} == {
        old.id, old2.id}


def test_a_cited_generation_or_label_is_not_deleted(client, auth, organiser, tco, citing):
    label, gen9, gen10 = tco
    auth.login(organiser)
    response = client.post(f"/labels/generations/{gen9.id}/delete")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "TCO Certified generation 9 is cited by 2 criteria or clauses" in text
    response = client.post(f"/labels/{label.id}/delete")
    assert response.status_code == 409
    assert "TCO Certified is cited by 3 criteria or clauses" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [g.name for g in db.session.get(Label, label.id).generations] == [
        "generation 10", "generation 9"]
    assert len(labels.citations_of(citing[0])) == 1
    # The edit page says why, and offers no delete button.
    page = html.fromstring(client.get(f"/labels/generations/{gen9.id}/edit").data)
    assert not page.xpath('//form[contains(@action, "/delete")]')


def test_an_uncited_generation_and_label_are_deleted(client, auth, organiser, tco):
    label, gen9, _ = tco
    auth.login(organiser)
    page = html.fromstring(client.get(f"/labels/generations/{gen9.id}/edit").data)
    action = page.xpath('//form[contains(@action, "/delete")]/@action')[0]
    client.post(action)
    db.session.expire_all()
    assert [g.name for g in db.session.get(Label, label.id).generations] == ["generation 10"]
    response = client.post(f"/labels/{label.id}/delete", follow_redirects=True)
    assert "TCO Certified is removed from the register." in response.get_data(as_text=True)
    assert client.get("/api/v1/labels").get_json()["items"] == []


def test_members_neither_edit_nor_delete_the_register(client, auth, member, tco):
    label, gen9, _ = tco
    with pytest.raises(NotAllowed):
        labels.delete_generation(member, gen9)
    with pytest.raises(NotAllowed):
        labels.delete_label(member, label)
    auth.login(member)
    assert client.get(f"/labels/{label.id}/edit").status_code == 403
    assert client.post(f"/labels/{label.id}/edit", data={"name": "Mine"}).status_code == 403
    assert client.post(f"/labels/{label.id}/delete").status_code == 403
    assert client.post(f"/labels/generations/{gen9.id}/delete").status_code == 403
    assert not html.fromstring(client.get("/labels").data).xpath('//a[contains(@href, "/edit")]')
    db.session.expire_all()
    assert db.session.get(Label, label.id).name == "TCO Certified"


def test_an_item_citing_two_generations_is_told_of_the_withdrawn_one_only(
    client, organiser, make_item, tco
):
    """Both citations listed, one notice: the item page and its JSON read citations and
    flags in one statement."""
    _, gen9, gen10 = tco
    both = make_item(title="Screens: TCO 9 or 10", kind="criterion")
    labels.set_citations(None, both, [gen9.id, gen10.id])
    labels.set_status(organiser, gen9, "withdrawn")
    jobs.check_stale_labels()
    db.session.commit()
    assert [(g.name, stale) for g, stale in labels.cited_generations(both)] == [
        ("generation 9", True), ("generation 10", False)]
    data = client.get(f"/api/v1/library/{both.id}").get_json()
    assert [entry["generation"] for entry in data["labels"]] == ["generation 9", "generation 10"]
    assert [entry["generation"] for entry in data["stale_labels"]] == ["generation 9"]
    page = client.get(f"/library/{both.id}").get_data(as_text=True)
    assert page.count("which has been withdrawn") == 1


def test_a_basket_page_asks_as_many_questions_for_two_entries_as_for_eight(
    client, auth, member, organiser, make_item, tco
):
    # Each entry shows its text in the basket's language, its national legal variants and
    # its label notices: each was one statement per entry.
    from buyergroup.library import service as library
    from buyergroup.library.models import ItemRelation
    from tests.queries import count_for

    _, gen9, _ = tco
    labels.set_status(organiser, gen9, "superseded")
    basket = service.create_basket(member, "Laptops 2027", language="nl")
    db.session.commit()

    def superseded_generation_of_another_label(n: int):
        # Each of the later entries cites a label of its own: a notice names the label's
        # current generation, which was asked label by label before.
        return superseded_generation(organiser, f"Label {n}")

    def add_entries(start: int, stop: int) -> None:
        for n in range(start, stop):
            clause = make_item(title=f"Living wage clause {n}", kind="clause",
                               phase="contract_performance_clause", countries=["NL"],
                               legal_system="Directive 2014/24/EU", body=f"Pay {n}.")
            variant = make_item(title=f"Living wage clause {n} (Belgium)", kind="clause",
                                phase="contract_performance_clause", countries=["BE"],
                                legal_system="Belgian law of 17 June 2016")
            db.session.add(ItemRelation(item_id=clause.id, related_id=variant.id))
            translation = library.add_translation(member, clause, title=f"Leefbaar loon {n}",
                                                  language="nl", body=f"Betaal {n}.")
            library.publish(organiser, translation)
            cited = [gen9.id] + ([superseded_generation_of_another_label(n).id] if n >= 2 else [])
            labels.set_citations(None, clause, cited)
            entry = service.add_item(member, basket, clause.id)
            if n % 2:
                service.set_variant(member, basket, entry, variant.id)
        jobs.check_stale_labels()
        db.session.commit()

    auth.login(member)
    add_entries(0, 2)
    with_2 = count_for(client, f"/baskets/{basket.id}")
    add_entries(2, 8)
    with_8 = count_for(client, f"/baskets/{basket.id}")
    assert with_8 == with_2
    page = client.get(f"/baskets/{basket.id}").get_data(as_text=True)
    assert all(f"Leefbaar loon {n}" in page for n in range(0, 8, 2))
    assert page.count('class="entry-variant"') == 8
    assert all(f">Living wage clause {n} (Belgium)</a>" in page for n in range(1, 8, 2))
    assert page.count("The export uses the legal variant for Belgian law of 17 June 2016") == 4
    assert page.count("Cites TCO Certified generation 9, which has been superseded.") == 8
    assert all(f"Cites Label {n} edition 1, which has been superseded. Label {n} edition 2 "
               "is current since" in page for n in range(2, 8))
