"""Every route with a path parameter, for every role, read and write: who may, who may not.

The roles: a visitor, a member outside the group, a member of the group, the group's
organiser, a site organiser who organises another group, and an administrator. The world
is one private working group ("Confidential buyers") with a members-only event, its
registrations, agenda, participants-only minutes, a series; library items that are public,
group-only and in review; a glossary concept, an invitation, a request to join, an
organisation that is hidden from visitors, API tokens; the group's discussions and
statements; tender baskets (a private one of another member's, two shared with the group,
to change and to read), recorded uses, a group-only translation, the labels register.

The tables below say, for each endpoint (and each variant of its parameters), which roles
may read it (GET) and which may write (POST, DELETE). Every request of every role is made
with CSRF protection on, with the token the app's own forms carry (bearer tokens for the
API); each is undone afterwards, so every request meets the same world. Then:

* no request ever answers a 5xx;
* a role that may not write is refused (403, 404, 400, a redirect to sign in, or a redirect
  with a message) and the request writes nothing to the database;
* a role that may write is not refused; where the table gives a form, the write happens;
* a role that may not read is refused; a role that may, gets the page;
* nothing private (meeting links, group-only and unpublished titles, minutes, members'
  email addresses, the hidden organisation, baskets' names, uses' lessons) is
  in any page a visitor gets, with or without parameters;
* every route with a path parameter is in the tables (a new route must say who may use it).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask import Flask, current_app

from buyergroup.extensions import db
from tests.queries import statements, writes_in

V, O, M, G, S, A = (  # noqa: E741 - one letter per role keeps the tables readable
    "visitor", "outsider", "member", "group_organiser", "site_organiser", "admin")
ROLES = (V, O, M, G, S, A)
EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset({O, M, G, S, A})
GROUP = frozenset({M, G, S, A}) - {S}  # members of the private group (and admins)
MANAGERS = frozenset({G, A})  # the group's organisers and administrators
MODERATORS = frozenset({S, A})  # site organisers and administrators
ADMINS = frozenset({A})
NOBODY: frozenset[str] = frozenset()

# Private words: none may appear in anything a visitor is shown.
SECRET_LINK = "https://meet.example.org/confidential-7Q2"
OTHER_LINK = "https://meet.example.org/other-5K9"  # the other group's (public) event's
SECRET_ITEM = "Groupsecret fair servers clause"
REVIEW_ITEM = "Inreview living wage clause"
SECRET_MINUTES = "Minutes-secret of the kick-off"
HIDDEN_ORGANISATION = "Hiddenorg procurement office"
SECRET_COMMENT = "Groupsecret comment on servers"
SECRET_THREAD = "Threadsecret question on cloud exit fees"
SECRET_REPLY = "Replysecret: our exit clause costs"
SECRET_DRAFT = "Draftsecret joint demand on repairable laptops"
SECRET_BASKET = "Basketsecret laptops 2027 framework"  # mate's private basket
SHARED_BASKET = "Sharedsecret servers basket"  # the member's, shared with the private group
SECRET_USE = "Usesecret: bidders priced the fair servers clause high"  # a use's lessons
HIDDEN_USE = "Hiddenusesecret: names the winning supplier"  # a hidden use's (public item)
SECRET_TRANSLATION = "Traductionsecret clause ordinateurs équitables"  # group-only, in French
BOGUS_TOKEN = "not-a-real-token-0123456789"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # API bearer tokens per role
    emails: list[str] = field(default_factory=list)


@pytest.fixture
def world(app, make_user, make_organisation) -> World:
    """The private group and everything in it, made through the services."""
    from buyergroup.accounts import sessions
    from buyergroup.accounts.models import UserSession
    from buyergroup.accounts.service import create_api_token, invite
    from buyergroup.events import service as events
    from buyergroup.events import storage as event_storage
    from buyergroup.events.service.feeds import create_feed
    from buyergroup.glossary.service import save_concept
    from buyergroup.library import service as library
    from buyergroup.library import uploads
    from buyergroup.library.models import ItemStatus, Visibility
    from buyergroup.network.models import GroupRole
    from buyergroup.network.service import (
        add_affiliation,
        add_member,
        join_group,
        save_group,
        save_organisation,
    )
    from buyergroup.onboarding.service import JoinRequestData, submit_join_request

    w = World()
    public_org = make_organisation("Openorg city hall")
    hidden_org = save_organisation(None, name=HIDDEN_ORGANISATION, kind="regional_authority",
                                   country="BE", is_public=False)
    u = w.users
    u[O] = make_user("outsider@example.org", name="Otto Outsider", organisation=public_org)
    u[M] = make_user("member@example.org", name="Mia Member", organisation=public_org)
    u[G] = make_user("group.organiser@example.org", name="Greta Groupchair")
    u[S] = make_user("site.organiser@example.org", role="organiser", name="Sam Siteorg")
    u[A] = make_user("admin@example.org", role="admin", name="Ada Admin")
    mate = make_user("mate@example.org", name="Mats Mate", organisation=hidden_org)
    applicant = make_user("applicant@example.org", name="Apu Applicant")
    group = save_group(None, name="Confidential buyers", languages=["en"],
                       join_policy="approval", is_public=False)
    other = save_group(u[S], name="Other buyers", languages=["en"], join_policy="open")
    add_member(group, u[G], GroupRole.organiser)
    for person in (u[M], mate):
        add_member(group, person)
    db.session.flush()
    pending = join_group(group, applicant)
    other_membership = join_group(other, mate)  # an open group: active at once
    db.session.flush()
    start = datetime.now().replace(microsecond=0, second=0, minute=0) + timedelta(days=10)
    event = events.create_event(u[G], group, events.EventData(
        title="Confidential kick-off", starts_local=start, ends_local=start + timedelta(hours=2),
        capacity=10, video_url=SECRET_LINK, description="Members only.",
    ))
    db.session.flush()
    other_event = events.create_event(u[S], other, events.EventData(
        title="Other workshop", starts_local=start, ends_local=start + timedelta(hours=1),
        capacity=5, video_url=OTHER_LINK,
    ))
    db.session.flush()
    events.register(u[M], event)
    registration = events.register(mate, event)
    agenda = events.save_agenda_item(u[G], event, starts_local=start, title="Welcome")
    minutes = events.add_material(
        u[G], event, title=SECRET_MINUTES, note="Who said what.", is_minutes=True,
        notify=False, stored=event_storage.store_upload(io.BytesIO(b"Minutes.\n"), "m.txt"))
    series = events.create_series(u[G], group, title_pattern="Confidential workshop {n}")
    public_item = library.create_item(
        None, created_by=mate, authors=[mate], status=ItemStatus.published,
        visibility=Visibility.public, kind="clause", language="en",
        title="Openly fair laptops clause", body="The contractor ...",
        files=[uploads.store_bytes(b"Fair laptops, openly.\n", "laptops.txt", "text/plain")],
    )
    group_item = library.create_item(
        None, created_by=mate, authors=[mate], status=ItemStatus.published,
        visibility=Visibility.group, group=group, kind="clause", language="en",
        title=SECRET_ITEM, body="Only for the group.",
    )
    review_item = library.create_item(
        None, created_by=u[M], authors=[u[M]], status=ItemStatus.submitted,
        visibility=Visibility.public, kind="clause", language="nl", title=REVIEW_ITEM,
        body="Waiting for review.",
    )
    db.session.flush()
    for item in (public_item, group_item, review_item):  # a newer text: restoring v1 writes
        library.update_item(None, item, body=f"{item.body} (Revised.)")
    comment = library.add_comment(mate, public_item, "A public comment on laptops.")
    group_comment = library.add_comment(mate, group_item, SECRET_COMMENT)
    concept = save_concept(None, key="fair-ict", terms={"en": ["fair ICT"]})
    invitation = invite(inviter=u[A], email="invitee@example.org", organisation=public_org,
                        group=group, name="Ivo Invitee")
    submit_join_request(JoinRequestData(name="Jo Joiner", email="joiner@example.org",
                                        organisation_name="Somewhere council"))
    affiliation = add_affiliation(None, public_org, name="Joint purchasing 2024")
    sessions.start(mate, user_agent="mate's browser")
    token, _secret = create_api_token(mate, "mate's script")
    create_feed(mate)
    try:  # the follows of the community domain, where the app has it
        from buyergroup.community.service import follow
    except ImportError:
        follow = None
    if follow is not None:
        w.ids["mate_follow"] = follow(mate, "group", str(other.id)).id
    db.session.flush()
    # The group's discussions: mate asks, the member replies (mate reports the reply), a
    # second reply of mate's is hidden by the group's organiser.
    from buyergroup.discussions import service as discussions

    thread = discussions.start_thread(mate, group, title=SECRET_THREAD,
                                      body="What do you pay to leave a cloud supplier?")
    member_reply = discussions.reply(u[M], thread, SECRET_REPLY)
    hidden_reply = discussions.reply(mate, thread, "Off topic: a supplier's price list.")
    discussions.hide_post(u[G], hidden_reply, "Names a supplier.")
    report = discussions.report_post(mate, member_reply, "Please check the figures.")
    # The group's statements: a draft and one open for signature, with a roadmap action
    # that an organisation hidden from visitors owns; the outsider signs for their
    # organisation (public_org).
    from buyergroup.statements import service as statements_service

    draft = statements_service.create_statement(
        u[G], group, title=SECRET_DRAFT, body=f"{SECRET_DRAFT}: we ask suppliers ...")
    opened = statements_service.create_statement(
        u[G], group, title="Joint statement on fair ICT", body="We, the signatories, ...")
    statements_service.open_for_signature(u[G], opened)
    action = statements_service.add_action(u[G], opened, title="Publish a repair index",
                                           organisation_id=hidden_org.id)
    authority = statements_service.authorise_signatory(None, u[O])
    db.session.flush()
    # The toolkit (``toolkit/permissions.py``): mate's private basket (the group-only and the
    # public item), mate's basket shared with the private group to change, the member's
    # shared with it to read only; a use of the group-only item recorded by mate, two of the
    # public item (one hidden by a moderator); a group-only French translation of the
    # public item (side by side).
    from buyergroup.toolkit import service as toolkit
    from buyergroup.toolkit.service import UseData

    secret_basket = toolkit.create_basket(mate, SECRET_BASKET)
    for item in (group_item, public_item):
        toolkit.add_item(mate, secret_basket, item.id)
    editable_basket = toolkit.create_basket(mate, "Mats's shared servers basket")
    toolkit.add_item(mate, editable_basket, group_item.id)
    toolkit.update_basket(mate, editable_basket, share="group", group=group, editable=True)
    shared_basket = toolkit.create_basket(u[M], SHARED_BASKET)
    toolkit.add_item(u[M], shared_basket, public_item.id)
    toolkit.update_basket(u[M], shared_basket, share="group", group=group, editable=False)
    # The member's basket for their organisation (the outsider's too): the outsider reads it
    # without the group-only item in it.
    org_basket = toolkit.create_basket(u[M], "Openorg laptops basket")
    for item in (group_item, public_item):
        toolkit.add_item(u[M], org_basket, item.id)
    toolkit.update_basket(u[M], org_basket, share="organisation")
    group_use = toolkit.record_use(mate, group_item, UseData(
        contracting_authority="Hiddenorg", tender_title="Servers 2025",
        used_on=start.date() - timedelta(days=400), lessons=SECRET_USE))
    public_use = toolkit.record_use(mate, public_item, UseData(
        contracting_authority="Openorg city hall", tender_title="Laptops 2025",
        used_on=start.date() - timedelta(days=400), lessons="Four bids."))
    hidden_use = toolkit.record_use(mate, public_item, UseData(
        contracting_authority="Openorg city hall", tender_title="Laptops 2024",
        used_on=start.date() - timedelta(days=700), lessons=HIDDEN_USE))
    toolkit.hide_use(u[S], hidden_use, "Names a supplier.")
    translation = library.create_item(
        None, created_by=mate, authors=[mate], status=ItemStatus.published,
        visibility=Visibility.group, group=group, kind="clause", language="fr",
        translation_of=public_item, title=SECRET_TRANSLATION,
        body=f"{SECRET_TRANSLATION} : le titulaire ...",
    )
    # The labels register (``labels/service.py``: organisers keep it, editors cite).
    from buyergroup.labels import service as labels

    label = labels.save_label(None, name="TCO Certified", issuer="TCO Development")
    generation = labels.save_generation(None, label, name="generation 9", status="current")
    # A generation the public item cites (not to be deleted), and a label nothing cites.
    cited_generation = labels.save_generation(None, label, name="generation 8",
                                              status="superseded")
    labels.set_citations(None, public_item, [cited_generation.id])
    uncited_label = labels.save_label(None, name="EPEAT", issuer="Global Electronics Council")
    db.session.flush()
    for role in (O, M, G, S, A):
        w.tokens[role] = create_api_token(u[role], f"{role} token")[1]
    db.session.commit()
    from buyergroup.network.models import JoinRequest

    w.ids.update(
        group=group.slug, other_group=other.slug, event=event.id, registration=registration.id,
        agenda=agenda.id, material=minutes.id, series=series.id, public_item=public_item.id,
        group_item=group_item.id, review_item=review_item.id,
        attachment=public_item.attachments[0].id, comment=comment.id,
        group_comment=group_comment.id, concept=concept.id, invitation=invitation.id,
        request=db.session.scalar(db.select(JoinRequest.id)),
        affiliation=affiliation.id, public_org=public_org.slug, hidden_org=hidden_org.slug,
        mate=mate.id, mate_membership=group.membership_of(mate).id,
        pending_membership=pending.id, other_membership=other_membership.id,
        other_event=other_event.id,
        thread=thread.id, opening_post=thread.posts[0].id, member_reply=member_reply.id,
        hidden_reply=hidden_reply.id, report=report.id, draft=draft.id, opened=opened.id,
        action=action.id, authority=authority.id,
        secret_basket=secret_basket.id, editable_basket=editable_basket.id,
        shared_basket=shared_basket.id, org_basket=org_basket.id,
        org_entry=org_basket.entries[0].id,
        secret_entry=secret_basket.entries[0].id, editable_entry=editable_basket.entries[0].id,
        shared_entry=shared_basket.entries[0].id, group_use=group_use.id,
        public_use=public_use.id, translation=translation.id, label=label.id,
        generation=generation.id, cited_generation=cited_generation.id,
        uncited_label=uncited_label.id,
        mate_session=db.session.scalar(db.select(UserSession.id).where(
            UserSession.user_id == mate.id)),
        mate_token=token.id,
        latest_version={item.id: max(v.number for v in item.versions)
                        for item in (public_item, group_item, review_item)},
    )
    w.emails = [user.email for user in (*u.values(), mate, applicant)]
    return w


# --- The tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One endpoint with one set of path values: who may read it, who may write it."""

    endpoint: str
    values: dict
    read: frozenset[str] | None = None  # None: not a GET route
    write: frozenset[str] | None = None  # None: not a write route
    form: dict | None = None  # data that makes an allowed write really write
    label: str = ""

    def __str__(self) -> str:
        return f"{self.endpoint}{'[' + self.label + ']' if self.label else ''}"


def cases(ids: dict) -> list[Case]:
    e, lib = ids["event"], ids
    event = {"event_id": e}
    return [
        # Events of the private group.
        Case("events.detail", event, read=SIGNED_IN),
        Case("events.event_ics", event, read=SIGNED_IN),
        Case("events.agenda", event, read=MANAGERS, write=MANAGERS),
        Case("events.edit_agenda_item", {**event, "item_id": ids["agenda"]}, read=MANAGERS,
             write=MANAGERS),
        Case("events.delete_agenda_item", {**event, "item_id": ids["agenda"]}, write=MANAGERS,
             form={}),
        Case("events.edit", event, read=MANAGERS, write=MANAGERS),
        Case("events.cancel", event, write=MANAGERS, form={"reason": "Postponed."}),
        Case("events.attendance", event, write=MANAGERS,
             form={"present": str(ids["registration"])}),
        Case("events.new_material", event, read=MANAGERS, write=MANAGERS,
             form={"title": "Slides", "note": "The slides.", "visibility": "members"}),
        Case("events.material_file", {**event, "material_id": ids["material"]},
             read=frozenset({M, G, A})),
        Case("events.delete_material", {**event, "material_id": ids["material"]},
             write=MANAGERS, form={}),
        Case("events.participants", event, read=MANAGERS),
        Case("events.add_participant", event, write=MANAGERS,
             form={"email": "applicant@example.org"}),
        Case("events.participants_csv", event, read=MANAGERS),
        Case("events.remove_participant", {**event, "registration_id": ids["registration"]},
             write=MANAGERS, form={}),
        # The member is registered already (a second click changes nothing); the group's
        # organiser and the admin may register; the others are not in the group.
        Case("events.register", event, write=frozenset({M, G, A}), form={}),
        Case("events.unregister", event, write=frozenset({M}), form={}),
        Case("events.series", {"series_id": ids["series"]}, read=SIGNED_IN),
        Case("events.series_ics", {"series_id": ids["series"]}, read=SIGNED_IN),
        Case("events.add_sessions", {"series_id": ids["series"]}, read=MANAGERS,
             write=MANAGERS),
        Case("events.group_ics", {"slug": ids["group"]}, read=SIGNED_IN),
        Case("events.personal_feed", {"token": BOGUS_TOKEN}, read=NOBODY),
        # The other (public, open) group's event: its organiser (the site organiser) manages
        # it; the private group's organiser has no say in it.
        Case("events.edit", {"event_id": ids["other_event"]}, read=frozenset({S, A}),
             write=frozenset({S, A}), label="other group"),
        Case("events.cancel", {"event_id": ids["other_event"]}, write=frozenset({S, A}),
             form={"reason": "Postponed."}, label="other group"),
        Case("events.participants", {"event_id": ids["other_event"]},
             read=frozenset({S, A}), label="other group"),
        Case("events.detail", {"event_id": ids["other_event"]}, read=EVERYONE,
             label="other group"),
        Case("network.edit_group", {"slug": ids["other_group"]}, read=frozenset({S, A}),
             write=frozenset({S, A}), label="other group"),
        Case("network.remove_member", {"slug": ids["other_group"],
                                       "membership_id": ids["other_membership"]},
             write=frozenset({S, A}), form={}, label="other group"),
        # A membership of one group named under another group's address.
        Case("network.remove_member", {"slug": ids["group"],
                                       "membership_id": ids["other_membership"]},
             write=NOBODY, form={}, label="crossed"),
        Case("network.set_member_role", {"slug": ids["other_group"],
                                         "membership_id": ids["mate_membership"]},
             write=NOBODY, form={"role": "organiser"}, label="crossed"),
        # The group.
        Case("network.group", {"slug": ids["group"]}, read=SIGNED_IN),
        Case("network.edit_group", {"slug": ids["group"]}, read=MANAGERS, write=MANAGERS),
        # Joining a group that needs approval asks to join: anyone signed in who is not in it.
        Case("network.join_group", {"slug": ids["group"]}, write=frozenset({O, S, A}),
             form={"message": "Please."}),
        Case("network.leave_group", {"slug": ids["group"]}, write=frozenset({M}), form={}),
        Case("network.decide_membership", {"slug": ids["group"], "decision": "approve",
                                           "membership_id": ids["pending_membership"]},
             write=MANAGERS, form={}),
        Case("network.remove_member", {"slug": ids["group"],
                                       "membership_id": ids["mate_membership"]},
             write=MANAGERS, form={}),
        Case("network.set_member_role", {"slug": ids["group"],
                                         "membership_id": ids["mate_membership"]},
             write=MANAGERS, form={"role": "organiser"}),
        # Organisations: kept by site organisers; a hidden one is for members only.
        Case("network.organisation", {"slug": ids["hidden_org"]}, read=SIGNED_IN,
             label="hidden"),
        Case("network.organisation", {"slug": ids["public_org"]}, read=EVERYONE,
             label="public"),
        Case("network.edit_organisation", {"slug": ids["public_org"]}, read=MODERATORS,
             write=MODERATORS),
        Case("network.add_affiliation", {"slug": ids["public_org"]}, write=MODERATORS,
             form={"name": "Joint purchasing 2025"}),
        Case("network.remove_affiliation", {"slug": ids["public_org"],
                                            "affiliation_id": ids["affiliation"]},
             write=MODERATORS, form={}),
        # The library: a public item, a group-only one, one in review (by the member).
        *library_cases(lib),
        Case("glossary.edit_concept", {"concept_id": ids["concept"]}, read=MODERATORS,
             write=MODERATORS),
        Case("glossary.delete_concept", {"concept_id": ids["concept"]}, write=MODERATORS,
             form={}),
        # The organisers' desk and the administrators' pages. The invitation is into the
        # private group (which needs approval): a site organiser of another group may not
        # send it, so may not revoke it either.
        Case("admin.revoke_invitation", {"invitation_id": ids["invitation"]},
             write=frozenset({A}), form={}),
        Case("admin.approve_request", {"request_id": ids["request"]}, write=MODERATORS,
             form={}),
        Case("admin.decline_request", {"request_id": ids["request"]}, write=MODERATORS,
             form={"note": "Not a public buyer."}),
        Case("admin.change_role", {"user_id": ids["mate"]}, write=ADMINS,
             form={"role": "organiser"}),
        Case("admin.set_active", {"user_id": ids["mate"], "action": "deactivate"},
             write=ADMINS, form={}),
        # Accounts: a member page; another member's session and token; links from email.
        Case("accounts.member", {"user_id": ids["mate"]}, read=SIGNED_IN),
        Case("accounts.end_session", {"session_id": ids["mate_session"]}, write=NOBODY,
             form={}),
        # Another member's token: its owner's (on their profile page) and nobody else's.
        Case("accounts.revoke_api_token", {"token_id": ids["mate_token"]}, write=NOBODY,
             form={}),
        Case("accounts.accept_invitation", {"token": BOGUS_TOKEN}, read=NOBODY, write=NOBODY,
             form={"name": "Eve", "password": "a long enough password",
                   "confirm": "a long enough password"}),
        Case("accounts.reset_password", {"token": BOGUS_TOKEN}, read=NOBODY, write=NOBODY,
             form={"password": "a long enough password",
                   "confirm": "a long enough password"}),
        # The API (bearer tokens).
        Case("api.event", event, read=SIGNED_IN),
        Case("api.register_for_event", event, write=frozenset({M, G, A}), form={}),
        Case("api.cancel_event_registration", event, write=frozenset({M}), form={}),
        Case("api.library_item", {"item_id": ids["public_item"]}, read=EVERYONE,
             label="public"),
        Case("api.library_item", {"item_id": ids["group_item"]}, read=GROUP | {S},
             label="group"),
        Case("api.library_item", {"item_id": ids["review_item"]}, read=frozenset({M, S, A}),
             label="review"),
        *discussion_cases(ids),
        *statement_cases(ids),
        *toolkit_cases(ids),
        *label_cases(ids),
        # The group Atom feeds are for feed readers (no cookies): a public group's only.
        Case("core.group_library_feed", {"slug": ids["group"]}, read=NOBODY),
        Case("core.group_events_feed", {"slug": ids["group"]}, read=NOBODY),
        Case("core.group_library_feed", {"slug": ids["other_group"]}, read=EVERYONE,
             label="other group"),
        Case("core.group_events_feed", {"slug": ids["other_group"]}, read=EVERYONE,
             label="other group"),
        *newer_cases(ids),
    ]


def discussion_cases(ids: dict) -> list[Case]:
    """The private group's discussions: read and written by its members (and admins),
    moderated by its organisers (``discussions/permissions.py``). The thread is mate's: the
    asker is no role here, so accepting and marking a gap are the organisers' alone."""
    group = {"slug": ids["group"]}
    thread = {**group, "thread_id": ids["thread"]}
    opening = {**thread, "post_id": ids["opening_post"]}
    member_reply = {**thread, "post_id": ids["member_reply"]}
    hidden = {**thread, "post_id": ids["hidden_reply"]}
    question = {"title": "Who hosts our minutes?", "body": "Asking for the group.",
                "language": "en"}
    return [
        Case("discussions.index", group, read=GROUP),
        Case("discussions.new_thread", group, read=GROUP, write=GROUP, form=question),
        Case("discussions.thread", thread, read=GROUP),
        Case("discussions.reply", thread, write=GROUP, form={"body": "We pay nothing."}),
        Case("discussions.accept", member_reply, write=MANAGERS, form={}),
        # Nothing is accepted yet: allowed, with nothing to withdraw.
        Case("discussions.withdraw_acceptance", thread, write=MANAGERS),
        Case("discussions.hide", opening, write=MANAGERS, form={"reason": "Off topic."}),
        Case("discussions.restore", hidden, write=MANAGERS, form={}),
        # Whoever may read a post reports it: not its author, not once it is hidden.
        Case("discussions.report", opening, write=GROUP, form={"reason": "Names a supplier."},
             label="mate's question"),
        Case("discussions.report", member_reply, write=MANAGERS,
             form={"reason": "Names a supplier."}, label="the member's reply"),
        Case("discussions.report", hidden, write=NOBODY, form={"reason": "Names a supplier."},
             label="hidden"),
        # Authors change their own words, nobody else's (organisers hide, not rewrite).
        Case("discussions.edit_post", member_reply, read=frozenset({M}), write=frozenset({M}),
             form={"body": "We pay nothing at all."}, label="the member's reply"),
        Case("discussions.edit_post", opening, read=NOBODY, write=NOBODY,
             form={"title": "Who pays?", "body": "Rewritten."}, label="mate's question"),
        Case("discussions.edit_post", hidden, read=NOBODY, write=NOBODY,
             form={"body": "Rewritten."}, label="hidden"),
        Case("discussions.lock", {**thread, "action": "lock"}, write=MANAGERS, form={}),
        Case("discussions.lock", {**thread, "action": "unlock"}, write=MANAGERS,
             label="not locked"),
        Case("discussions.gap", thread, write=MANAGERS, form={"is_gap": "y"}),
        Case("discussions.reports", group, read=MANAGERS),
        Case("discussions.dismiss_report", {**group, "report_id": ids["report"]},
             write=MANAGERS, form={}),
        # The private group's thread named under the other group's address; the other
        # (public, open) group's discussions: read by everyone, asked in by its members.
        Case("discussions.thread", {**thread, "slug": ids["other_group"]}, read=NOBODY,
             label="crossed"),
        Case("discussions.reply", {**thread, "slug": ids["other_group"]}, write=NOBODY,
             form={"body": "We pay nothing."}, label="crossed"),
        Case("discussions.index", {"slug": ids["other_group"]}, read=EVERYONE,
             label="other group"),
        Case("discussions.new_thread", {"slug": ids["other_group"]}, read=frozenset({S, A}),
             write=frozenset({S, A}), form=question, label="other group"),
        # The API (bearer tokens).
        Case("api.discussions", group, read=GROUP),
        Case("api.create_discussion", group, write=GROUP,
             form={"title": "Who hosts our minutes?", "body": "Asking for the group."}),
        Case("api.discussion", {"thread_id": ids["thread"]}, read=GROUP),
        Case("api.discussion_replies", {"thread_id": ids["thread"]}, write=GROUP,
             form={"body": "We pay nothing."}),
        Case("api.edit_discussion", {"thread_id": ids["thread"]}, write=NOBODY,
             form={"title": "Who pays?"}),
        Case("api.edit_discussion_reply", {"thread_id": ids["thread"],
                                           "post_id": ids["member_reply"]},
             write=frozenset({M}), form={"body": "We pay nothing at all."}),
        Case("api.edit_discussion_reply", {"thread_id": ids["thread"],
                                           "post_id": ids["hidden_reply"]},
             write=NOBODY, form={"body": "Rewritten."}, label="hidden"),
    ]


def statement_cases(ids: dict) -> list[Case]:
    """The private group's statements (``statements/permissions.py``): a draft is for the
    group's members, a statement open for signature is public; its organisers draft, open,
    close and keep the roadmap; an authorised member (the outsider) signs for their
    organisation; site organisers record who may sign."""
    draft, opened = {"statement_id": ids["draft"]}, {"statement_id": ids["opened"]}
    text = {"title": SECRET_DRAFT, "body": "A second version of the text."}
    action = {"action-title": "Ask suppliers for repair data", "action-status": "planned",
              "action-organisation_id": ""}
    out = [
        Case("statements.group_statements", {"slug": ids["group"]}, read=SIGNED_IN),
        Case("statements.new_statement", {"slug": ids["group"]}, read=MANAGERS,
             write=MANAGERS, form={"title": "A new statement", "body": "We ask ..."}),
        Case("statements.edit", draft, read=MANAGERS, write=MANAGERS, form=text,
             label="draft"),
        # What was opened for signature stays what was signed.
        Case("statements.edit", opened, read=NOBODY, write=NOBODY, form=text, label="open"),
        Case("statements.change_state", {**draft, "action": "open"}, write=MANAGERS, form={},
             label="draft"),
        Case("statements.change_state", {**opened, "action": "close"}, write=MANAGERS,
             form={}, label="open"),
        Case("statements.sign", opened, write=frozenset({O}), form={}, label="open"),
        Case("statements.sign", draft, write=NOBODY, form={}, label="draft"),
        Case("statements.add_action", opened, write=MANAGERS, form=action, label="open"),
        Case("statements.add_action", draft, write=MANAGERS, form=action, label="draft"),
        Case("statements.set_status", {**opened, "action_id": ids["action"]},
             write=MANAGERS, form={"status": "done"}),
        Case("statements.set_status", {**draft, "action_id": ids["action"]},
             write=NOBODY, form={"status": "done"}, label="crossed"),
        Case("statements.withdraw_authority", {"authority_id": ids["authority"]},
             write=MODERATORS, form={}),
    ]
    for label, values, readers in (("draft", draft, GROUP), ("open", opened, EVERYONE)):
        out += [
            Case("statements.statement", values, read=readers, label=label),
            Case("statements.version", {**values, "number": 1}, read=readers, label=label),
            Case("statements.export_docx", values, read=readers, label=label),
            Case("statements.export_pdf", values, read=readers, label=label),
        ]
    return out


def toolkit_cases(ids: dict) -> list[Case]:
    """Tender baskets (``toolkit/permissions.py``): a basket is its owner's; shared with a
    group, its members read it, and change its items if the owner made it editable; only the
    owner renames, shares or deletes it; organisers and administrators have no say in it.
    Mate's private basket is nobody's here; mate's shared (editable) one and the member's
    (read only) are the private group's (the member and its organiser, not the admin); the
    member's organisation basket is the outsider's too (to read, without the group-only
    item in it)."""
    in_group = frozenset({M, G})  # the roles that are active members of the private group
    use_form = {"use-contracting_authority": "Openorg city hall",
                "use-tender_title": "Laptops 2026", "use-used_on": "2025-03-01"}
    use_json = {"contracting_authority": "Openorg city hall", "tender_title": "Laptops 2026",
                "date": "2025-03-01"}
    out = []
    for label, basket, entry, held, addable, readers, editors, owners in (
            ("private", "secret_basket", "secret_entry", "group_item", "translation",
             NOBODY, NOBODY, NOBODY),
            ("editable", "editable_basket", "editable_entry", "group_item", "public_item",
             in_group, in_group, NOBODY),
            ("read only", "shared_basket", "shared_entry", "public_item", "group_item",
             in_group, frozenset({M}), frozenset({M})),
            ("organisation", "org_basket", "org_entry", "group_item", "translation",
             frozenset({O, M}), frozenset({M}), frozenset({M}))):
        values = {"basket_id": ids[basket]}
        one = {**values, "entry_id": ids[entry]}
        out += [
            Case("toolkit.basket", values, read=readers, label=label),
            Case("toolkit.export", values, read=readers, label=label),
            Case("toolkit.settings", values, write=owners, label=label,
                 form={"settings-name": "Renamed basket", "settings-language": "en",
                       "settings-share": "private", "settings-group_id": ""}),
            Case("toolkit.delete", values, write=owners, form={}, label=label),
            Case("toolkit.move", one, write=editors, form={"direction": "down"}, label=label),
            Case("toolkit.remove", one, write=editors, form={}, label=label),
            Case("toolkit.note", one, write=editors, label=label,
                 form={f"note{ids[entry]}-note": "Ask for ten years of spare parts."}),
            Case("toolkit.variant", one, write=editors, label=label,
                 form={f"variant{ids[entry]}-variant_id": ""}),
            # Recording a use for a basket's items: whoever may see the basket.
            Case("toolkit.record_basket_use", values, read=readers, write=readers,
                 form=use_form, label=label),
            Case("api.basket", values, read=readers, label=label),
            Case("api.export_basket", values, read=readers, label=label),
            Case("api.update_basket", values, write=owners, form={"name": "Renamed basket"},
                 label=label),
            Case("api.delete_basket", values, write=owners, form={}, label=label),
            Case("api.add_basket_item", values, write=editors,
                 form={"item_id": ids[addable]}, label=label),
            Case("api.remove_basket_item", {**values, "item_id": ids[held]}, write=editors,
                 form={}, label=label),
        ]
    # Mate's private entry and item named under the member's basket's address.
    shared = {"basket_id": ids["shared_basket"]}
    out += [
        Case("toolkit.note", {**shared, "entry_id": ids["secret_entry"]}, write=NOBODY,
             form={f"note{ids['secret_entry']}-note": "Mine now."}, label="crossed"),
        Case("api.remove_basket_item", {**shared, "item_id": ids["group_item"]},
             write=NOBODY, form={}, label="crossed"),
    ]
    # Recorded uses, versions compared and restored, texts side by side (library items).
    group_readers = GROUP | MODERATORS
    for label, item, readers in (("public", ids["public_item"], EVERYONE),
                                 ("group", ids["group_item"], group_readers),
                                 ("review", ids["review_item"], frozenset({M}) | MODERATORS)):
        one = {"item_id": item}
        recorders = readers & SIGNED_IN if label != "review" else NOBODY  # published only
        out += [
            Case("toolkit.record_item_use", one, read=recorders, write=recorders,
                 form=use_form, label=label),
            Case("api.record_use", one, write=recorders, form=use_json, label=label),
            Case("toolkit_items.compare", one, read=readers, label=label),
            # Restoring: the moderators (the authors restore published texts of a published item;
    # the world's items are not the roles' own: see tests/toolkit/test_versions.py).
            Case("toolkit_items.restore", {**one, "number": 1}, write=MODERATORS, form={},
                 label=label),
        ]
    public, translation = ids["public_item"], ids["translation"]
    out += [
        # Version 1 of the public item was a draft: its author's (mate) and the moderators'.
        Case("toolkit_items.compare", {"item_id": public, "from": 1}, read=MODERATORS,
             label="public from v1"),
        Case("toolkit.hide_use", {"item_id": public, "use_id": ids["public_use"]},
             write=MODERATORS, form={"hide-reason": "Names a supplier."}, label="public"),
        Case("toolkit.hide_use", {"item_id": ids["group_item"], "use_id": ids["group_use"]},
             write=MODERATORS, form={"hide-reason": "Names a supplier."}, label="group"),
        Case("toolkit.hide_use", {"item_id": public, "use_id": ids["group_use"]},
             write=NOBODY, form={"hide-reason": "Names a supplier."}, label="crossed"),
        # The public item beside its group-only French translation: the group's only.
        Case("toolkit_items.side_by_side", {"item_id": public, "with": translation},
             read=group_readers, label="public with translation"),
        Case("toolkit_items.side_by_side", {"item_id": public}, read=group_readers,
             label="public, first companion"),
        Case("toolkit_items.side_by_side", {"item_id": translation, "with": public},
             read=group_readers, label="translation with public"),
    ]
    return out


def label_cases(ids: dict) -> list[Case]:
    """The labels register (``labels/service.py``): organisers keep it (site organisers and
    administrators); who may edit an item cites generations in it (the moderators here: the
    items are published or in review)."""
    out = [
        Case("labels.set_status", {"generation_id": ids["generation"]}, write=MODERATORS,
             form={"status": "superseded"}),
        Case("labels.add_generation", {"label_id": ids["label"]}, write=MODERATORS,
             form={"name": "generation 10", "status": "current"}),
        Case("labels.edit_label", {"label_id": ids["label"]}, read=MODERATORS,
             write=MODERATORS, form={"name": "TCO Certified", "issuer": "TCO Development AB"}),
        Case("labels.edit_generation", {"generation_id": ids["generation"]}, read=MODERATORS,
             write=MODERATORS, form={"name": "generation 9", "status": "withdrawn"}),
        Case("labels.delete_generation", {"generation_id": ids["generation"]},
             write=MODERATORS, form={}),
        Case("labels.delete_label", {"label_id": ids["uncited_label"]}, write=MODERATORS,
             form={}, label="uncited"),
        # Cited by the public item: refused (409) whoever asks, and nothing is lost.
        Case("labels.delete_generation", {"generation_id": ids["cited_generation"]},
             write=NOBODY, form={}, label="cited"),
        Case("labels.delete_label", {"label_id": ids["label"]}, write=NOBODY, form={},
             label="cited"),
    ]
    for label in ("public_item", "group_item", "review_item"):
        out.append(Case("labels.citations", {"item_id": ids[label]}, read=MODERATORS,
                        write=MODERATORS, form={"generations": str(ids["generation"])},
                        label=label.split("_")[0]))
    return out


def newer_cases(ids: dict) -> list[Case]:
    """Routes of domains merged beside this test (follows, notifications, erasure, the
    library review API, series): kept to the routes the app has."""
    event, review = {"event_id": ids["event"]}, {"item_id": ids["review_item"]}
    series = {"series_id": ids["series"]}
    found = [
        Case("api.publish_library_item", review, write=MODERATORS, form={}),
        Case("api.return_library_item", review, write=MODERATORS),
        Case("api.submit_library_item", review, write=NOBODY, form={}),
        # A registered participant chooses whether the list shows their name.
        Case("events.show_name", event, write=frozenset({M})),
        Case("events.edit_series", series, read=MANAGERS, write=MANAGERS),
        Case("events.cancel_series", series, write=MANAGERS),
        Case("privacy.admin_erase", {"user_id": ids["mate"]}, read=ADMINS, write=ADMINS),
        # Another member's follow; a notification that is nobody's; a forged link.
        Case("community.unfollow", {"follow_id": ids.get("mate_follow", 424242)},
             write=NOBODY, form={}),
        Case("api.delete_follow", {"follow_id": ids.get("mate_follow", 424242)},
             write=NOBODY, form={}),
        Case("community.open_notification", {"notification_id": 424242}, read=NOBODY),
        Case("community.mark_read", {"notification_id": 424242}, write=NOBODY, form={}),
        Case("community.unsubscribe_link", {"token": BOGUS_TOKEN}, read=NOBODY,
             write=NOBODY, form={}),
    ]
    return [case for case in found if case.endpoint in current_app.view_functions]


def library_cases(ids: dict) -> list[Case]:
    group_readers = GROUP | MODERATORS
    review_readers = frozenset({M}) | MODERATORS  # its author and the moderators
    out = []
    for label, item, readers in (("public", ids["public_item"], EVERYONE),
                                 ("group", ids["group_item"], group_readers),
                                 ("review", ids["review_item"], review_readers)):
        one = {"item_id": item}
        signed_readers = readers & SIGNED_IN
        translators = signed_readers if label != "review" else NOBODY  # published only
        out += [
            Case("library.item", one, read=readers, label=label),
            # Version 1 was saved as a draft: for its authors and the moderators only; the
            # latest (saved when it was published) for whoever may see the item.
            Case("library.version", {**one, "number": 1}, label=f"{label} v1",
                 read=(frozenset({M}) if label == "review" else NOBODY) | MODERATORS),
            Case("library.version", {**one, "number": ids["latest_version"][item]},
                 read=readers, label=f"{label} latest"),
            Case("library.edit_item", one, read=MODERATORS, write=MODERATORS, label=label),
            Case("library.translate_item", one, read=translators, write=translators,
                 label=label),
            Case("library.add_comment", one, write=signed_readers,
                 form={"body": "Useful, thanks."}, label=label),
            # Moderators decide (on an item in review; a published one has nothing to
            # decide, which is no refusal).
            Case("library.publish_item", one, write=MODERATORS,
                 form={} if label == "review" else None, label=label),
            Case("library.return_item", one, write=MODERATORS,
                 form={"reason": "Please add a source."} if label == "review" else None,
                 label=label),
            # Only a draft (or a returned item) is submitted, by its authors: none here.
            Case("library.submit_item", one, write=NOBODY, form={}, label=label),
            Case("library.set_translation_kind", one, write=MODERATORS, label=label),
            Case("library.link_translation", one, write=MODERATORS,
                 form={"link-original": str(ids["review_item" if label != "review" else
                                                "public_item"]),
                       "link-translation_kind": "member"},
                 label=label),
        ]
    out += [
        Case("library.download", {"item_id": ids["public_item"],
                                  "attachment_id": ids["attachment"]}, read=EVERYONE),
        Case("library.hide_comment", {"item_id": ids["public_item"],
                                      "comment_id": ids["comment"]}, write=MODERATORS,
             form={"reason": "Names a supplier."}),
        Case("library.restore_comment", {"item_id": ids["public_item"],
                                         "comment_id": ids["comment"]}, write=MODERATORS),
        Case("library.hide_comment", {"item_id": ids["group_item"],
                                      "comment_id": ids["group_comment"]}, write=MODERATORS,
             form={"reason": "Names a supplier."}, label="group"),
    ]
    return out


#: Routes with a path parameter that are not about who may: static files.
NOT_IN_THE_MATRIX = {"static"}

#: Writes that the request makes whoever asks (not a change of the world).
BOOKKEEPING_TABLES = ("user_sessions", "api_tokens", "audit_entries")
#: SQLite's seat lock (``events.service.lock_event``): an UPDATE that changes nothing.
NO_OP_LOCK = "SET seats_taken=events.seats_taken, updated_at=events.updated_at"


# --- Clients, one per role --------------------------------------------------------------------


class RoleClient:
    """A role's browser (cookies and the CSRF token the forms carry) or API script."""

    def __init__(self, app: Flask, role: str, world: World) -> None:
        self.role = role
        self.client = app.test_client()
        self.token = world.tokens.get(role)
        self.csrf = ""

    def sign_in(self, user) -> None:
        page = self.client.get("/login")
        self.csrf = CSRF.search(page.get_data(as_text=True)).group(1)
        answer = self.client.post("/login", data={
            "email": user.email, "password": "correct horse battery", "csrf_token": self.csrf})
        assert answer.status_code == 302, f"{self.role} cannot sign in"
        page = self.client.get("/profile" if self.role != V else "/login")
        self.csrf = CSRF.search(page.get_data(as_text=True)).group(1)

    def visitor_token(self) -> None:
        self.csrf = CSRF.search(self.client.get("/login").get_data(as_text=True)).group(1)

    def send(self, method: str, url: str, form: dict | None = None):
        if url.startswith("/api/"):
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            return self.client.open(url, method=method, headers=headers,
                                    json=form if method != "GET" else None)
        if method == "GET":
            return self.client.get(url)
        data = {**(form or {}), "csrf_token": self.csrf}
        for prefix in {key.split("-")[0] for key in data if "-" in key}:
            data[f"{prefix}-csrf_token"] = self.csrf  # a form with a prefix (two on a page)
        return self.client.open(url, method=method, data=data)


@pytest.fixture
def clients(app, world) -> Iterator[dict[str, RoleClient]]:
    app.config["WTF_CSRF_ENABLED"] = True
    # Each request is undone: applying its index updates after it would be wasted work.
    saved = {key: app.config[key] for key in ("SEARCH_APPLY_ON_COMMIT",
                                               "BUYERGROUP_SEND_MAIL_ON_COMMIT")}
    app.config.update(dict.fromkeys(saved, False))  # and so would sending its mail
    try:
        found = {}
        for role in ROLES:
            found[role] = RoleClient(app, role, world)
            if role == V:
                found[role].visitor_token()
            else:
                found[role].sign_in(world.users[role])
        yield found
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
        app.config.update(saved)


@contextmanager
def undone() -> Iterator[None]:
    """Run a request inside a savepoint rolled back after it: the next meets the same world."""
    db.session.commit()  # the test's own savepoint ends first (conftest's hand-over)
    connection = db.session.get_bind()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        db.session.rollback()
        savepoint.rollback()
        db.session.expire_all()


def url_of(app: Flask, case: Case) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(case.endpoint, **case.values)


def methods_of(app: Flask, endpoint: str) -> set[str]:
    return {m for rule in app.url_map.iter_rules() if rule.endpoint == endpoint
            for m in rule.methods} - {"HEAD", "OPTIONS"}


def world_writes(sent: list[str]) -> list[str]:
    return [s for s in writes_in(sent) if NO_OP_LOCK not in s
            and not any(f" {table}" in s.split("SET")[0] or f'"{table}"' in s
                       for table in BOOKKEEPING_TABLES)]


def refused(response, *, api: bool) -> bool:
    status = response.status_code
    if status in (400, 401, 403, 404, 405, 409):
        return True
    if api:
        return False
    location = response.headers.get("Location", "")
    return status == 302 and "/login" in location


def _body(response) -> str:
    """The text a reader is given: a page, or the text of a downloaded DOCX or PDF."""
    data = response.get_data()
    if response.mimetype == DOCX:
        from docx import Document

        document = Document(io.BytesIO(data))
        cells = [cell.text for table in document.tables for row in table.rows
                 for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if response.mimetype == "application/pdf":  # its text streams, deflated
        streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL)
        return "\n".join(zlib.decompress(stream).decode("latin-1") for stream in streams)
    return data.decode("utf-8", errors="replace")


# --- The walk ---------------------------------------------------------------------------------


def test_every_route_with_a_path_parameter_is_in_the_tables(app, world):
    covered = {case.endpoint for case in cases(world.ids)}
    with_parameters = {rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments}
    missing = with_parameters - covered - NOT_IN_THE_MATRIX
    assert not missing, f"say who may use these routes: {sorted(missing)}"


def test_the_authorisation_matrix(app, world, clients):
    problems: list[str] = []
    counted = {"requests": 0}
    for case in cases(world.ids):
        url = url_of(app, case)
        methods = methods_of(app, case.endpoint)
        api = url.startswith("/api/")
        for role in ROLES:
            client = clients[role]
            if case.read is not None and "GET" in methods:
                with undone():
                    response = client.send("GET", url)
                counted["requests"] += 1
                problems += judge_read(case, role, response, api=api)
            if case.write is not None:
                method = next(m for m in ("POST", "DELETE", "PATCH", "PUT") if m in methods)
                with undone(), statements() as sent:
                    response = client.send(method, url, case.form or {})
                counted["requests"] += 1
                problems += judge_write(case, role, response, world_writes(sent), api=api)
    assert not problems, f"{len(problems)} of {counted['requests']} requests:\n" + "\n".join(
        problems)


def judge_read(case: Case, role: str, response, *, api: bool) -> list[str]:
    status = response.status_code
    where = f"GET {case} as {role}: {status}"
    if status >= 500:
        return [f"{where} (a server error)"]
    if role in case.read:
        if status != 200:
            return [f"{where}, expected 200"]
    elif not refused(response, api=api):
        return [f"{where}, expected a refusal"]
    return []


def judge_write(case: Case, role: str, response, writes: list[str], *, api: bool) -> list[str]:
    status = response.status_code
    where = f"WRITE {case} as {role}: {status}"
    if status >= 500:
        return [f"{where} (a server error)"]
    if role in case.write:
        if refused(response, api=api) and status not in (400, 409):
            return [f"{where}, expected to be allowed ({response.headers.get('Location')})"]
        if case.form is not None and not writes and not _no_op(case, role):
            return [f"{where}, allowed but wrote nothing"]
        return []
    if writes:
        return [f"{where}, refused role wrote: {writes[:2]}"]
    if not refused(response, api=api) and status != 302:
        return [f"{where}, expected a refusal"]
    return []


def _no_op(case: Case, role: str) -> bool:
    """Allowed requests that have nothing to change in this world."""
    return (case.endpoint in ("events.register", "api.register_for_event") and role == M) or (
        case.endpoint == "library.submit_item")


def test_a_visitor_is_shown_nothing_private(app, world, clients):
    """Every GET route a visitor can reach, with and without parameters."""
    urls = [url_of(app, case) for case in cases(world.ids) if case.read is not None]
    for rule in app.url_map.iter_rules():
        if not rule.arguments and "GET" in rule.methods and rule.endpoint != "static":
            urls.append(rule.rule)
    urls += ["/library?q=groupsecret", "/library?q=inreview", "/api/v1/library?q=groupsecret",
             "/events?q=confidential", "/members?q=mate", "/organisations?q=hiddenorg"]
    private = [SECRET_LINK, OTHER_LINK, SECRET_ITEM, REVIEW_ITEM, SECRET_MINUTES,
               HIDDEN_ORGANISATION, SECRET_COMMENT, SECRET_THREAD, SECRET_REPLY, SECRET_DRAFT,
               SECRET_BASKET, SHARED_BASKET, SECRET_USE, HIDDEN_USE, SECRET_TRANSLATION,
               *world.emails]
    leaks = []
    for url in urls:
        response = clients[V].send("GET", url)
        assert response.status_code < 500, url
        body = _body(response)
        leaks += [f"{url}: {word}" for word in private if word.lower() in body.lower()]
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("role", [O, S])
def test_who_is_not_in_the_group_is_shown_nothing_of_it(app, world, clients, role):
    """A member outside the private group, and a site organiser of another group: no
    meeting link (they are not registered), no group-only item, comment, use or translation,
    no minutes, no basket of the group's."""
    urls = [url_of(app, case) for case in cases(world.ids) if case.read is not None
            and role in case.read]
    for rule in app.url_map.iter_rules():
        if not rule.arguments and "GET" in rule.methods and rule.endpoint != "static":
            urls.append(rule.rule)
    urls += ["/library?q=groupsecret", "/api/v1/library?q=groupsecret", "/events/mine",
             "/api/v1/events"]
    private = [SECRET_LINK, SECRET_MINUTES, SECRET_THREAD, SECRET_REPLY, SECRET_DRAFT,
               SECRET_BASKET, SHARED_BASKET]
    if role != S:  # site organisers moderate the whole library, its comments and uses too
        private += [SECRET_ITEM, SECRET_COMMENT, SECRET_USE, HIDDEN_USE, SECRET_TRANSLATION]
    leaks = []
    for url in urls:
        response = clients[role].send("GET", url)
        assert response.status_code < 500, url
        body = _body(response)
        leaks += [f"{url}: {word}" for word in private if word.lower() in body.lower()]
    assert not leaks, "\n".join(leaks)


def test_a_write_without_the_csrf_token_is_refused(app, world, clients):
    admin = clients[A]
    with statements() as sent:
        response = admin.client.post(f"/manage/users/{world.ids['mate']}/role",
                                     data={"role": "organiser"})
    assert response.status_code == 400
    assert world_writes(sent) == []
