"""The clause reuse register: "used in a tender", from an item or a whole basket."""

from __future__ import annotations

from datetime import date, timedelta

from lxml import html
from sqlalchemy import select

from buyergroup.audit.models import AuditAction, AuditEntry
from buyergroup.extensions import db
from buyergroup.toolkit import service
from buyergroup.toolkit.models import ClauseUse

GOOD = {
    "use-contracting_authority": "City of Ghent",
    "use-tender_title": "Smartphones 2020",
    "use-reference": "2020/S 123-456789",
    "use-used_on": "2020-03-01",
    "use-lots": "1, 2",
    "use-product_group": "smartphones",
    "use-bids_received": "4",
    "use-outcome": "awarded",
    "use-lessons": "Ask for the disclosure list per lot.",
}


def test_record_from_the_item_page(client, auth, member, make_item):
    item = make_item(kind="clause")
    auth.login(member)
    response = client.post(f"/baskets/items/{item.id}/uses", data=GOOD, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Use recorded" in page
    tree = html.fromstring(response.data)
    section = tree.xpath('//section[@id="uses"]')[0].text_content()
    assert "City of Ghent" in section and "Ask for the disclosure list per lot." in section
    assert "(1)" in section and "4 bids" in section and "Mia Member" in section
    assert client.get(f"/api/v1/library/{item.id}").get_json()["uses_count"] == 1


def test_bad_input_is_refused_on_the_field_and_kept(client, auth, member, make_item):
    item = make_item(kind="clause")
    auth.login(member)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = client.post(f"/baskets/items/{item.id}/uses",
                           data={**GOOD, "use-used_on": tomorrow})
    assert response.status_code == 400
    tree = html.fromstring(response.data)
    error = tree.xpath('//*[@id="use-used_on-error"]')[0].text_content()
    assert "cannot be in the future" in error
    assert tree.xpath('//input[@name="use-tender_title"]/@value') == ["Smartphones 2020"]
    response = client.post(f"/baskets/items/{item.id}/uses",
                           data={**GOOD, "use-bids_received": "-3"})
    tree = html.fromstring(response.data)
    assert "negative" in tree.xpath('//*[@id="use-bids_received-error"]')[0].text_content()
    # (a browser drops the newline that opens a textarea)
    assert [t.strip() for t in tree.xpath('//textarea[@name="use-lessons"]/text()')] == [
        "Ask for the disclosure list per lot."]
    assert db.session.scalar(db.select(db.func.count(ClauseUse.id))) == 0


def test_record_for_a_whole_basket(client, auth, member, make_item):
    items = [make_item(title=f"Clause {n}", kind="clause") for n in range(3)]
    basket = service.create_basket(member, "Used")
    for item in items:
        service.add_item(member, basket, item.id)
    db.session.commit()
    auth.login(member)
    response = client.post(f"/baskets/{basket.id}/uses", data=GOOD, follow_redirects=True)
    assert "Use recorded for 3 items" in response.get_data(as_text=True)
    assert {u.item_id for u in db.session.scalars(db.select(ClauseUse))} == {i.id for i in items}


def test_api_records_a_use(client, member, bearer, make_item):
    item = make_item(kind="clause")
    headers = bearer(member)
    body = {"contracting_authority": "Flemish Agency for Facility Operations",
            "tender_title": "ICT hardware framework", "date": "2021-05-10",
            "bids_received": 3, "outcome": "awarded", "lessons": "Pass requests to the OEM."}
    response = client.post(f"/api/v1/library/{item.id}/uses", json=body, headers=headers)
    assert response.status_code == 201 and response.get_json()["bids_received"] == 3
    bad = client.post(f"/api/v1/library/{item.id}/uses", json={**body, "bids_received": -1},
                      headers=headers)
    assert bad.status_code == 400 and "bids_received" in bad.get_json()["error"]["fields"]
    future = client.post(f"/api/v1/library/{item.id}/uses",
                         json={**body, "date": "2999-01-01"}, headers=headers)
    assert future.status_code == 400 and "used_on" in future.get_json()["error"]["fields"]
    assert client.post("/api/v1/library/123456789/uses", json=body,
                       headers=headers).status_code == 404
    assert client.post(f"/api/v1/library/{item.id}/uses", json=body).status_code == 401


def test_organisers_hide_a_use_with_a_reason(client, auth, member, organiser, make_item):
    item = make_item(kind="clause")
    use = service.record_use(member, item, service.UseData(
        contracting_authority="Spam Ltd", tender_title="Buy our stuff", used_on=date(2024, 1, 1)))
    db.session.commit()
    auth.login(member)
    assert client.post(f"/baskets/items/{item.id}/uses/{use.id}/hide",
                       data={"hide-reason": "x"}).status_code == 403
    auth.logout()
    auth.login(organiser)
    client.post(f"/baskets/items/{item.id}/uses/{use.id}/hide",
                data={"hide-reason": "Advertising, not a tender"})
    db.session.refresh(use)
    assert use.is_hidden and use.hidden_reason == "Advertising, not a tender"
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == AuditAction.use_hidden)).one()
    assert entry.actor_id == organiser.id and entry.details["reason"] == use.hidden_reason
    auth.logout()
    section = html.fromstring(client.get(f"/library/{item.id}").data).xpath(
        '//section[@id="uses"]')[0].text_content()
    assert "Spam Ltd" not in section and "(0)" in section


def test_most_used_sort_and_a_mild_boost(client, member, make_item):
    items = [make_item(title=f"Laptop clause {n}", kind="clause",
                       body="Laptop clause text.") for n in range(3)]
    for count, item in zip((0, 3, 1), items, strict=True):
        for _ in range(count):
            service.record_use(member, item, service.UseData(
                contracting_authority="City", tender_title="Laptops", used_on=date(2024, 1, 1)))
    db.session.commit()
    body = client.get("/api/v1/library?q=laptop&sort=most_used").get_json()
    assert body["sort"] == "most_used"
    assert [i["title"] for i in body["items"]] == [
        "Laptop clause 1", "Laptop clause 2", "Laptop clause 0"]
    page = html.fromstring(client.get("/library?q=laptop").data)
    assert "most_used" in page.xpath('//select[@name="sort"]/option/@value')
    assert client.get("/library?sort=most_used&page=999").status_code == 200


def test_the_boost_is_mild_and_only_for_library_hits(app, monkeypatch):
    from buyergroup.library import browse
    from buyergroup.search.types import SearchHit, SearchResults

    hits = [SearchHit(1, "library_item:1", "en", 1.00), SearchHit(2, "library_item:2", "en", 0.95),
            SearchHit(3, "library_item:3", "en", 0.50), SearchHit(2, "discussion:2", "en", 0.97)]
    monkeypatch.setattr(browse, "RANK_BOOSTS", [lambda ids: {2: 0.1, 3: 0.1}])
    results = SearchResults(hits=list(hits), total=4, page=1, per_page=20)
    browse._boost(results)
    # Item 2 (0.95 * 1.1) passes item 1; item 3 stays last; the discussion is not boosted.
    assert [h.ref for h in results.hits] == [
        "library_item:2", "library_item:1", "discussion:2", "library_item:3"]
