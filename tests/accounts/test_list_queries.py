"""Pages that list accounts with their organisations send a constant number of SQL
statements, whatever the number of accounts (each account's organisation was one lookup)."""

from __future__ import annotations

import pytest

from buyergroup.extensions import db
from buyergroup.statements import service as statements
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


@pytest.mark.parametrize("url", ["/manage/users", "/statements/signatories"])
def test_account_lists_with_2_and_20_people(client, auth, admin, add_people, url):
    add_people(2)
    auth.login(admin)
    with_2 = count_for(client, url)
    add_people(18)
    with_20 = count_for(client, url)
    assert with_20 == with_2
    text = client.get(url).get_data(as_text=True)
    assert "Person 19 (Body 19)" in text or "<td>Body 19</td>" in text


def test_the_signatories_page_names_each_authority_with_its_organisation(
    client, auth, admin, add_people
):
    add_people(3)
    for candidate in statements.signatory_candidates()[:2]:
        statements.authorise_signatory(admin, candidate)
    db.session.commit()
    auth.login(admin)
    with_2 = count_for(client, "/statements/signatories")
    for candidate in statements.signatory_candidates()[2:]:
        statements.authorise_signatory(admin, candidate)
    db.session.commit()
    with_3 = count_for(client, "/statements/signatories")
    assert with_3 == with_2
    text = client.get("/statements/signatories").get_data(as_text=True)
    assert "<td>Person 02</td><td>Body 02</td>" in text
