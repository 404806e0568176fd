"""Event minutes and notes in the site search, on both backends (Whoosh and PostgreSQL).

Files attached to events (PDF, DOCX, ...) are read with the library's reader and found by
their words, for the material's audience. Participants-only material is found by the
event's registered participants, the group's organisers and administrators, and by nobody
else: not in the hits, not in the count, not in the facets. A cancelled registration takes
it out of that member's search.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from buyergroup.accounts.models import Role
from buyergroup.accounts.service import create_user
from buyergroup.events import extraction as event_extraction
from buyergroup.events import service as events
from buyergroup.events import storage as event_storage
from buyergroup.events.models import EventMaterial
from buyergroup.extensions import db
from buyergroup.library import browse
from buyergroup.library.models import ExtractionState
from buyergroup.library.permissions import audiences_for
from buyergroup.network.models import GroupRole
from buyergroup.network.service import add_member, save_group, set_member_role
from buyergroup.search.service import index_status, search
from buyergroup.search.types import SearchQuery
from tests.library.conftest import docx_bytes, pdf_bytes


def _user(email: str, name: str, role: Role = Role.member):
    return create_user(email=email, password="a long test password", role=role, name=name)


def _file(data: bytes, name: str):
    return event_storage.store_upload(io.BytesIO(data), name)


@pytest.fixture
def world(search_app):
    group = save_group(None, name="Fair servers buyers", languages=["en"], join_policy="open",
                       is_public=True)
    organiser = _user("org@example.org", "Olga Organiser")
    participant = _user("part@example.org", "Pia Participant")
    member = _user("member@example.org", "Mo Member")  # in the group, not registered
    admin = _user("admin@example.org", "Ada Admin", Role.admin)
    add_member(group, organiser, GroupRole.organiser)
    for person in (participant, member):
        add_member(group, person)
    db.session.commit()
    starts = datetime.now() + timedelta(days=3)
    workshop = events.create_event(None, group, events.EventData(
        title="Workshop 5", kind="workshop", mode="online", timezone="Europe/Brussels",
        language="en", starts_local=starts, ends_local=starts + timedelta(hours=2),
        video_url="", description="", capacity=None))
    events.register(participant, workshop, notify=False)
    minutes = events.add_material(
        organiser, workshop, title="Minutes", visibility="members", is_minutes=True,
        notify=False, stored=_file(docx_bytes("Present: eleven buyers.",
                                              "Agreed: a cobalt smelter audit"), "minutes.docx"))
    slides = events.add_material(organiser, workshop, title="Slides", visibility="public",
                                 notify=False, stored=_file(pdf_bytes(), "slides.pdf"))
    private = events.add_material(
        organiser, workshop, title="Participants' notes", visibility="participants",
        notify=False, note="Supplier names: tantalum refinery in Kivu.",
        stored=_file(b"Attendance: the geothermal pilot team.", "attendance.txt"))
    db.session.commit()
    return {"group": group, "organiser": organiser, "participant": participant,
            "member": member, "admin": admin, "workshop": workshop, "minutes": minutes,
            "slides": slides, "private": private}


@pytest.fixture
def files_read(world):
    """The files' text, read as the scheduler's job reads it (in the reader's process)."""
    assert event_extraction.extract_pending() == (3, 0)
    return world


def _results(text: str, user, **filters):
    return search(SearchQuery(text=text, audiences=audiences_for(user), filters=filters))


def _refs(text: str, user) -> list[str]:
    return [hit.ref for hit in _results(text, user).hits]


def test_files_attached_to_events_are_found_by_their_text(files_read, search_app):
    world = files_read
    assert index_status()["pending"] == 0
    stored = db.session.get(EventMaterial, world["minutes"].id)
    assert stored.extraction_state is ExtractionState.done
    minutes, slides = f"event_note:{world['minutes'].id}", f"event_note:{world['slides'].id}"
    # A table cell of the Word minutes; members only (any signed-in member may read them).
    assert _refs("cobalt smelter", world["member"]) == [minutes]
    assert _refs("cobalt smelter", None) == []
    # The public PDF's words, for visitors too.
    assert _refs("Electronics Watch", None) == [slides]
    with search_app.test_request_context("/library?q=cobalt"):
        (entry,) = browse.browse(MultiDict({"q": "cobalt"}), world["member"]).entries
        assert entry.source_label == "Event notes" and entry.title == "Minutes – Workshop 5"
        assert entry.url == f"/events/{world['workshop'].id}"
        assert "cobalt" in str(entry.snippet).lower()


def test_participants_only_material_is_found_by_participants_and_organisers_only(files_read):
    world = files_read
    ref = f"event_note:{world['private'].id}"
    for reader in ("participant", "organiser", "admin"):
        assert _refs("tantalum", world[reader]) == [ref], reader  # by its note
        assert _refs("geothermal", world[reader]) == [ref], reader  # by its file
    for outsider in (world["member"], None):
        for words in ("tantalum", "geothermal", "Kivu refinery"):
            results = _results(words, outsider)
            assert results.hits == [] and results.total == 0
            assert results.facets.get("kind", []) == []
        # Not in the counts of a search for every event note either.
        everything = _results("", outsider, kind=["event_note"])
        assert ref not in [hit.ref for hit in everything.hits]
        expected = 2 if outsider is not None else 1  # the minutes (members), the slides
        assert everything.total == expected
        assert dict(everything.facets["kind"]) == {"event_note": expected}


def test_a_cancelled_registration_takes_it_out_of_that_members_search(world):
    ref = f"event_note:{world['private'].id}"
    events.cancel_registration(world["participant"], world["workshop"], notify=False)
    db.session.commit()
    assert _refs("tantalum", world["participant"]) == []
    # (The files are not read in this test: the participants' note is the only document.)
    assert _results("", world["participant"], kind=["event_note"]).total == 0
    assert _results("", world["organiser"], kind=["event_note"]).total == 1
    # Registering (again, or for the first time) brings it back.
    events.register(world["member"], world["workshop"], notify=False)
    db.session.commit()
    assert _refs("tantalum", world["member"]) == [ref]
    assert _refs("tantalum", world["organiser"]) == [ref]


def test_a_new_organiser_of_the_group_finds_it_and_a_former_one_does_not(world):
    ref = f"event_note:{world['private'].id}"
    membership = world["group"].membership_of(world["member"])
    set_member_role(world["organiser"], membership, GroupRole.organiser)
    db.session.commit()
    assert _refs("tantalum", world["member"]) == [ref]
    set_member_role(world["member"], world["group"].membership_of(world["organiser"]),
                    GroupRole.member)
    db.session.commit()
    assert _refs("tantalum", world["organiser"]) == []


def test_anonymised_registrations_name_nobody_in_the_index(world):
    from buyergroup.database import utcnow
    from buyergroup.privacy.service import anonymise_past_registrations

    ref = f"event_note:{world['private'].id}"
    assert _refs("tantalum", world["participant"]) == [ref]
    # The retention job, a year and more after the event (one bulk statement).
    assert anonymise_past_registrations(now=utcnow() + timedelta(days=400)) == 1
    db.session.commit()
    assert _refs("tantalum", world["participant"]) == []
    assert _refs("tantalum", world["organiser"]) == [ref]
