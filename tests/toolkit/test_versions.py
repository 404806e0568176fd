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
