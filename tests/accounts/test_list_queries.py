"""Pages that list people with their organisations send a constant number of SQL
statements, whatever the number of rows (each row's account or organisation was one
lookup)."""

from __future__ import annotations

import pytest

from buyergroup.extensions import db
from tests.queries import count_for


@pytest.fixture
def add_people(make_user, make_organisation):
    counter = iter(range(100))

    def add(how_many: int) -> None:
        for _ in range(how_many):
            n = next(counter)
            make_user(f"person{n}@example.org", name=f"Person {n:02d}",
                      organisation=make_organisation(f"Body {n:02d}"))

    return add


@pytest.mark.parametrize(("url", "row"), [
    ("/manage/users", "<td>Body 19</td>"),
    ("/statements/signatories", ">Person 19 (Body 19)</option>"),  # whom to authorise
])
def test_account_lists_with_2_and_20_people(client, auth, admin, add_people, url, row):
    add_people(2)
    auth.login(admin)
    with_2 = count_for(client, url)
    add_people(18)
    with_20 = count_for(client, url)
    assert with_20 == with_2
    text = client.get(url).get_data(as_text=True)
    assert row in text


def test_the_organisers_desk_with_1_and_4_of_everything(
    client, auth, admin, make_user, make_group, make_organisation
):
    # Requests to join the network and its groups, invitations, items waiting for review:
    # each names a person or an organisation.
    from buyergroup.accounts import service as accounts
    from buyergroup.library import service as library
    from buyergroup.library.models import ItemStatus, Visibility
    from buyergroup.network import service as network
    from buyergroup.onboarding.service import JoinRequestData, submit_join_request

    group = make_group("Fair servers", organiser=admin, join_policy="approval")
    counter = iter(range(100))

    def add(how_many: int) -> None:
        for _ in range(how_many):
            n = next(counter)
            organisation = make_organisation(f"Body {n:02d}")
            person = make_user(f"person{n}@example.org", name=f"Person {n:02d}",
                               organisation=organisation)
            network.join_group(group, person)
            submit_join_request(JoinRequestData(
                name=f"Newcomer {n:02d}", email=f"new{n}@example.org",
                organisation_name=organisation.name))
            accounts.invite(inviter=admin, email=f"guest{n}@example.org",
                            organisation=organisation)
            library.create_item(None, created_by=person, authors=[person],
                                status=ItemStatus.submitted, visibility=Visibility.public,
                                kind="clause", title=f"Submitted clause {n:02d}",
                                language="en", body="Text.")
        db.session.commit()

    auth.login(admin)
    add(1)
    with_1 = count_for(client, "/manage/")
    review_with_1 = count_for(client, "/library/review")
    add(3)
    assert count_for(client, "/manage/") == with_1
    assert count_for(client, "/library/review") == review_with_1
    desk = client.get("/manage/").get_data(as_text=True)
    assert all(f"Person {n:02d}" in desk and f"guest{n}@example.org" in desk
               and f"Newcomer {n:02d}" in desk for n in range(4))
    assert "Matches the existing organisation Body 03." in desk
