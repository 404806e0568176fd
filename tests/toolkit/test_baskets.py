"""Tender baskets: adding, procurement order, reordering, notes, variants, sharing, the API."""

from __future__ import annotations

import pytest
from lxml import html

from buyergroup.errors import AlreadyExists, NotAllowed, NotFound, ValidationFailed
from buyergroup.extensions import db
from buyergroup.library.models import ItemStatus
from buyergroup.toolkit import service
from buyergroup.toolkit.models import Basket
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def criteria(make_item):
    """Five criteria, one per phase, created in the reverse of procurement order."""
    phases = ["contract_performance_clause", "award_criterion", "technical_specification",
              "selection", "exclusion"]
    return {
        phase: make_item(title=f"Criterion for {phase}", kind="criterion", phase=phase)
        for phase in phases
    }


def titles(view) -> list[list[str]]:
    return [[e.item.title for e in s.entries] for s in view.sections]


class TestService:
    def test_items_come_out_in_procurement_order(self, member, criteria):
        basket = service.create_basket(member, "Laptops 2027 – framework agreement")
        for item in criteria.values():
            service.add_item(member, basket, item.id)
        view = service.view_of(basket, member)
        assert [s.phase.value for s in view.sections] == [
            "exclusion", "selection", "technical_specification", "award_criterion",
            "contract_performance_clause"]

    def test_reorder_within_a_phase(self, member, make_item):
        a, b, c = (make_item(title=t, kind="criterion", phase="award_criterion")
                   for t in ("A", "B", "C"))
        basket = service.create_basket(member, "Order")
        for item in (a, b, c):
            service.add_item(member, basket, item.id)
        service.move_entry(member, basket, service.entry_for_item(basket, c.id), "up")
        assert titles(service.view_of(basket, member)) == [["A", "C", "B"]]
        service.move_entry(member, basket, service.entry_for_item(basket, a.id), "down")
        assert titles(service.view_of(basket, member)) == [["C", "A", "B"]]
        service.move_entry(member, basket, service.entry_for_item(basket, c.id), "up")  # first
        assert titles(service.view_of(basket, member)) == [["C", "A", "B"]]

    def test_bad_names_are_refused_on_the_field(self, member):
        service.create_basket(member, "Screens")
        for name, message in (("screens", "already"), ("x" * 121, "too long"), ("  ", "name")):
            with pytest.raises((ValidationFailed, AlreadyExists)) as refused:
                service.create_basket(member, name)
            assert refused.value.field == "name" and message in str(refused.value.message)

    def test_items_the_member_cannot_see_are_not_found(self, member, make_user, make_item):
        stranger = make_user("stranger@example.org")
        draft = make_item(author=stranger, status="draft")
        report = make_item(kind="report")
        basket = service.create_basket(member, "Mine")
        for bad in (draft.id, 10**12, -1, "abc", None):
            with pytest.raises(NotFound):
                service.add_item(member, basket, bad)
        with pytest.raises(ValidationFailed):
            service.add_item(member, basket, report.id)
        clause = make_item()
        service.add_item(member, basket, clause.id)
        with pytest.raises(AlreadyExists):
            service.add_item(member, basket, clause.id)

    def test_archived_items_are_reported_not_exported(self, member, organiser, make_item):
        kept, gone = make_item(title="Kept"), make_item(title="Gone")
        basket = service.create_basket(member, "Archive")
        service.add_item(member, basket, kept.id)
        service.add_item(member, basket, gone.id)
        gone.status = ItemStatus.archived  # the library has no archiving service yet
        db.session.flush()
        view = service.view_of(basket, member)
        assert [e.item.title for e in view.exportable] == ["Kept"]
        assert [e.item.title for e in view.unavailable] == ["Gone"]


class TestSharing:
    def test_private_by_default(self, member, make_user, make_organisation):
        colleague = make_user("colleague@example.org", organisation=member.organisation)
        basket = service.create_basket(member, "Private")
        with pytest.raises(NotFound):
            service.get_basket(basket.id, colleague)
        assert service.baskets_for(colleague) == []

    def test_shared_with_the_organisation_read_only(self, member, make_user, make_item):
        colleague = make_user("colleague@example.org", organisation=member.organisation)
        outsider = make_user("outsider@example.org")
        basket = service.create_basket(member, "Shared")
        service.update_basket(member, basket, share="organisation")
        assert service.get_basket(basket.id, colleague) is basket
        with pytest.raises(NotAllowed):
            service.get_basket(basket.id, colleague, edit=True)
        with pytest.raises(NotAllowed):
            service.add_item(colleague, basket, make_item().id)
        with pytest.raises(NotAllowed):
            service.update_basket(colleague, basket, name="Taken over")
        with pytest.raises(NotFound):
            service.get_basket(basket.id, outsider)

    def test_shared_with_a_group_editable(self, member, group_with_member, make_item):
        group, insider = group_with_member
        from buyergroup.network.service import add_member

        with pytest.raises(ValidationFailed):  # the owner must belong to the group
            service.update_basket(member, service.create_basket(member, "G"), share="group",
                                  group=group)
        add_member(group, member)
        basket = service.create_basket(member, "Group basket")
        service.update_basket(member, basket, share="group", group=group, editable=True)
        service.add_item(insider, basket, make_item().id)
        assert len(basket.entries) == 1
        assert [b.name for b in service.baskets_for(insider)] == ["Group basket"]


class TestPages:
    def test_add_from_the_item_page_to_a_new_basket(self, client, auth, member, make_item):
        item = make_item(kind="criterion", phase="award_criterion", title="Repairability")
        auth.login(member)
        page = html.fromstring(client.get(f"/library/{item.id}").data)
        form = page.xpath('//form[@action="/baskets/add"]')[0]
        data = {i.name: i.value or "" for i in form.xpath(".//input") if i.name}
        data[f"add{item.id}-basket_id"] = ""
        data[f"add{item.id}-new_basket"] = "Laptops 2027"
        response = client.post("/baskets/add", data=data, follow_redirects=True)
        assert "is now in the basket" in response.get_data(as_text=True)
        basket = db.session.scalar(db.select(Basket))
        assert basket.name == "Laptops 2027" and basket.entries[0].item_id == item.id

    def test_basket_page_works_without_javascript(self, client, auth, member, make_item):
        a = make_item(title="First", kind="criterion", phase="selection")
        b = make_item(title="Second", kind="criterion", phase="selection")
        basket = service.create_basket(member, "Page")
        service.add_item(member, basket, a.id)
        service.add_item(member, basket, b.id)
        db.session.commit()
        auth.login(member)
        page = html.fromstring(client.get(f"/baskets/{basket.id}").data)
        assert page.xpath("//h2/text()")[0].strip() == "Selection criterion"
        entry = service.entry_for_item(basket, b.id)
        client.post(f"/baskets/{basket.id}/entries/{entry.id}/move", data={"direction": "up"})
        client.post(f"/baskets/{basket.id}/entries/{entry.id}/note",
                    data={f"note{entry.id}-note": "Weight 20 %"})
        page = html.fromstring(client.get(f"/baskets/{basket.id}").data)
        assert [h.text_content() for h in page.xpath("//li[@class='basket-entry']/h3")] == [
            "Second", "First"]
        assert "Weight 20 %" in page.xpath("//textarea/text()")

    def test_search_on_the_basket_page_adds(self, client, auth, member, make_item):
        item = make_item(title="Conflict minerals due diligence", kind="clause",
                         body="Tin, tantalum, tungsten and gold.")
        basket = service.create_basket(member, "Minerals")
        db.session.commit()
        auth.login(member)
        page = html.fromstring(client.get(f"/baskets/{basket.id}?q=tantalum").data)
        form = page.xpath('//form[@action="/baskets/add"]')[0]
        data = {i.name: i.value for i in form.xpath(".//input") if i.name}
        client.post("/baskets/add", data=data)
        assert [e.item_id for e in basket.entries] == [item.id]

    def test_add_from_the_library_results(self, client, auth, member, make_user, make_item):
        """Each clause in the results has a menu of the baskets the reader may change and a
        button tied to a form of its own; what a browser sends from them adds the item."""
        clause = make_item(title="Conflict minerals clause", kind="clause")
        report = make_item(title="Final report", kind="report")
        mine = service.create_basket(member, "Minerals")
        service.create_basket(member, "Laptops")
        owner = make_user("colleague@example.org", organisation=member.organisation)
        shared = service.create_basket(owner, "Read only for colleagues")
        service.update_basket(owner, shared, share="organisation")
        db.session.commit()
        auth.login(member)
        page = html.fromstring(client.get("/library?sort=title").data)
        menu = page.get_element_by_id(f"add{clause.id}-basket_id")
        assert [o.text for o in menu.xpath("option")] == ["Laptops", "Minerals", "A new basket"]
        assert menu.xpath("option[@selected]/text()") == ["Laptops"]
        assert page.xpath(f'//label[@for="add{clause.id}-basket_id"]/text()') == [
            "Basket for “Conflict minerals clause”"]
        assert not page.xpath(f'//*[@id="add{report.id}-basket_id"]')  # not a clause
        form = page.get_element_by_id(f"basket-add-{clause.id}")
        assert page.xpath(f'//button[@form="basket-add-{clause.id}"]')
        data = {i.name: i.value for i in form.xpath(".//input")}
        data[menu.name] = str(mine.id)
        response = client.post(form.action, data=data)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/library?sort=title")
        assert [e.item_id for e in mine.entries] == [clause.id]

    def test_settings_errors_keep_what_was_typed(self, client, auth, member):
        service.create_basket(member, "Taken")
        basket = service.create_basket(member, "Mine")
        db.session.commit()
        auth.login(member)
        response = client.post(f"/baskets/{basket.id}/settings", data={
            "settings-name": "taken", "settings-language": "nl", "settings-share": "private"})
        assert response.status_code == 400
        page = html.fromstring(response.data)
        assert page.xpath('//input[@name="settings-name"]/@value') == ["taken"]
        assert "already have a basket" in page.text_content()

    def test_other_members_get_404(self, client, auth, member, make_user):
        basket = service.create_basket(member, "Mine")
        db.session.commit()
        auth.login(make_user("other@example.org"))
        assert client.get(f"/baskets/{basket.id}").status_code == 404
        assert client.get(f"/baskets/{basket.id}/export?format=docx").status_code == 404
        assert client.get("/baskets/99999999999").status_code == 404


class TestApi:
    def test_create_add_remove_and_delete(self, client, member, bearer, make_item):
        headers = bearer(member)
        item = make_item(kind="criterion", phase="award_criterion")
        created = client.post("/api/v1/baskets", json={"name": "API basket", "language": "fr"},
                              headers=headers)
        assert created.status_code == 201
        basket_id = created.get_json()["id"]
        duplicate = client.post("/api/v1/baskets", json={"name": "api basket"}, headers=headers)
        assert duplicate.status_code == 409 and "name" in duplicate.get_json()["error"]["fields"]
        long = client.post("/api/v1/baskets", json={"name": "x" * 200}, headers=headers)
        assert long.status_code == 400
        added = client.post(f"/api/v1/baskets/{basket_id}/items", json={"item_id": item.id},
                            headers=headers)
        assert added.status_code == 201 and added.get_json()["items"][0]["item_id"] == item.id
        for bad in (10**15, 0, "x", None):
            response = client.post(f"/api/v1/baskets/{basket_id}/items", json={"item_id": bad},
                                   headers=headers)
            assert response.status_code in (400, 404)
        assert client.post(f"/api/v1/baskets/{basket_id}/items", json={"item_id": 987654},
                           headers=headers).status_code == 404
        listing = client.get("/api/v1/baskets", headers=headers).get_json()
        assert [b["name"] for b in listing["items"]] == ["API basket"]
        patched = client.patch(f"/api/v1/baskets/{basket_id}", json={"share": "organisation"},
                               headers=headers)
        assert patched.get_json()["share"] == "organisation"
        assert client.delete(f"/api/v1/baskets/{basket_id}/items/{item.id}",
                             headers=headers).status_code == 204
        assert client.delete(f"/api/v1/baskets/{basket_id}", headers=headers).status_code == 204
        assert client.get(f"/api/v1/baskets/{basket_id}", headers=headers).status_code == 404

    def test_other_members_cannot_reach_a_private_basket(self, client, member, make_user,
                                                          bearer):
        basket = service.create_basket(member, "Private")
        db.session.commit()
        other = bearer(make_user("other@example.org"))
        assert client.get(f"/api/v1/baskets/{basket.id}", headers=other).status_code == 404
        assert client.delete(f"/api/v1/baskets/{basket.id}", headers=other).status_code == 404
        assert client.get("/api/v1/baskets").status_code == 401


def form_data(form) -> dict:
    data = {i.name: i.value or "" for i in form.xpath(".//input") if i.name}
    for select in form.xpath(".//select"):
        chosen = select.xpath("./option[@selected]/@value") or select.xpath("./option/@value")
        data[select.name] = chosen[0] if chosen else ""
    return data


def test_forms_work_with_csrf_protection_on(app, client, auth, member, make_item):
    """The site runs with CSRF protection: every toolkit form carries a token it accepts."""
    a = make_item(title="First", kind="criterion", phase="selection")
    b = make_item(title="Second", kind="criterion", phase="selection")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = html.fromstring(client.get("/login").data)
        token = page.xpath('//input[@name="csrf_token"]/@value')[0]
        client.post("/login", data={"email": member.email, "password": TEST_PASSWORD,
                                    "csrf_token": token})
        assert client.get("/baskets").status_code == 200
        for item in (a, b):
            page = html.fromstring(client.get(f"/library/{item.id}").data)
            form = page.xpath('//form[@action="/baskets/add"]')[0]
            response = client.post("/baskets/add", data=form_data(form))
            assert response.status_code == 302
        basket = db.session.scalar(db.select(Basket))
        assert [e.item_id for e in basket.entries] == [a.id, b.id]
        page = html.fromstring(client.get(f"/baskets/{basket.id}").data)
        move = page.xpath('//form[contains(@action, "/move")]')[0]
        client.post(move.get("action"), data=form_data(move))
        note = page.xpath('//form[contains(@action, "/note")]')[0]
        data = form_data(note)
        data[note.xpath(".//textarea/@name")[0]] = "Checked"
        client.post(note.get("action"), data=data)
        db.session.refresh(basket)
        assert any(e.note == "Checked" for e in basket.entries)
        assert [e.item.title for e in service.ordered_entries(basket)] == ["Second", "First"]
        remove = html.fromstring(client.get(f"/baskets/{basket.id}").data).xpath(
            '//form[contains(@action, "/remove")]')[0]
        client.post(remove.get("action"), data=form_data(remove))
        db.session.refresh(basket)
        assert len(basket.entries) == 1
        assert client.post(remove.get("action"), data={}).status_code == 400  # no token
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_national_legal_variant_replaces_the_clause(member, make_item):
    from buyergroup.library.models import ItemRelation
    from buyergroup.toolkit import exports

    eu = make_item(title="Living wage clause (EU)", kind="clause",
                   phase="contract_performance_clause", legal_system="Directive 2014/24/EU",
                   countries=["NL"], body="1. Pay a living wage.")
    belgian = make_item(title="Living wage clause (Belgium)", kind="clause",
                        phase="contract_performance_clause",
                        legal_system="Belgian law of 17 June 2016", countries=["BE"],
                        body="1. Pay a living wage under Belgian law.")
    neighbour = make_item(title="Same law, other article", kind="clause",
                          phase="contract_performance_clause", countries=["NL"],
                          legal_system="Directive 2014/24/EU, art. 18")
    for other in (belgian, neighbour):
        db.session.add_all([ItemRelation(item_id=eu.id, related_id=other.id),
                            ItemRelation(item_id=other.id, related_id=eu.id)])
    db.session.commit()
    assert service.legal_variants(eu, member) == [belgian]
    basket = service.create_basket(member, "Variants")
    entry = service.add_item(member, basket, eu.id)
    with pytest.raises(ValidationFailed):
        service.set_variant(member, basket, entry, neighbour.id)
    service.set_variant(member, basket, entry, belgian.id)
    annex = exports.build_annex(basket, member, "en")
    item = annex.sections[0].items[0]
    assert item.title == "Living wage clause (Belgium)"
    assert item.blocks[0].text == "Pay a living wage under Belgian law."


def test_api_answers_match_the_openapi_schemas(client, member, bearer, make_item):
    from jsonschema import Draft202012Validator, FormatChecker

    from buyergroup.api.openapi import build_openapi

    document = build_openapi()

    def check(name: str, body: dict) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(body)

    headers = bearer(member)
    item = make_item(kind="criterion", phase="award_criterion", ambition="2",
                     ambition_scheme="se_nap")
    basket = client.post("/api/v1/baskets", json={"name": "Schema"}, headers=headers).get_json()
    check("Basket", client.post(f"/api/v1/baskets/{basket['id']}/items",
                                json={"item_id": item.id}, headers=headers).get_json())
    check("BasketList", client.get("/api/v1/baskets", headers=headers).get_json())
    check("LabelList", client.get("/api/v1/labels").get_json())
    body = client.get(f"/api/v1/library/{item.id}").get_json()
    check("LibraryItem", body)
    assert {"ambition", "ambition_scheme", "labels", "stale_labels", "uses_count"} <= set(body)
    assert (body["ambition"], body["ambition_scheme"], body["uses_count"]) == (2, "se_nap", 0)


@pytest.mark.parametrize("path", [
    "/baskets/{n}", "/baskets/{n}/export", "/baskets/items/{n}/uses", "/library/{n}/compare",
    "/library/{n}/side-by-side", "/labels/items/{n}/citations",
])
def test_any_number_in_a_path_is_a_404(client, auth, member, path):
    auth.login(member)
    for n in (0, 2**31, 10**20):
        assert client.get(path.format(n=n)).status_code == 404


def test_any_number_in_an_api_path_is_a_404(client, member, bearer):
    headers = bearer(member)
    for n in (2**31, 10**20):
        assert client.get(f"/api/v1/baskets/{n}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/library/{n}/uses", json={}, headers=headers
                           ).status_code == 404
        assert client.delete(f"/api/v1/baskets/{n}/items/{n}", headers=headers
                             ).status_code == 404


def test_the_item_page_asks_as_many_questions_for_one_basket_as_for_four(
    client, auth, member, criteria
):
    # The page shows which of the reader's baskets hold the item and offers to add it to
    # the others: the baskets and their entries are looked up once, not once per basket.
    from tests.queries import count_for

    item = criteria["award_criterion"]
    auth.login(member)
    first = service.create_basket(member, "Laptops 2027")
    service.add_item(member, first, item.id)
    db.session.commit()
    with_one = count_for(client, f"/library/{item.id}")
    for name in ("Servers 2027", "Screens 2028", "Phones 2028"):
        service.add_item(member, service.create_basket(member, name), item.id)
    db.session.commit()
    page = client.get(f"/library/{item.id}").get_data(as_text=True)
    assert "Phones 2028" in page  # the page does list the baskets that hold it
    assert count_for(client, f"/library/{item.id}") == with_one


def test_a_basket_page_asks_only_for_what_its_reader_is_shown(
    client, auth, member, make_user, make_item, group_with_member
):
    """The authors of its unpublished entries only (their only readers; a published item's
    follow its visibility), all in one statement; the groups for the settings only for the
    basket's manager, who alone sees the settings."""
    from buyergroup.network.service import add_member
    from tests.queries import statements

    group, _insider = group_with_member
    colleague = make_user("colleague@example.org", organisation=member.organisation)
    add_member(group, colleague)
    add_member(group, member)
    basket = service.create_basket(member, "Shared")
    service.update_basket(member, basket, share="organisation")
    items = [make_item(title=f"Clause {n}") for n in range(3)]
    for item in items:
        service.add_item(member, basket, item.id)
    db.session.commit()

    def page_for(user) -> tuple[str, list[str]]:
        auth.login(user)
        url = f"/baskets/{basket.id}"
        client.get(url)
        with statements() as sent:
            page = client.get(url).get_data(as_text=True)
        client.post("/logout")
        return page, sent

    def asking(sent, table):  # the statements loading rows of ``table``
        return [s for s in sent if s.lstrip().startswith(f"SELECT {table}.")]

    page, sent = page_for(member)
    assert asking(sent, "library_item_authors") == []
    assert len(asking(sent, "working_groups")) == 1 and "Fair servers</option>" in page
    _page, sent = page_for(colleague)
    assert asking(sent, "library_item_authors") == asking(sent, "working_groups") == []

    for item in items[:2]:
        item.status = ItemStatus.archived  # the library has no archiving service yet
    db.session.commit()
    page, sent = page_for(member)
    assert len(asking(sent, "library_item_authors")) == 1
    assert "Clause 0 (Archived)" in page and "Clause 1 (Archived)" in page
    page, _sent = page_for(colleague)
    assert page.count("An item you can no longer see") == 2


def test_a_basket_shared_with_a_group_names_its_group_and_owner_within_8_statements(
    client, auth, member, make_user, make_item, group_with_member
):
    """The owner reads the group it is shared with, a group member who it is from: both
    come with the basket, not by a lazy load of their own."""
    from buyergroup.network.service import add_member
    from tests.queries import statements_for

    group, _insider = group_with_member
    colleague = make_user("colleague@example.org")
    add_member(group, colleague)
    add_member(group, member)
    basket = service.create_basket(member, "For the group")
    service.update_basket(member, basket, share="group", group=group)
    service.add_item(member, basket, make_item(title="Clause").id)
    db.session.commit()
    url = f"/baskets/{basket.id}"

    for reader, shown in ((member, group.name), (colleague, member.name)):
        auth.login(reader)
        sent = statements_for(client, url)
        assert shown in client.get(url).get_data(as_text=True)
        assert len(sent) <= 8, "\n".join(s[:120] for s in sent)
        # The reader's own account (the session's), and no group or account loaded alone.
        assert len([s for s in sent if s.lstrip().startswith("SELECT users.")]) == 1
        assert [s for s in sent
                if s.lstrip().startswith("SELECT working_groups.id, working_groups.slug")] == []
        client.post("/logout")
