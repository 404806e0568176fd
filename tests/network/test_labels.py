"""The network's enums carry their own translated labels (not the global table)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from buyergroup.network.models import (
    GroupRole,
    JoinPolicy,
    MembershipState,
    OrganisationKind,
    RequestState,
)
from buyergroup.templating import ENUM_LABELS, label

NETWORK_ENUMS = (OrganisationKind, JoinPolicy, GroupRole, MembershipState, RequestState)


@pytest.mark.parametrize("enum_class", NETWORK_ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_its_own_label(app, enum_class):
    with app.test_request_context():
        for member in enum_class:
            assert member in enum_class._labels(), member
            assert label(member) == member.label != member.value


def test_the_global_table_keeps_only_codes_other_domains_share(app):
    own = {
        "federal_authority", "regional_authority", "local_authority",
        "central_purchasing_body", "university", "ngo", "monitoring_organisation",
        "open", "approval",
    }
    assert own.isdisjoint(ENUM_LABELS)


@pytest.mark.parametrize(
    ("locale", "kind", "policy"),
    [
        ("fr", "Autorité fédérale", "Adhésion soumise à approbation"),
        ("nl", "Federale overheid", "Lidmaatschap na goedkeuring"),
        ("de", "Bundesbehörde", "Beitritt nach Genehmigung"),
    ],
)
def test_labels_are_translated(app, locale, kind, policy):
    with app.test_request_context(), force_locale(locale):
        assert OrganisationKind.federal_authority.label == kind
        assert label(JoinPolicy.approval) == policy


def test_the_forms_offer_the_labels(client, auth, organiser):
    auth.login(organiser)
    page = client.get("/organisations/new").get_data(as_text=True)
    assert ">Central purchasing body</option>" in page
    page = client.get("/groups/new").get_data(as_text=True)
    assert ">Joining needs approval</option>" in page


def test_a_label_kept_in_one_language_is_not_shown_in_another(app):
    # Labels are kept per language once asked (buyergroup/database.py): each language its own.
    with app.test_request_context():
        assert OrganisationKind.federal_authority.label == "Federal authority"
        for locale, kind in (("nl", "Federale overheid"), ("fr", "Autorité fédérale")):
            with force_locale(locale):
                assert OrganisationKind.federal_authority.label == kind
        assert OrganisationKind.federal_authority.label == "Federal authority"
