"""A GET request to a network or glossary page writes nothing to the database."""

from __future__ import annotations

import pytest

from buyergroup.extensions import db
from buyergroup.network import service
from tests.queries import statements, writes_in


@pytest.mark.parametrize("who", ["visitor", "member", "organiser"])
def test_network_and_glossary_pages_write_nothing_on_get(
    client, auth, member, organiser, make_group, make_organisation, who
):
    organisation = make_organisation("Stad Gent")
    group = make_group("Fair laptops", organiser=organiser, host_organisation=organisation)
    service.join_group(group, member)
    db.session.commit()
    if who != "visitor":
        auth.login(member if who == "member" else organiser)
    pages = ["/groups", f"/groups/{group.slug}", "/organisations",
             f"/organisations/{organisation.slug}", "/join"]
    if who != "visitor":
        pages.append("/library/glossary")
    if who == "organiser":
        pages += ["/groups/new", f"/groups/{group.slug}/edit", "/organisations/new",
                  f"/organisations/{organisation.slug}/edit", "/library/glossary/new"]
    for url in pages:
        client.get(url)  # warm: a first request may fill caches
        with statements() as sent:
            response = client.get(url)
        assert response.status_code in (200, 302), url
        assert writes_in(sent) == [], url
