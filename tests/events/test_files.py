"""Files of materials follow the transaction: a file is deleted from disk only once its row's
removal is committed, and a file stored for a request that then rolls back is discarded."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from buyergroup.errors import ValidationFailed
from buyergroup.events import storage
from buyergroup.events.models import EventMaterial
from buyergroup.extensions import db


def stored_files() -> list[str]:
    folder = storage.folder()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def upload(client, event, name="slides.md"):
    return client.post(f"/events/{event.id}/materials/new", data={
        "title": "Slides", "visibility": "participants", "agenda_item_id": "",
        "file": (io.BytesIO(b"# Slides\n\nRepairability scores."), name),
    }, content_type="multipart/form-data")


def test_deleting_a_material_removes_its_file_after_the_commit(client, auth, make_event,
                                                               organiser):
    event = make_event()
    auth.login(organiser)
    before = stored_files()
    assert upload(client, event).status_code == 302
    material = db.session.scalar(select(EventMaterial))
    assert material.stored_name in stored_files()

    response = client.post(f"/events/{event.id}/materials/{material.id}/delete")

    assert response.status_code == 302
    assert stored_files() == before
    db.session.expire_all()
    assert db.session.scalar(select(EventMaterial)) is None


def test_a_refused_material_leaves_no_file_behind(client, auth, make_event, organiser,
                                                  monkeypatch):
    from buyergroup.events import service

    def refuse(*args, **kwargs):
        raise ValidationFailed("Refused after the file was stored.", field="title")

    monkeypatch.setattr(service, "add_material", refuse)
    event = make_event()
    auth.login(organiser)
    before = stored_files()

    response = upload(client, event)

    assert response.status_code == 200
    assert "Refused after the file was stored." in response.get_data(as_text=True)
    assert stored_files() == before


@pytest.mark.committing  # the text is read after the response, in its own app context
def test_an_uploaded_files_text_is_read_after_the_response(client, auth, make_event,
                                                          organiser):
    from buyergroup.library.models import ExtractionState

    event = make_event()
    auth.login(organiser)
    response = upload(client, event)
    assert response.status_code == 302
    response.close()  # as a server does once the response has gone out
    db.session.expire_all()
    material = db.session.scalar(select(EventMaterial))
    # The library's reader read it once the response had gone: the search can index it.
    assert material.extraction_state is ExtractionState.done
    assert "Repairability scores." in material.extracted_text


def test_a_file_whose_text_could_not_be_read_is_named_to_its_organisers(
    client, auth, make_event, organiser, make_member
):
    from buyergroup.events.models import MaterialVisibility
    from buyergroup.library.models import ExtractionState

    event = make_event()
    auth.login(organiser)
    upload(client, event).close()
    material = db.session.scalar(select(EventMaterial))
    material.visibility = MaterialVisibility.members
    material.extraction_state = ExtractionState.failed
    db.session.commit()
    warning = "The text of this file could not be read, so the site search does not find it."
    assert warning in client.get(f"/events/{event.id}").get_data(as_text=True)
    material.extraction_state = ExtractionState.done
    db.session.commit()
    assert warning not in client.get(f"/events/{event.id}").get_data(as_text=True)
    material.extraction_state = ExtractionState.failed
    db.session.commit()
    auth.logout()
    auth.login(make_member())
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Slides" in page and warning not in page  # the file is listed, the warning is not
