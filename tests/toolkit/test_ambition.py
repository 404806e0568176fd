"""Ambition level and verification: fields of criteria and clauses, facets of the library."""

from __future__ import annotations

import pytest
from lxml import html

from buyergroup.errors import ValidationFailed
from buyergroup.library import service
from buyergroup.library.models import Ambition, AmbitionScheme


@pytest.fixture
def graded(make_item):
    return [
        make_item(title="Energy core", kind="criterion", phase="technical_specification",
                  ambition="1", ambition_scheme="eu_gpp", verification=["label"]),
        make_item(title="Energy comprehensive", kind="criterion", phase="award_criterion",
                  ambition="2", ambition_scheme="eu_gpp",
                  verification=["label", "third_party_certificate"]),
        make_item(title="Living wage", kind="clause", ambition="3", ambition_scheme="se_nap",
                  verification=["independent_monitoring"]),
        make_item(title="Members only", kind="clause", ambition="3", visibility="members",
                  verification=["independent_monitoring"]),
    ]


def counts(body: dict, facet: str) -> dict:
    return {o["code"]: o["count"] for o in body["facets"].get(facet, [])}


def test_the_scheme_names_its_own_steps():
    assert AmbitionScheme.eu_gpp.step_name(Ambition.basic) == "core"
    assert AmbitionScheme.eu_gpp.step_name(Ambition.advanced) == "comprehensive"
    assert [AmbitionScheme.se_nap.step_name(a) for a in Ambition] == [
        "bas", "avancerad", "spjutspets"]


def test_a_level_the_scheme_does_not_have_is_refused_on_the_field(make_item):
    with pytest.raises(ValidationFailed) as refused:
        make_item(kind="criterion", ambition="3", ambition_scheme="eu_gpp")
    assert refused.value.field == "ambition"


def test_api_filters_and_counts_by_ambition_and_verification(client, member, bearer, graded):
    body = client.get("/api/v1/library").get_json()
    # A visitor's counts leave out the members' item.
    assert counts(body, "ambition") == {"1": 1, "2": 1, "3": 1}
    assert [o["label"] for o in body["facets"]["ambition"]] == [
        "1 · Basic", "2 · Advanced", "3 · Front-runner"]
    assert counts(body, "verification")["independent_monitoring"] == 1
    member_body = client.get("/api/v1/library", headers=bearer(member)).get_json()
    assert counts(member_body, "ambition")["3"] == 2
    assert counts(member_body, "verification")["independent_monitoring"] == 2

    body = client.get("/api/v1/library?ambition=1&ambition=2&sort=title").get_json()
    assert [i["title"] for i in body["items"]] == ["Energy comprehensive", "Energy core"]
    assert body["items"][0]["ambition"] == 2 and body["items"][0]["ambition_scheme"] == "eu_gpp"
    body = client.get("/api/v1/library?verification=third_party_certificate").get_json()
    assert [i["title"] for i in body["items"]] == ["Energy comprehensive"]
    body = client.get("/api/v1/library?ambition=3&verification=label").get_json()
    assert body["total"] == 0
    # Nonsense values filter to nothing, never an error.
    assert client.get("/api/v1/library?ambition=%00x&verification=" + "x" * 500).status_code == 200


def test_library_page_shows_the_facets_and_the_item_page_the_scheme_name(client, graded):
    page = html.fromstring(client.get("/library?ambition=2").data)
    legends = [legend.text_content().strip() for legend in page.xpath("//fieldset/legend")]
    assert "Ambition level" in legends and "Verification" in legends
    assert [a.text_content() for a in page.xpath("//h3/a | //h2/a")
            if "Energy" in a.text_content()] == ["Energy comprehensive"]
    text = html.fromstring(client.get(f"/library/{graded[2].id}").data).text_content()
    assert "3 · Front-runner" in text
    assert "Swedish criteria (Upphandlingsmyndigheten): spjutspets" in text


def test_item_json_gives_the_level_as_a_number(client, graded):
    body = client.get(f"/api/v1/library/{graded[0].id}").get_json()
    assert (body["ambition"], body["ambition_scheme"]) == (1, "eu_gpp")


def test_translations_start_with_the_originals_level(member, graded):
    translation = service.add_translation(member, graded[1], title="Energie uitgebreid",
                                          language="nl", body="Tekst.")
    assert translation.ambition is Ambition.advanced
    assert translation.ambition_scheme is AmbitionScheme.eu_gpp
