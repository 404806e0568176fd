"""Version notes the site writes are stored as codes and read in the reader's language."""

from __future__ import annotations

import lxml.html
from sqlalchemy import select

from buyergroup.extensions import db
from buyergroup.library import service
from buyergroup.library.models import ItemVersion


def history_notes(client, item_id: int, language: str) -> list[str]:
    client.post("/language", data={"language": language, "next": "/"})
    page = lxml.html.fromstring(client.get(f"/library/{item_id}").get_data(as_text=True))
    return [" ".join(td.text_content().split()) for td in page.xpath("//table//td")]


def test_a_note_written_by_a_dutch_organiser_reads_in_each_readers_language(
    app, client, make_user, organiser
):
    from flask_babel import force_locale

    dutch = make_user("joke@example.org", role="organiser", name="Joke", locale="nl")
    with force_locale("nl"):  # the editor's request language, as on their own page
        item = service.create_item(dutch, kind="criterion", title="Fair laptops",
                                   language="en", summary="Labour rights.",
                                   body="Criterion text.", visibility="public")
        service.publish(dutch, item)
    db.session.commit()
    notes = [v.note for v in db.session.scalars(
        select(ItemVersion).where(ItemVersion.item_id == item.id))]
    assert "code:published" in notes and "Gepubliceerd" not in notes
    assert any("Published" in cell for cell in history_notes(client, item.id, "en"))
    assert not any("Gepubliceerd" in cell for cell in history_notes(client, item.id, "en"))
