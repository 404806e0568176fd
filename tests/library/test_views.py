"""The library pages as a visitor, a member and an organiser see and use them."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from buyergroup.extensions import db
from buyergroup.glossary.service import save_concept
from buyergroup.library import service
from buyergroup.library.models import (
    Attachment,
    Comment,
    ExtractionState,
    ItemStatus,
    LibraryItem,
)
from buyergroup.security import EARLY_SCRIPT
from tests.conftest import body_of
from tests.library.conftest import broken_pdf_bytes, docx_bytes, odt_bytes, pdf_bytes, png_bytes
from tests.network.pages import error_by, html, main_text
from tests.network.pages import input_value as raw_input_value

# Pages and forms: see the marker (pyproject.toml); their queries run on both databases
# in the authorisation matrix, the no-5xx walk and the services' own tests.
pytestmark = pytest.mark.one_database


def input_value(response, name: str) -> str | None:
    # Browsers drop the newline WTForms writes after <textarea>; lxml keeps it.
    value = raw_input_value(response, name)
    return value[1:] if value and value.startswith("\n") else value


def reload(instance):
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(type(instance), instance.id)


def facet_options(response, legend: str) -> dict[str, int]:
    """{label: count} of the facet fieldset with this legend."""
    doc = html(response)
    fieldsets = doc.xpath(f'//fieldset[legend[normalize-space()="{legend}"]]')
    if not fieldsets:
        return {}
    options = {}
    for label in fieldsets[0].xpath(".//label"):
        text = " ".join(label.text_content().split())
        match = re.fullmatch(r"(.*) \((\d+)\)", text)
        options[match.group(1)] = int(match.group(2))
    return options


def result_titles(response) -> list[str]:
    return [" ".join(a.text_content().split()) for a in html(response).xpath(
        '//ol[contains(@class, "results")]//h3/a')]


def result_meta_lines(response) -> list[str]:
    return [" ".join(div.text_content().split()) for div in html(response).xpath(
        '//ol[contains(@class, "results")]//div[@class="meta"]')]


def results_count(response) -> str:
    return " ".join(html(response).xpath('//*[@role="status" and contains(@class, '
                                          '"results-count")]')[0].text_content().split())


# --- Browsing and visibility ------------------------------------------------------------------


@pytest.fixture
def mixed_library(make_item, group_with_member, organiser):
    """A public clause, a members-only report, and a group-only case study."""
    group, insider = group_with_member
    public = make_item(title="Fair laptops clause", kind="clause", language="en",
                       body="Workers assemble laptops in safe factories.",
                       product_groups=["laptops"], year=2021)
    hidden = make_item(title="Verborgen rapport over laptops", kind="report", language="nl",
                       visibility="members", body="Een rapport over laptops en fabrieken.",
                       product_groups=["laptops"], year=2022)
    grouped = make_item(author=insider, title="Server pilot in our group", kind="case_study",
                        language="en", visibility="group", group=group,
                        body="Our servers come from audited factories.", year=2023)
    return public, hidden, grouped


class TestBrowseAndVisibility:
    def test_a_visitor_sees_public_items_only_in_hits_and_counts(self, client, mixed_library):
        public, hidden, grouped = mixed_library
        page = client.get("/library")
        assert page.status_code == 200
        assert result_titles(page) == ["Fair laptops clause"]
        assert results_count(page) == "1 item"
        assert facet_options(page, "Kind") == {"Contract clause": 1}
        assert facet_options(page, "Language") == {"English": 1}
        assert facet_options(page, "Year") == {"2021": 1}
        assert facet_options(page, "Product group") == {"Laptops": 1}
        # A word only in the hidden items finds nothing, and says so.
        found = client.get("/library?q=fabrieken")
        assert result_titles(found) == [] and "0 results" in results_count(found)
        assert client.get(f"/library/{hidden.id}").status_code == 404
        assert client.get(f"/library/{grouped.id}").status_code == 404
        assert client.get(f"/library/{public.id}").status_code == 200

    @pytest.mark.parametrize("query", ['"rapport over laptops"', "rapport", "child labour"],
                             ids=["phrase", "word", "glossary expansion"])
    def test_no_query_reveals_hidden_items_in_counts(self, client, mixed_library, query):
        # Phrases and glossary expansions take other paths through the search engine than
        # single words (a time limit for phrases); the visibility filter must hold on all.
        save_concept(None, key="child-labour", terms={"en": ["child labour"],
                                                      "nl": ["rapport over laptops"]})
        db.session.commit()
        page = client.get("/library", query_string={"q": query})
        assert result_titles(page) == []
        assert results_count(page).startswith("0 results")
        assert facet_options(page, "Kind") == {}
        assert facet_options(page, "Language") == {}

    @pytest.mark.parametrize(("code", "meta"), [
        ("en", "Contract clause in Dutch"), ("nl", "Contractclausule in het Nederlands"),
        ("fr", "Clause contractuelle en néerlandais"), ("de", "Vertragsklausel auf Niederländisch"),
    ])
    def test_a_result_names_its_language_as_a_sentence_in_the_reader_s_language_does(
        self, client, make_item, code, meta
    ):
        make_item(title="Eerlijke laptops", language="nl")
        client.post("/language", data={"language": code, "next": "/"})
        assert result_meta_lines(client.get("/library")) == [meta]

    def test_hidden_organisations_are_not_named_to_visitors(
        self, client, auth, member, make_item, make_organisation
    ):
        hidden = make_organisation("Quiet Purchasing Office", is_public=False)
        item = make_item(title="Clause from a quiet office", organisation=hidden)
        for page in (client.get("/library"), client.get(f"/library/{item.id}"),
                     client.get(f"/api/v1/library/{item.id}")):
            assert "Quiet Purchasing Office" not in page.get_data(as_text=True)
        auth.login(member)
        assert facet_options(client.get("/library"), "Organisation") == {
            "Quiet Purchasing Office": 1}
        assert "Quiet Purchasing Office" in main_text(client.get(f"/library/{item.id}"))
        # Result meta lines are kept and shared between readers: each gets their own.
        assert result_meta_lines(client.get("/library")) == [
            "Contract clause in English Quiet Purchasing Office"]
        auth.logout()
        assert result_meta_lines(client.get("/library?sort=title")) == [
            "Contract clause in English"]

    def test_members_see_members_items_but_not_other_groups(
        self, client, auth, member, mixed_library
    ):
        public, hidden, grouped = mixed_library
        auth.login(member)
        page = client.get("/library?sort=title")
        assert result_titles(page) == ["Fair laptops clause", "Verborgen rapport over laptops"]
        assert facet_options(page, "Kind") == {"Contract clause": 1, "Report or guide": 1}
        assert facet_options(page, "Product group") == {"Laptops": 2}
        assert client.get(f"/library/{hidden.id}").status_code == 200
        assert client.get(f"/library/{grouped.id}").status_code == 404
        assert "Server pilot" not in main_text(client.get("/library?q=servers"))

    def test_group_members_see_their_groups_items(
        self, client, auth, group_with_member, mixed_library
    ):
        _, insider = group_with_member
        public, hidden, grouped = mixed_library
        auth.login(insider)
        page = client.get("/library")
        assert set(result_titles(page)) == {
            "Fair laptops clause", "Verborgen rapport over laptops", "Server pilot in our group"}
        assert facet_options(page, "Kind")["Case study"] == 1
        assert client.get(f"/library/{grouped.id}").status_code == 200

    def test_filters_combine_or_within_and_across(self, client, auth, member, mixed_library):
        auth.login(member)
        both = client.get("/library?kind=clause&kind=report")
        assert len(result_titles(both)) == 2
        one = client.get("/library?kind=clause&kind=report&language=nl")
        assert result_titles(one) == ["Verborgen rapport over laptops"]
        chosen = html(one).xpath('//ul[contains(@class, "chosen-filters")]//a')
        assert {" ".join(a.text_content().split()) for a in chosen} >= {
            "Language: Dutch × (remove this filter)"}
        # The checkboxes of the chosen filters stay ticked.
        assert html(one).xpath('//input[@name="language" and @value="nl"]/@checked')

    def test_pages_of_results(self, client, make_item):
        for n in range(23):
            make_item(title=f"Clause number {n:02d}")
        first = client.get("/library?sort=title")
        second = client.get("/library?sort=title&page=2")
        assert len(result_titles(first)) == 20
        assert result_titles(second) == ["Clause number 20", "Clause number 21",
                                         "Clause number 22"]
        assert "Page 2 of 2" in main_text(second)
        assert html(first).xpath('//nav[@class="pagination"]//a[@rel="next"]')

    def test_snippets_highlight_matches_and_escape_the_rest(self, client, make_item):
        make_item(title="Clause", body="No <script>alert(1)</script> child labour in factories.")
        page = client.get("/library?q=child")
        snippet = html(page).xpath('//p[@class="snippet"]')[0]
        assert snippet.xpath(".//mark")
        raw = page.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in raw

    @pytest.mark.committing  # search reads the glossary on a connection of its own
    def test_glossary_expansions_are_shown_and_cross_languages(self, client, make_item):
        make_item(title="Geen kinderarbeid in de keten", language="nl",
                  body="De opdrachtnemer zorgt dat er geen kinderarbeid is.")
        save_concept(None, key="child-labour", terms={"en": ["child labour"],
                                                      "nl": ["kinderarbeid"]})
        db.session.commit()
        page = client.get("/library?q=child+labour")
        assert result_titles(page) == ["Geen kinderarbeid in de keten"]
        assert "Also searched for: kinderarbeid" in main_text(page)

    def test_a_suggestion_is_offered_for_a_misspelling(self, client, make_item):
        make_item(title="Kinderarbeid", language="nl", body="Geen kinderarbeid in de keten.")
        page = client.get("/library?q=kinderarbied")
        link = html(page).xpath('//p[contains(., "Did you mean")]//a')
        assert link and link[0].text_content().strip() == "kinderarbeid"
        assert "q=kinderarbeid" in link[0].get("href")

    @pytest.mark.parametrize("query", ['"unclosed phrase', "(laptops", "laptops AND"])
    def test_a_query_the_search_cannot_read_is_explained(self, client, make_item, query):
        make_item()
        page = client.get("/library", query_string={"q": query})
        assert page.status_code == 200
        assert "Your search could not be read." in main_text(page)
        assert html(page).xpath('//div[contains(@class, "notice-error")]')

    def test_each_result_says_its_language_and_links_its_translations(
        self, client, make_item, organiser
    ):
        english = make_item(title="Living wage clause", language="en")
        french = make_item(title="Clause salaire vital", language="fr")
        service.link_translation(organiser, french, english, "official")
        db.session.commit()
        page = client.get("/library?sort=title")
        card = html(page).xpath('//li[contains(@class, "result")][.//a[.="Living wage clause"]]')[0]
        assert card.get("lang") == "en"
        assert "in English" in card.text_content()
        also = card.xpath('.//p[@class="also-in"]/a')
        assert [(a.text, a.get("hreflang")) for a in also] == [("French", "fr")]


# --- Reading an item --------------------------------------------------------------------------


KIND_CASES = [
    ("criterion", {"phase": "award_criterion", "ambition": "2", "ambition_scheme": "eu_gpp",
                   "verification": ["third_party_certificate"], "rationale": "Because it works.",
                   "verification_notes": "Ask for the certificate."},
     ["Criterion text", "Award criterion", "2 · Advanced", "EU GPP criteria: comprehensive",
      "Third-party certificate",
      "Ask for the certificate.", "Rationale", "Because it works."]),
    ("clause", {"phase": "contract_performance_clause", "legal_system": "Directive 2014/24/EU"},
     ["Clause text", "Contract performance clause", "Directive 2014/24/EU"]),
    ("case_study", {"approach": "Market consultation first.", "results": "Two bids.",
                    "lessons": "Start early.", "challenges": "Few suppliers.",
                    "next_steps": "Scale up.", "year": 2020},
     ["Approach", "Market consultation first.", "Results", "Two bids.", "Lessons learned",
      "Start early.", "Challenges", "Few suppliers.", "Next steps", "Scale up.", "2020"]),
    ("report", {"source_url": "https://example.org/report.pdf", "licence": "CC-BY-4.0"},
     ["Report or guide", "https://example.org/report.pdf", "CC-BY-4.0"]),
    ("label", {"label_scope": "social_and_environmental"},
     ["Label or certificate", "Social and environmental"]),
    ("policy", {"reference": "Federal action plan 2017"},
     ["Policy reference", "Federal action plan 2017"]),
]


class TestItemPage:
    @pytest.mark.parametrize(("kind", "fields", "expected"), KIND_CASES,
                             ids=[c[0] for c in KIND_CASES])
    def test_each_kind_shows_its_own_fields(self, client, make_item, kind, fields, expected):
        item = make_item(kind=kind, title=f"A {kind}", body="**Main** text.",
                         product_groups=["servers"], themes=["due-diligence"], **fields)
        text = main_text(client.get(f"/library/{item.id}"))
        for words in [*expected, "Main text.", "Servers and data centres", "Due diligence"]:
            assert words in text, words

    def test_every_tag_of_the_item_is_shown(self, client, make_item):
        """The page's loader brings each item's tags as one text beside it (not a row per
        tag): every one of them comes back, whatever its facet."""
        item = make_item(product_groups=["servers", "laptops", "screens"],
                         themes=["due-diligence", "circularity"], countries=["NL", "BE"])
        text = main_text(client.get(f"/library/{item.id}"))
        for label in ("Servers and data centres", "Laptops", "Screens", "Due diligence",
                      "Circularity", "Netherlands", "Belgium"):
            assert label in text, label

    def test_criteria_and_clauses_have_a_copy_button_for_their_text(self, client, make_item):
        clause = make_item(kind="clause", body="The contractor discloses **all** sites.")
        doc = html(client.get(f"/library/{clause.id}"))
        button = doc.xpath("//button[@data-copy]")[0]
        source = doc.get_element_by_id(button.get("data-copy"))
        assert " ".join(source.text_content().split()) == "The contractor discloses all sites."
        assert button.get("hidden") is not None  # shown by site.js: useless without it
        report = make_item(kind="report", title="A report")
        assert not html(client.get(f"/library/{report.id}")).xpath("//button[@data-copy]")

    def test_html_in_fields_never_reaches_the_page(self, client, make_item):
        item = make_item(
            title='<script>alert("t")</script> Clause',
            summary="<img src=x onerror=alert(1)>",
            body='<script>alert("b")</script>\n\n[click](javascript:alert(1)) <b onclick="x">b</b>',
            rationale="<iframe src=//evil.example></iframe>",
        )
        raw = client.get(f"/library/{item.id}").get_data(as_text=True)
        assert "<script>alert" not in raw
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; Clause" in raw
        assert "<img src=x" not in raw and "<iframe" not in raw
        assert "javascript:" not in raw and "onclick" not in raw
        listing = client.get("/library").get_data(as_text=True)
        assert "<script>alert" not in listing

    def test_translations_are_linked_and_marked(self, client, make_item, organiser, make_user):
        english = make_item(title="ILO core conventions", language="en")
        french = service.add_translation(organiser, english, title="Conventions de l'OIT",
                                         language="fr", translation_kind="official")
        service.publish(organiser, french)
        translator = make_user("vertaler@example.org")
        dutch = service.add_translation(translator, english, title="IAO-conventies",
                                        language="nl")
        service.publish(organiser, dutch)
        db.session.commit()
        doc = html(client.get(f"/library/{english.id}"))
        switch = doc.get_element_by_id("translations")
        current = switch.xpath(".//*[@aria-current='page']")[0]
        assert "English" in current.text_content() and "Original" in current.text_content()
        links = {a.get("hreflang"): " ".join(a.text_content().split())
                 for a in switch.xpath(".//a[@hreflang]")}
        assert links == {"fr": "French Official translation",
                         "nl": "Dutch Member translation"}
        assert doc.xpath("//h1/@lang") == ["en"]

    def test_organisers_link_an_existing_item_as_a_translation(
        self, client, auth, organiser, make_item
    ):
        english = make_item(title="Living wage clause", language="en")
        french = make_item(title="Clause salaire vital", language="fr")
        auth.login(organiser)
        response = client.post(f"/library/{french.id}/link-translation", data={
            "link-original": f"http://buyergroup.test/library/{english.id}#history",
            "link-translation_kind": "official"}, follow_redirects=True)
        assert "now linked as a translation of “Living wage clause”" in main_text(response)
        auth.logout()
        doc = html(client.get(f"/library/{english.id}"))
        links = doc.get_element_by_id("translations").xpath(".//a[@hreflang]")
        assert [" ".join(a.text_content().split()) for a in links] == [
            "French Official translation"]

    def test_members_cannot_link_translations(self, client, auth, member, make_item):
        english = make_item(title="Living wage clause", language="en")
        french = make_item(title="Clause salaire vital", language="fr")
        auth.login(member)
        response = client.post(f"/library/{french.id}/link-translation",
                               data={"link-original": str(english.id),
                                     "link-translation_kind": "official"})
        assert response.status_code == 403
        assert reload(french).translation_key != english.translation_key

    def test_the_group_page_lists_the_groups_latest_items(
        self, client, auth, group_with_member, make_item, make_user
    ):
        group, insider = group_with_member
        make_item(author=insider, title="Group pilot notes", visibility="group", group=group)
        make_item(author=insider, title="Public group report", kind="report", group=group)
        make_item(title="Unrelated clause")
        public_view = main_text(client.get(f"/groups/{group.slug}"))
        assert "Public group report" in public_view
        assert "Group pilot notes" not in public_view and "Unrelated clause" not in public_view
        auth.login(insider)
        insider_view = main_text(client.get(f"/groups/{group.slug}"))
        assert "Group pilot notes" in insider_view and "Group members only" in insider_view

    def test_attachments_show_whether_their_text_was_read(self, client, make_item):
        item = make_item()
        for name, state in (("a.pdf", ExtractionState.failed), ("b.pdf", ExtractionState.done),
                            ("c.pdf", ExtractionState.pending)):
            item.attachments.append(Attachment(
                original_name=name, stored_name=f"stored-{name}", content_type="application/pdf",
                size=10, sha256="0" * 64, extraction_state=state, extracted_text="x"))
        db.session.commit()
        text = main_text(client.get(f"/library/{item.id}"))
        assert "a.pdf PDF, 10 Bytes · We could not read the text of this file" in text
        assert "b.pdf PDF, 10 Bytes Related" in text or "b.pdf PDF, 10 Bytes c.pdf" in text
        assert "c.pdf PDF, 10 Bytes · We are reading the text of this file" in text


class TestVersions:
    def test_history_lists_changes_and_old_versions_can_be_read(
        self, client, auth, member, organiser
    ):
        item = service.create_item(member, kind="case_study", title="First title",
                                   language="en", approach="Old approach")
        db.session.commit()
        service.update_item(organiser, item, title="Second title", approach="New approach",
                            note="Clearer title")
        db.session.commit()
        auth.login(member)
        page = client.get(f"/library/{item.id}")
        history = html(page).get_element_by_id("history")
        rows = [" ".join(r.text_content().split()) for r in history.xpath(".//tbody/tr")]
        assert rows[0].startswith("Version 2") and "Oscar Organiser" in rows[0]
        assert rows[0].endswith("Clearer title: title, approach")
        assert rows[1].startswith("Version 1") and "Mia Member" in rows[1]
        old = client.get(f"/library/{item.id}/versions/1")
        assert "First title" in main_text(old) and "Old approach" in main_text(old)
        assert "This is an older version" in main_text(old)
        new = client.get(f"/library/{item.id}/versions/2")
        assert "Changed in this version: title, approach." in main_text(new)
        assert client.get(f"/library/{item.id}/versions/9").status_code == 404

    def test_versions_of_hidden_items_are_hidden_too(self, client, make_item):
        item = make_item(visibility="members")
        assert client.get(f"/library/{item.id}/versions/1").status_code == 404

    def test_a_version_keeps_the_audience_it_was_saved_for(
        self, client, auth, make_item, group_with_member, organiser, make_user
    ):
        # Issue 8: first saved for one working group, then made public. The group-only text
        # must not reach visitors or other members through the version history.
        group, insider = group_with_member
        item = make_item(title="Group-only pricing notes", visibility="group", group=group,
                         body="The confidential price ceiling is 412 euro.")
        service.update_item(organiser, item, title="Public pricing notes", visibility="public",
                            body="Ask for a price per unit.")
        db.session.commit()
        numbers = sorted(v.number for v in item.versions)
        public_number = numbers[-1]
        assert client.get(f"/library/{item.id}").status_code == 200  # the item is public now
        for number in numbers[:-1]:
            assert client.get(f"/library/{item.id}/versions/{number}").status_code == 404
        history = main_text(client.get(f"/library/{item.id}"))
        assert f"Version {public_number}" in history and "Version 1" not in history
        assert "412 euro" not in history
        public = client.get(f"/library/{item.id}/versions/{public_number}")
        assert "Ask for a price per unit." in main_text(public)

        outsider = make_user("outsider@example.org", name="Otto Outsider")
        auth.login(outsider)
        assert client.get(f"/library/{item.id}/versions/{numbers[-2]}").status_code == 404
        auth.logout()
        auth.login(insider)  # the group saw it then, and the item is public now: still theirs
        published_for_group = client.get(f"/library/{item.id}/versions/{numbers[-2]}")
        assert "412 euro" in main_text(published_for_group)

    def test_a_version_is_never_more_visible_than_the_item_now(
        self, client, auth, make_item, organiser, make_user
    ):
        item = make_item(title="Once public", visibility="public")
        service.update_item(organiser, item, visibility="members")
        db.session.commit()
        public_then = min(v.number for v in item.versions if
                          service.version_data(v)["status"] == "published")
        assert client.get(f"/library/{item.id}/versions/{public_then}").status_code == 404
        auth.login(make_user("reader@example.org", name="Rita Reader"))
        assert client.get(f"/library/{item.id}/versions/{public_then}").status_code == 200


class TestComments:
    def test_members_comment_and_organisers_hide_with_a_reason(
        self, client, auth, member, organiser, make_item, make_user
    ):
        item = make_item()
        auth.login(member)
        response = client.post(f"/library/{item.id}/comments",
                               data={"body": "We used this **clause** in 2023."},
                               follow_redirects=True)
        assert "We used this clause in 2023." in main_text(response)
        comment = db.session.scalar(select(Comment))
        auth.logout()
        # A visitor reads comments but cannot post one.
        assert client.post(f"/library/{item.id}/comments", data={"body": "x"}).status_code == 302
        assert db.session.scalar(select(func.count(Comment.id))) == 1

        auth.login(organiser)
        client.post(f"/library/{item.id}/comments/{comment.id}/hide",
                    data={"reason": "Names a supplier"})
        organiser_view = main_text(client.get(f"/library/{item.id}"))
        assert "Hidden from members. Reason: Names a supplier" in organiser_view
        auth.logout()

        reader = make_user("reader@example.org")
        auth.login(reader)
        reader_view = main_text(client.get(f"/library/{item.id}"))
        assert "This comment was hidden by a moderator." in reader_view
        assert "We used this" not in reader_view and "Names a supplier" not in reader_view
        # Members cannot moderate.
        assert client.post(f"/library/{item.id}/comments/{comment.id}/restore").status_code == 403


# --- Contributing -----------------------------------------------------------------------------


def case_study_form(**overrides) -> dict:
    data = {
        "kind": "case_study", "title": "Leuven buys fair mice", "language": "en",
        "summary": "A pilot with fair computer mice.", "body": "The city of Leuven ...",
        "approach": "We asked for a fair mouse.", "results": "300 mice delivered.",
        "lessons": "Ask early.", "challenges": "Only one supplier.", "next_steps": "Keyboards.",
        "product_groups": ["peripherals"], "themes": ["labour-conditions"], "countries": ["BE"],
        "year": "2019", "authors": "Mia Member", "visibility": "public", "action": "save",
    }
    data.update(overrides)
    return data


def upload(name: str, data: bytes):
    return (io.BytesIO(data), name)


def only_item() -> LibraryItem:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(select(LibraryItem))


class TestContributing:
    def test_the_guided_form_has_a_fieldset_per_kind(self, client, auth, member):
        assert client.get("/library/new").status_code == 302  # visitors sign in first
        auth.login(member)
        doc = html(client.get("/library/new?kind=case_study"))
        legends = [" ".join(x.text_content().split()) for x in doc.xpath("//form//legend")]
        assert "3. Your case, step by step" in legends
        assert "3. Criterion or clause details" in legends
        assert doc.xpath('//select[@name="kind"]/option[@selected]/@value') == ["case_study"]
        kinds = doc.xpath("//fieldset[@data-kinds]/@data-kinds")
        assert kinds == ["criterion clause", "case_study", "label", "policy"]
        assert doc.xpath('//input[@type="file"]/@accept')[0].startswith(".pdf,.docx,.odt")
        # (static files have content-hashed names: js/library.<hash>.js)
        assert doc.xpath('//script[contains(@src, "/js/library.")]')
        # No inline script but the early one, which the policy allows by its hash.
        assert doc.xpath("//script[not(@src)]/text()") == [str(EARLY_SCRIPT)]

    # The attachment's text is read after the response, in an app context of its own.
    @pytest.mark.committing
    def test_a_member_writes_a_draft_submits_it_and_an_organiser_publishes_it(
        self, client, auth, member, organiser, mailbox
    ):
        auth.login(member)
        response = client.post(
            "/library/new",
            data={**case_study_form(), "files": [upload("notes.txt", b"Fair mouse notes")]},
            follow_redirects=True,
        )
        assert "Your draft has been saved." in main_text(response)
        item = only_item()
        assert item.status is ItemStatus.draft and item.created_by_id == member.id
        assert item.approach == "We asked for a fair mouse." and item.year == 2019
        assert item.product_groups == ["peripherals"] and item.countries == ["BE"]
        assert [a.original_name for a in item.attachments] == ["notes.txt"]
        assert item.attachments[0].extraction_state is ExtractionState.done
        assert item.attachments[0].extracted_text == "Fair mouse notes"

        client.post(f"/library/{item.id}/submit", follow_redirects=True)
        assert only_item().status is ItemStatus.submitted
        assert client.get("/library/review").status_code == 403
        assert client.post(f"/library/{item.id}/publish").status_code == 403
        auth.logout()
        assert client.get("/library?q=mouse").status_code == 200
        assert result_titles(client.get("/library?q=mouse")) == []

        auth.login(organiser)
        queue = client.get("/library/review")
        assert "Leuven buys fair mice" in main_text(queue)
        response = client.post(f"/library/{item.id}/publish", data={"next": "review"},
                               follow_redirects=True)
        assert "“Leuven buys fair mice” has been published." in main_text(response)
        assert "Nothing is waiting" in main_text(response)
        auth.logout()
        assert "is now published" in body_of(mailbox.last_to("member@example.org"))
        # Visitors find it, also by words only in its attached file.
        assert result_titles(client.get("/library?q=mouse")) == ["Leuven buys fair mice"]
        assert result_titles(client.get("/library?q=notes")) == ["Leuven buys fair mice"]

    def test_an_organiser_sends_an_item_back_with_a_reason(
        self, client, auth, member, organiser, mailbox
    ):
        item = service.create_item(member, kind="report", title="Draft report", language="en",
                                   status="submitted")
        db.session.commit()
        auth.login(organiser)
        refused = client.post(f"/library/{item.id}/return", data={"reason": ""},
                              follow_redirects=True)
        assert "Please tell the author what to change." in main_text(refused)
        client.post(f"/library/{item.id}/return", data={"reason": "Add the sources, please."})
        auth.logout()
        assert reload(item).status is ItemStatus.returned
        assert "Add the sources, please." in body_of(mailbox.last_to("member@example.org"))
        auth.login(member)
        page = main_text(client.get(f"/library/{item.id}"))
        assert "An organiser sent this item back with this message: Add the sources, please." \
            in page
        assert client.get(f"/library/{item.id}/edit").status_code == 200

    def test_the_form_keeps_what_was_typed_when_a_field_is_wrong(self, client, auth, member):
        auth.login(member)
        response = client.post("/library/new", data=case_study_form(title="", year="1850"))
        assert response.status_code == 200
        assert error_by(response, "title")
        assert error_by(response, "year")
        assert input_value(response, "summary") == "A pilot with fair computer mice."
        assert input_value(response, "approach") == "We asked for a fair mouse."
        assert html(response).xpath('//input[@name="themes" and @value="labour-conditions"]'
                                    '/@checked')
        assert html(response).xpath('//div[@class="error-summary"]')
        assert only_item() is None

    def test_members_cannot_change_others_items(self, client, auth, make_item, make_user):
        item = make_item()
        other = make_user("other@example.org")
        auth.login(other)
        assert client.get(f"/library/{item.id}/edit").status_code == 403
        assert client.post(f"/library/{item.id}/edit", data=case_study_form()).status_code == 403
        assert reload(item).title == "Respect for ILO core conventions"

    def test_editing_records_a_version_and_removes_ticked_files(
        self, client, auth, member, organiser
    ):
        auth.login(member)
        client.post("/library/new", data={**case_study_form(),
                                          "files": [upload("a.txt", b"first file")]})
        item = only_item()
        attachment_id = item.attachments[0].id
        stored = item.attachments[0].stored_name
        response = client.post(f"/library/{item.id}/edit", data={
            **case_study_form(title="Leuven buys fair mice and keyboards",
                              note="Added keyboards"),
            "remove_attachments": [str(attachment_id)],
        }, follow_redirects=True)
        assert "Your draft has been saved." in main_text(response)
        item = only_item()
        assert item.title == "Leuven buys fair mice and keyboards"
        assert item.attachments == []
        latest = max(item.versions, key=lambda v: v.number)
        assert latest.note == "Added keyboards"
        assert set(latest.changed_fields.split()) == {"title", "attachments"}
        from buyergroup.library.uploads import path_of

        assert not path_of(stored).exists()

    def test_a_member_translates_an_item(self, client, auth, member, make_item, organiser):
        original = make_item(title="ILO core conventions", language="en",
                             phase="contract_performance_clause")
        auth.login(member)
        form = html(client.get(f"/library/{original.id}/translate"))
        languages = form.xpath('//form[@id="item-form"]//select[@name="language"]/option/@value')
        assert "en" not in languages and "nl" in languages
        assert form.xpath('//input[@name="title"]/@value') == ["ILO core conventions"]
        assert form.xpath('//select[@name="translation_kind"]/option/@value') == ["member"]
        data = {
            "kind": "clause", "title": "IAO-kernverdragen", "language": "nl",
            "body": "De opdrachtnemer ...", "phase": "contract_performance_clause",
            "visibility": "public", "translation_kind": "official", "action": "submit",
        }
        # Only organisers may call a translation official.
        refused = client.post(f"/library/{original.id}/translate", data=data)
        assert refused.status_code == 200 and error_by(refused, "translation_kind")
        client.post(f"/library/{original.id}/translate",
                    data={**data, "translation_kind": "member"})
        dutch = db.session.scalar(select(LibraryItem).where(LibraryItem.language == "nl"))
        assert dutch.translation_key == original.translation_key
        assert dutch.translation_kind.value == "member"
        assert dutch.status is ItemStatus.submitted


# --- Attachments --------------------------------------------------------------------------------


class TestUploads:
    @pytest.fixture(autouse=True)
    def signed_in(self, auth, member):
        auth.login(member)

    def post_with(self, client, name, data, **overrides):
        return client.post("/library/new",
                           data={**case_study_form(**overrides), "files": [upload(name, data)]},
                           follow_redirects=True)

    @pytest.mark.parametrize(("name", "data", "message"), [
        ("photo.png", png_bytes(), "“photo.png” is not a type of file we accept"),
        ("photo.pdf", png_bytes(), "“photo.pdf” is named .pdf but its content is not a PDF file "
                                   "(it looks like a PNG file)"),
        ("report.docx", pdf_bytes(), "“report.docx” is named .docx but its content is not a "
                                     "Word (.docx) file (it looks like a PDF file)"),
        ("notes.odt", docx_bytes("a", "b"), "is named .odt but its content is not"),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 100, "is named .docx but its content is not"),
        ("notes.txt", "café".encode("latin-1"), "“notes.txt” is not UTF-8 text"),
        ("binary.md", b"text\x00with a NUL", "“binary.md” is named like a text file but it is "
                                             "not plain text"),
        ("empty.pdf", b"", "“empty.pdf” is empty."),
    ], ids=["wrong type", "png as pdf", "pdf as docx", "docx as odt", "zip as docx", "latin-1",
            "nul", "empty"])
    def test_refused_files_are_explained_and_the_form_is_kept(
        self, client, name, data, message
    ):
        response = self.post_with(client, name, data)
        assert response.status_code == 200
        assert message in error_by(response, "files")
        assert "Nothing has been saved yet" in error_by(response, "files")
        assert input_value(response, "title") == "Leuven buys fair mice"
        assert input_value(response, "lessons") == "Ask early."
        assert only_item() is None

    def test_a_file_over_the_limit_is_refused_with_the_form_kept(self, client, app, monkeypatch):
        monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
        response = self.post_with(client, "big.txt", b"a" * (1024 * 1024 + 10))
        assert response.status_code == 200
        assert "“big.txt” is larger than 1 MB" in error_by(response, "files")
        assert input_value(response, "approach") == "We asked for a fair mouse."
        assert only_item() is None

    def test_a_request_too_large_to_read_gets_a_friendly_page(self, client, app, monkeypatch):
        monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
        monkeypatch.setitem(app.config, "LIBRARY_MAX_FILES", 2)
        response = self.post_with(client, "huge.txt", b"a" * (4 * 1024 * 1024))
        assert response.status_code == 413
        text = main_text(response)
        assert "The files are too large" in text and "Nothing has been saved" in text
        assert "Back button" in text
        assert only_item() is None

    @pytest.mark.committing  # the text is read after the response, in its own app context
    def test_a_broken_pdf_is_kept_and_the_item_says_its_text_could_not_be_read(self, client):
        response = self.post_with(client, "scan.pdf", broken_pdf_bytes())
        assert "Your draft has been saved." in main_text(response)
        item = only_item()
        attachment = item.attachments[0]
        assert attachment.extraction_state is ExtractionState.failed
        assert attachment.extraction_error
        page = client.get(f"/library/{item.id}")
        assert page.status_code == 200
        assert "We could not read the text of this file" in main_text(page)
        assert item.approach == "We asked for a fair mouse."  # nothing else lost

    @pytest.mark.committing  # read after the response, then searched on the index's own reader
    def test_text_in_word_tables_and_opendocument_files_becomes_searchable(
        self, client, auth, organiser
    ):
        client.post("/library/new", data={
            **case_study_form(action="submit"),
            "files": [upload("articles.docx", docx_bytes("Intro", "Quarterly remediation")),
                      upload("template.odt", odt_bytes("Tier two smelters"))],
        }, follow_redirects=True)
        item = only_item()
        texts = {a.original_name: a.extracted_text for a in item.attachments}
        assert "Quarterly remediation" in texts["articles.docx"]
        assert texts["template.odt"] == "Tier two smelters"
        auth.logout()
        auth.login(organiser)
        client.post(f"/library/{item.id}/publish")
        assert result_titles(client.get("/library?q=remediation")) == ["Leuven buys fair mice"]
        assert result_titles(client.get("/library?q=smelters")) == ["Leuven buys fair mice"]

    def test_files_are_stored_under_random_names_and_downloaded_under_their_own(
        self, client, app, auth
    ):
        name = "Clause équité 日本語.pdf"
        self.post_with(client, name, pdf_bytes(), visibility="members", action="save")
        item = only_item()
        attachment = item.attachments[0]
        assert attachment.original_name == name
        assert attachment.stored_name != name and attachment.stored_name.endswith(".pdf")
        assert re.fullmatch(r"[0-9a-f]{32}\.pdf", attachment.stored_name)
        url = f"/library/{item.id}/files/{attachment.id}"
        response = client.get(url)
        assert response.status_code == 200
        assert response.data == pdf_bytes()
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment")
        assert "filename*=UTF-8''Clause%20%C3%A9quit%C3%A9%20%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf" \
            in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        auth.logout()
        # A visitor may not download a file of an item they may not see.
        assert client.get(url).status_code == 404
        # Nor guess a file through another item.
        public = service.create_item(None, kind="report", title="Public", language="en",
                                     status="published", visibility="public")
        db.session.commit()
        assert client.get(f"/library/{public.id}/files/{attachment.id}").status_code == 404
