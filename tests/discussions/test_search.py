"""Threads and replies in the site search, on both backends (Whoosh and PostgreSQL).

The index filters by audiences (a private group's threads only for its members), a reply's
words find its thread, a hidden post's words find nothing, and the library's search page
shows the hit labelled "Discussion".
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from buyergroup.accounts.models import Role
from buyergroup.accounts.service import create_user
from buyergroup.discussions import service
from buyergroup.discussions.search_documents import DiscussionResult
from buyergroup.extensions import db
from buyergroup.library import browse
from buyergroup.library.permissions import audiences_for
from buyergroup.network.models import GroupRole
from buyergroup.network.service import add_member, save_group
from buyergroup.search.service import index_status, search
from buyergroup.search.types import SearchQuery


def _user(email: str, name: str):
    return create_user(email=email, password="a long test password", role=Role.member,
                       name=name)


@pytest.fixture
def world(search_app):
    private = save_group(None, name="Data centre buyers", languages=["en"],
                         join_policy="open", is_public=False)
    public = save_group(None, name="Open screens", languages=["en"], join_policy="open",
                        is_public=True)
    organiser = _user("org@example.org", "Olga Organiser")
    member = _user("member@example.org", "Mo Member")
    outsider = _user("out@example.org", "Oona Outsider")
    for group in (private, public):
        add_member(group, organiser, GroupRole.organiser)
        add_member(group, member)
    db.session.commit()
    secret = service.start_thread(member, private, title="Immersion cooling tenders",
                                  body="Has anyone bought immersion cooled servers?",
                                  product_groups=["servers"])
    open_thread = service.start_thread(member, public, title="Screen refurbishment",
                                       body="Who buys refurbished monitors?")
    db.session.commit()
    service.reply(organiser, open_thread, "We wrote a cobalt traceability clause.")
    db.session.commit()
    return {"private": private, "public": public, "organiser": organiser, "member": member,
            "outsider": outsider, "secret": secret, "open": open_thread}


def _refs(text: str, user) -> list[str]:
    results = search(SearchQuery(text=text, audiences=audiences_for(user)))
    return [hit.ref for hit in results.hits]


def test_a_private_groups_threads_are_found_only_by_its_members(world):
    ref = f"discussion:{world['secret'].id}"
    assert index_status()["pending"] == 0
    assert _refs("immersion", world["member"]) == [ref]
    assert _refs("immersion", world["organiser"]) == [ref]
    assert _refs("immersion", world["outsider"]) == []
    assert _refs("immersion", None) == []
    # Not through a facet count either.
    counts = search(SearchQuery(text="", audiences=audiences_for(None))).facets
    assert ("servers", 1) not in counts.get("product_group", [])


def test_replies_find_their_thread_until_hidden(world):
    ref = f"discussion:{world['open'].id}"
    assert _refs("cobalt traceability", None) == [ref]
    reply = world["open"].posts[1]
    service.hide_post(world["organiser"], reply, "Off topic")
    db.session.commit()
    assert _refs("cobalt", None) == []
    assert _refs("refurbished", None) == [ref]  # the question itself is still found


def test_an_edit_is_found_by_its_new_words_not_its_old_ones(world):
    ref = f"discussion:{world['open'].id}"
    reply = world["open"].posts[1]
    service.edit_post(world["organiser"], reply, "We wrote a tantalum smelter clause.")
    service.edit_thread(world["member"], world["open"], title="Screen repair tenders")
    db.session.commit()
    assert _refs("tantalum", None) == [ref]
    assert _refs("cobalt", None) == []
    assert _refs("repair", None) == [ref]


def test_a_group_made_private_takes_its_threads_out_of_public_search(world):
    from buyergroup.network.service import save_group as update_group

    update_group(None, world["public"], is_public=False)
    db.session.commit()
    assert _refs("refurbished", None) == []
    assert _refs("refurbished", world["member"]) == [f"discussion:{world['open'].id}"]


def test_the_search_page_labels_discussions(world, search_app):
    with search_app.test_request_context("/library?q=refurbished"):
        result = browse.browse(MultiDict({"q": "refurbished"}), None)
        (entry,) = result.entries
        assert isinstance(entry, DiscussionResult)
        assert entry.source_label == "Discussion" and entry.title == "Screen refurbishment"
        assert entry.url == f"/groups/{world['public'].slug}/discussions/{world['open'].id}"
        kinds = {o.code: o.label for f in result.facets if f.name == "kind" for o in f.options}
        assert kinds == {"discussion": "Discussion"}
        # The library's own API keeps to library items.
        assert browse.browse(MultiDict({"q": "refurbished"}), None,
                             library_only=True).entries == []


def test_event_notes_are_found_by_who_may_read_them(world, search_app):
    from datetime import datetime, timedelta

    from buyergroup.events import service as events
    from buyergroup.events.service import EventData

    starts = datetime.now() + timedelta(days=3)
    data = EventData(title="Workshop 4", kind="workshop", mode="online",
                     timezone="Europe/Brussels", language="en", starts_local=starts,
                     ends_local=starts + timedelta(hours=2), video_url="", description="",
                     capacity=None)
    workshop = events.create_event(None, world["public"], data)
    everyone = events.add_material(None, workshop, title="Minutes",
                                   note="We agreed on a geothermal pilot.", visibility="public",
                                   is_minutes=True, notify=False)
    members = events.add_material(None, workshop, title="Notes",
                                  note="Budget for the hydrothermal study.",
                                  visibility="members", notify=False)
    private = events.add_material(None, workshop, title="Private",
                                  note="Participants: vulcanology.", visibility="participants",
                                  notify=False)
    db.session.commit()
    assert _refs("geothermal", None) == [f"event_note:{everyone.id}"]
    assert _refs("hydrothermal", None) == []
    assert _refs("hydrothermal", world["outsider"]) == [f"event_note:{members.id}"]
    # Participants-only: the group's organisers (and participants, test_minutes_search.py).
    assert _refs("vulcanology", world["organiser"]) == [f"event_note:{private.id}"]
    assert _refs("vulcanology", world["member"]) == []
    with search_app.test_request_context("/library?q=geothermal"):
        (entry,) = browse.browse(MultiDict({"q": "geothermal"}), None).entries
        assert entry.source_label == "Event notes" and "Workshop 4" in entry.title


def test_browsing_the_library_without_words_lists_library_items_only(world, search_app):
    with search_app.test_request_context("/library"):
        assert browse.browse(MultiDict(), None).entries == []
        (entry,) = browse.browse(MultiDict({"kind": "discussion"}), None).entries
        assert entry.title == "Screen refurbishment"
