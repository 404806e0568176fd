"""Versions compared word by word and restored; an item beside its translation."""

from __future__ import annotations

from lxml import html

from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.toolkit import versions


def test_word_diff():
    diff = versions.word_diff("The bidder shall disclose sites.",
                              "The contractor shall disclose all sites.")
    assert str(diff) == ("The <del>bidder</del><ins>contractor</ins> shall disclose "
                         "<ins>all </ins>sites.")
    assert "<script>" not in str(versions.word_diff("", "<script>x</script>"))


def test_compare_page_and_restore(client, auth, organiser, make_item):
    item = make_item(title="Clause", body="The bidder shall disclose sites.")
    library_service.update_item(organiser, item, body="The contractor shall disclose sites.",
                                note="Wording")
    db.session.commit()
    numbers = [v.number for v in library_service.visible_versions(item, None)]
    page = html.fromstring(client.get(f"/library/{item.id}").data)
    link = page.xpath('//a[text()="Compare with the version before"]/@href')[0]
    compare = html.fromstring(client.get(link).data)
    assert compare.xpath("//del/text()") == ["bidder"]
    assert compare.xpath("//ins/text()") == ["contractor"]
    assert not compare.xpath('//form[contains(@action, "/restore")]')  # visitors do not
    assert client.get(f"/library/{item.id}/compare?from=99").status_code == 404
    auth.login(organiser)
    oldest = min(numbers)
    client.post(f"/library/{item.id}/versions/{oldest}/restore")
    db.session.refresh(item)
    assert item.body == "The bidder shall disclose sites."
    newest = library_service.visible_versions(item, organiser)[0]
    assert newest.number == max(numbers) + 1 and "Restored version" in newest.note_text


def test_members_who_may_not_edit_cannot_restore(client, auth, member, make_user, make_item):
    item = make_item(author=make_user("author@example.org"), body="Original.")
    auth.login(member)
    assert client.post(f"/library/{item.id}/versions/1/restore").status_code == 403


def test_side_by_side(client, member, organiser, make_item):
    item = make_item(title="Clause", body="## Text\n\nFirst paragraph.\n\nSecond paragraph.")
    translation = library_service.add_translation(
        member, item, title="Clausule", language="nl",
        body="## Tekst\n\nEerste alinea.\n\nTweede alinea.")
    library_service.publish(organiser, translation)
    db.session.commit()
    page = html.fromstring(client.get(f"/library/{item.id}/side-by-side").data)
    rows = [[td.text_content().strip() for td in tr.xpath("td")]
            for tr in page.xpath("//tbody/tr")]
    assert rows == [["Text", "Tekst"], ["First paragraph.", "Eerste alinea."],
                    ["Second paragraph.", "Tweede alinea."]]
    assert client.get(f"/library/{item.id}/side-by-side?with=999999").status_code == 404


def test_restoring_the_current_text_saves_nothing_and_says_so(client, auth, organiser,
                                                             make_item):
    item = make_item(title="Clause", body="The bidder shall disclose sites.")
    numbers = [v.number for v in library_service.visible_versions(item, organiser)]
    auth.login(organiser)
    response = client.post(f"/library/{item.id}/versions/{max(numbers)}/restore",
                           follow_redirects=True)
    assert "is the current text already: nothing to restore" in response.get_data(as_text=True)
    assert [v.number for v in library_service.visible_versions(item, organiser)] == numbers


# --- Who may restore: authors restore published texts of a published item ------------------


def _restore_buttons(client, item) -> list[str]:
    page = html.fromstring(client.get(f"/library/{item.id}").data)
    return page.xpath('//section[@id="history"]//form[contains(@action, "/restore")]/@action')


def test_an_author_restores_a_published_text_of_a_published_item(client, auth, member,
                                                                 organiser, make_item):
    item = make_item(author=member, title="Clause", body="The bidder shall disclose sites.")
    library_service.update_item(organiser, item, body="The bidder may disclose sites.",
                                note="Softer")
    db.session.commit()
    published_before = max(v.number for v in item.versions) - 1
    auth.login(member)
    # The history offers the published text (once, not also the draft it was published as).
    assert _restore_buttons(client, item) == [
        f"/library/{item.id}/versions/{published_before}/restore"]
    compare = html.fromstring(client.get(
        f"/library/{item.id}/compare?from={published_before}").data)
    assert compare.xpath('//form[contains(@action, "/restore")]')
    response = client.post(f"/library/{item.id}/versions/{published_before}/restore",
                           follow_redirects=True)
    assert f"Version {published_before} restored as a new version." in response.get_data(
        as_text=True)
    db.session.refresh(item)
    newest = library_service.visible_versions(item, None)[0]  # visitors see it: published
    assert item.body == "The bidder shall disclose sites." and item.is_published
    assert newest.editor_id == member.id and "Restored version" in newest.note_text
    assert _restore_buttons(client, item) == [
        f"/library/{item.id}/versions/{newest.number - 1}/restore"]  # the organiser's text


def test_an_author_cannot_restore_a_text_that_was_never_published(client, auth, member,
                                                                   organiser, make_item):
    item = make_item(author=member, status="draft", title="Clause", body="First draft.")
    library_service.update_item(member, item, body="Second draft.")
    library_service.submit(member, item)
    library_service.publish(organiser, item)
    db.session.commit()
    auth.login(member)
    assert _restore_buttons(client, item) == []  # the first draft never passed review
    response = client.post(f"/library/{item.id}/versions/1/restore")
    assert response.status_code == 403
    assert "was never published, so restoring it would skip the review" in response.get_data(
        as_text=True)
    db.session.refresh(item)
    assert item.body == "Second draft."
    # An organiser may: the history offers it to them.
    auth.logout()
    auth.login(organiser)
    assert f"/library/{item.id}/versions/1/restore" in _restore_buttons(client, item)
    client.post(f"/library/{item.id}/versions/1/restore")
    db.session.refresh(item)
    assert item.body == "First draft." and item.is_published


def test_other_members_see_no_restore_and_are_refused(client, auth, member, make_user,
                                                      organiser, make_item):
    author = make_user("author@example.org")
    item = make_item(author=author, body="Original.")
    library_service.update_item(organiser, item, body="Changed.")
    db.session.commit()
    auth.login(member)
    assert _restore_buttons(client, item) == []
    number = max(v.number for v in item.versions) - 1
    assert client.post(f"/library/{item.id}/versions/{number}/restore").status_code == 403
    db.session.refresh(item)
    assert item.body == "Changed."


# --- Legal variants: named on the item page, shown side by side ---------------------------


def test_an_item_names_its_legal_variants_and_shows_one_side_by_side(client, make_item):
    from buyergroup.library.models import ItemRelation

    belgian = make_item(title="EW clause (Belgian law)", kind="clause",
                        phase="contract_performance_clause", countries=["BE"],
                        legal_system="Wet van 17 juni 2016", body="## Doel\n\nOpenheid.")
    dutch = make_item(title="EW clause (Dutch law)", kind="clause",
                      phase="contract_performance_clause", countries=["NL"],
                      legal_system="Aanbestedingswet 2012", body="## Doel\n\nOpenheid, NL.")
    db.session.add_all([ItemRelation(item_id=belgian.id, related_id=dutch.id),
                        ItemRelation(item_id=dutch.id, related_id=belgian.id)])
    db.session.commit()
    page = html.fromstring(client.get(f"/library/{belgian.id}").data)
    section = page.xpath('//section[@id="legal-variants"]')[0]
    assert section.xpath(".//a/@href")[:2] == [
        f"/library/{dutch.id}", f"/library/{belgian.id}/side-by-side?with={dutch.id}"]
    assert "Aanbestedingswet 2012" in section.text_content()
    assert "Netherlands" in section.text_content()
    side = html.fromstring(client.get(f"/library/{belgian.id}/side-by-side").data)
    rows = [[td.text_content().strip() for td in tr.xpath("td")]
            for tr in side.xpath("//tbody/tr")]
    assert rows == [["Doel", "Doel"], ["Openheid.", "Openheid, NL."]]
    assert "Legal variant · Aanbestedingswet 2012" in side.xpath("//thead/tr/th")[1].text_content()
    # And back: the Dutch text beside the Belgian one.
    back = html.fromstring(client.get(f"/library/{dutch.id}/side-by-side").data)
    assert "Wet van 17 juni 2016" in back.xpath("//thead/tr/th")[1].text_content()
