"""List pages send a constant number of SQL statements, whatever the number of rows."""

from __future__ import annotations

from datetime import date

import pytest

from buyergroup.extensions import db
from buyergroup.network import service
from tests.conftest import Auth
from tests.queries import count_for


@pytest.fixture
def signed_in(client, auth, member):
    auth.login(member)
    return client


def test_groups_page_with_2_and_20_groups(signed_in, member, make_user, make_group):
    organiser = make_user("organiser@example.org", role="organiser")
    others = [make_user(f"other{n}@example.org") for n in range(2)]

    def add_groups(start: int, stop: int) -> None:
        for n in range(start, stop):
            group = make_group(f"Group {n:02d}", organiser=organiser,
                               join_policy="approval" if n % 2 else "open")
            for other in others:
                service.add_member(group, other)
            if n % 3 == 0:
                service.add_member(group, member)
            elif n % 3 == 1:
                service.join_group(group, member)  # a pending request
        db.session.commit()

    add_groups(0, 2)
    with_2 = count_for(signed_in, "/groups")
    add_groups(2, 20)
    with_20 = count_for(signed_in, "/groups")
    assert with_20 == with_2
    text = signed_in.get("/groups").get_data(as_text=True)
    # Groups 0, 3, ... 18 and the open ones of 1, 4, ... 19 (joined at once); the other
    # three asked for.
    assert text.count("You are a member") == 10 and text.count("Request pending") == 4
    assert text.count(">3 members") + text.count(" 3 members") == 10


def test_organisations_page_with_2_and_20_organisations(signed_in, make_organisation):
    def add_organisations(start: int, stop: int) -> None:
        for n in range(start, stop):
            organisation = make_organisation(f"Authority {n:02d}")
            for network in ("Electronics Watch", "Procura+"):
                service.add_affiliation(None, organisation, name=network, since=date(2020, 1, 1))
        db.session.commit()

    add_organisations(0, 2)
    with_2 = count_for(signed_in, "/organisations")
    add_organisations(2, 20)
    with_20 = count_for(signed_in, "/organisations")
    assert with_20 == with_2


def test_group_page_with_2_and_20_members(signed_in, member, make_user, make_group,
                                          make_organisation):
    organiser = make_user("organiser@example.org", role="organiser")
    group = make_group("Fair laptops", organiser=organiser, join_policy="approval")
    service.add_member(group, member)
    db.session.commit()
    counter = iter(range(100))

    def add_people(how_many: int) -> None:
        for _ in range(how_many):
            n = next(counter)
            person = make_user(f"person{n}@example.org", name=f"Person {n:02d}",
                               organisation=make_organisation(f"Body {n:02d}"))
            if n % 2:
                service.add_member(group, person)
            else:
                service.join_group(group, person)
        db.session.commit()

    url = f"/groups/{group.slug}"
    add_people(2)
    with_2 = count_for(signed_in, url)
    add_people(18)
    with_20 = count_for(signed_in, url)
    assert with_20 == with_2
    # The organiser's view also lists the requests to join, with each applicant's body.
    auth = Auth(signed_in)
    auth.logout()
    auth.login(organiser)
    as_organiser = count_for(signed_in, url)
    add_people(2)
    assert count_for(signed_in, url) == as_organiser
    page = signed_in.get(url).get_data(as_text=True)
    assert "Body 20" in page and "Body 21" in page  # a request to join, a member
