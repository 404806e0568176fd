"""The real seed library: it loads through the services, loads twice without duplicates,
and searching it finds the right items in every language.

The seed is loaded once per run and database (it takes seconds: attachments are read by
the extraction subprocess); each database/search engine gets a copy of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from buyergroup.extensions import db
from buyergroup.glossary.models import Concept
from buyergroup.library import service
from buyergroup.library.models import (
    Attachment,
    Comment,
    ExtractionState,
    ItemKind,
    ItemRelation,
    ItemStatus,
    LibraryItem,
    TranslationKind,
)
from buyergroup.search.service import get_backend, reindex, search
from buyergroup.search.types import SearchQuery
from buyergroup.seeding import load_seed
from tests.conftest import SEED_PASSWORD
from tests.library.conftest import SEED_DIR

HAS_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
ENGINES = [pytest.param(("sqlite", "whoosh"), id="sqlite-whoosh")]
if HAS_POSTGRES:
    ENGINES += [
        pytest.param(("postgresql", "whoosh"), id="postgresql-whoosh"),
        pytest.param(("postgresql", "postgresql"), id="postgresql-fts"),
    ]


@pytest.fixture(scope="module", params=ENGINES)
def seeded(request, seeded_copy) -> Flask:
    """The demo seed (loaded once per run, tests/conftest.py), copied for this engine; with
    PostgreSQL full-text search, the copy is indexed there."""
    database, engine = request.param
    app = seeded_copy(database, SEARCH_BACKEND=engine, BUYERGROUP_SEND_MAIL_ON_COMMIT=False)
    if engine == "postgresql":
        from buyergroup.search import postgres_backend

        with app.app_context():
            with db.engine.begin() as connection:
                postgres_backend.install(connection)
            reindex()
            db.session.remove()
    return app


@pytest.fixture
def ctx(seeded) -> Iterator[Flask]:
    with seeded.app_context():
        yield seeded
        db.session.rollback()


def by_key(key: str) -> LibraryItem:
    item = db.session.scalar(select(LibraryItem).where(LibraryItem.seed_key == key))
    assert item is not None, key
    return item


def shown(query: str, audiences=("public",), language: str = "") -> list[str]:
    """The seed keys of the versions the first page shows (one per item)."""
    results = search(SearchQuery(text=query, audiences=list(audiences), per_page=10,
                                 language=language))
    assert results.error is None, results.error
    return [db.session.get(LibraryItem, hit.item_id).seed_key for hit in results.hits]


def first_page(query: str, audiences=("public",), language: str = "") -> list[str]:
    """The versions the first page shows, each followed by its translations (the page
    folds them in: "Also in: ...")."""
    found = []
    for key in shown(query, audiences, language):
        item = by_key(key)
        found.append(key)
        found += [db.session.get(LibraryItem, other.id).seed_key for other in
                  db.session.scalars(select(LibraryItem).where(
                      LibraryItem.translation_key == item.translation_key,
                      LibraryItem.id != item.id, LibraryItem.status == ItemStatus.published))
                  if set(audiences) >= {"public", "members"} or other.visibility.value == "public"]
    return found


MEMBER = ("public", "members")


class TestLoading:
    def test_everything_arrives_through_the_services(self, ctx):
        report = ctx.seed_report
        files = sorted((SEED_DIR / "library").glob("*.yaml"))
        assert report.library_items.created == len(files)
        assert report.concepts.created >= 100
        assert report.unreadable_files == []
        assert db.session.scalar(select(func.count(Attachment.id))) == report.attachments.created
        states = set(db.session.scalars(select(Attachment.extraction_state)))
        assert states == {ExtractionState.done}
        assert "library items" in report.summary()

    def test_states_translations_and_relations(self, ctx):
        english = by_key("ew-contract-conditions-en")
        dutch = by_key("ew-contract-conditions-nl")
        assert english.status is ItemStatus.published
        assert dutch.translation_key == english.translation_key
        assert dutch.translation_kind is TranslationKind.official
        assert by_key("ghent-fair-smartphones-en").translation_kind is TranslationKind.member
        assert {i.language for i in service.translations_of(english, None)} == {"nl", "fr"}
        assert by_key("printers-social-criteria-en").status is ItemStatus.submitted
        assert by_key("network-equipment-social-criteria-en").status is ItemStatus.draft
        related = {i.seed_key for i in service.related_items(english, None)}
        assert "flemish-due-diligence-pilot-en" in related
        assert by_key("ew-contract-conditions-en").created_by.email == \
            "marieke.dejong@example.org"
        assert [a.user.email for a in english.authors] == [
            "marieke.dejong@example.org", "lotte.peeters@example.org"]
        assert db.session.scalar(select(func.count(Comment.id))) == ctx.seed_report.comments.created

    def test_loading_again_creates_no_duplicates(self, ctx):
        counts = [db.session.scalar(select(func.count()).select_from(model)) for model in
                  (LibraryItem, Attachment, Comment, ItemRelation, Concept)]
        report = load_seed(SEED_DIR, password=SEED_PASSWORD)
        db.session.commit()
        assert [db.session.scalar(select(func.count()).select_from(model)) for model in
                (LibraryItem, Attachment, Comment, ItemRelation, Concept)] == counts
        assert report.library_items.created == 0 and report.concepts.created == 0
        assert report.relations.created == 0 and report.comments.created == 0


class TestSearchQuality:
    """What a procurer types, in their language, and what must be on the first page."""

    @pytest.mark.parametrize(("query", "expected"), [
        # Each language finds the clause in its own language...
        ("kinderarbeid", {"ilo-core-conventions-clause-nl"}),
        ("travail des enfants", {"ilo-core-conventions-clause-fr"}),
        ("child labour", {"ilo-core-conventions-clause-en"}),
        # ...and, through the glossary, in the others.
        ("kinderarbeid", {"ilo-core-conventions-clause-en", "ilo-core-conventions-clause-fr"}),
        ("Kinderarbeit", {"ilo-core-conventions-clause-en", "ilo-core-conventions-clause-nl"}),
        ("Zwangsarbeit", {"ilo-core-conventions-clause-en"}),
        # Expanded through the glossary (working conditions): the clause in French is a hit.
        ("Arbeitsbedingungen", {"ew-contract-conditions-fr"}),
        ("dwangarbeid", {"ilo-core-conventions-clause-fr"}),
        ("gepaste zorgvuldigheid", {"conflict-minerals-due-diligence-clause-en"}),
        # Accents or none.
        ("diligence raisonnée", {"minerais-de-conflit-clause-fr"}),
        ("diligence raisonnee", {"minerais-de-conflit-clause-fr"}),
        # A word that is only in an attached file (a Word table) of a public item.
        ("opvolgingsgesprek", {"ew-contract-conditions-nl"}),
    ])
    def test_public_queries(self, ctx, query, expected):
        found = first_page(query)
        assert expected <= set(found), found

    def test_members_find_members_items_across_languages(self, ctx):
        assert "salaire-vital-clause-fr" in first_page("leefbaar loon", MEMBER)
        assert "salaire-vital-clause-fr" not in first_page("leefbaar loon")

    def test_unpublished_items_are_never_found(self, ctx):
        for audiences in (("public",), MEMBER):
            assert "printers-social-criteria-en" not in first_page("printers", audiences)
            assert "network-equipment-social-criteria-en" not in first_page("network", audiences)

    def test_a_misspelling_gets_a_suggestion(self, ctx):
        results = search(SearchQuery(text="electronis watch", audiences=["public"]))
        assert results.suggestion == "electronics watch"
        corrected = first_page(results.suggestion)
        assert "ew-contract-conditions-en" in corrected

    def test_visitor_counts_cover_public_items_only(self, ctx):
        # Library items only (the index also holds the public groups' discussions), and
        # items, not versions: an item and its translations count once.
        library_kinds = [kind.value for kind in ItemKind]
        results = search(SearchQuery(text="", audiences=["public"],
                                     filters={"kind": library_kinds}))
        public = db.session.scalar(select(func.count(LibraryItem.translation_key.distinct()))
                                   .where(LibraryItem.status == ItemStatus.published,
                                          LibraryItem.visibility == "public"))
        assert results.total == public
        assert sum(count for _, count in results.facets["kind"]) == public
        assert sum(count for _, count in results.facets["language"]) == public

    @pytest.mark.parametrize(("language", "expected"), [
        ("nl", "ilo-core-conventions-clause-nl"),
        ("fr", "ilo-core-conventions-clause-fr"),
        ("en", "ilo-core-conventions-clause-en"),
    ])
    def test_one_result_per_item_in_the_readers_language(self, ctx, language, expected):
        """Issue 11: the clause came three times (en, fr, nl), the reader's own fifth."""
        keys = shown("child labour", language=language)
        versions = [k for k in keys if k.startswith("ilo-core-conventions-clause-")]
        assert versions == [expected]
        assert keys.index(expected) < 3, keys

    def test_a_german_glossary_word_is_not_corrected_to_dutch(self, ctx):
        """Issue 11: "Kinderarbeit" was answered "did you mean kinderarbeid"."""
        for language in ("de", "en", ""):
            results = search(SearchQuery(text="Kinderarbeit", audiences=["public"],
                                         language=language))
            assert results.total > 0 and results.suggestion is None, language

    def test_totals_count_items_not_versions(self, ctx):
        english = by_key("ew-contract-conditions-en")
        versions = db.session.scalar(select(func.count(LibraryItem.id)).where(
            LibraryItem.translation_key == english.translation_key,
            LibraryItem.visibility == "public", LibraryItem.status == ItemStatus.published))
        assert versions >= 2
        # Library items only: the index also holds the public groups' discussions.
        everything = search(SearchQuery(text="", audiences=["public"], per_page=100,
                                        filters={"kind": [kind.value for kind in ItemKind]}))
        refs = [hit.item_id for hit in everything.hits]
        assert len(refs) == everything.total
        keys = {db.session.get(LibraryItem, item_id).translation_key for item_id in refs}
        assert len(keys) == len(refs)  # no item twice


PG_SEARCH = pytest.param(("postgresql", "postgresql"), id="postgresql-fts", marks=[
    pytest.mark.postgres,
    pytest.mark.skipif(not HAS_POSTGRES, reason="TEST_DATABASE_URL is not set")])


@pytest.mark.parametrize("seeded", [ENGINES[0], PG_SEARCH], indirect=True)
@pytest.mark.parametrize(("language", "about", "note"), [
    ("en", "About ", "counted from a sample"),
    ("nl", "Ongeveer ", "steekproef"),
])
def test_a_search_past_the_exact_limit_shows_its_counts_as_estimates(ctx, language, about,
                                                                    note):
    """With more matches than SEARCH_EXACT_COUNT_LIMIT (5,000 by default; 3 here), the
    page says "About N results", marks the filter counts as estimates and says why."""
    backend = get_backend()
    limits = backend.exact_limit, backend.sample_size
    backend.exact_limit, backend.sample_size = 3, 8
    backend.results.clear()
    try:
        client = ctx.test_client()
        page = client.get("/library?q=ICT",
                          headers={"Accept-Language": language}).get_data(as_text=True)
        api = client.get("/api/v1/library?q=ICT").get_json()
        backend.exact_limit = 0
        backend.results.clear()
        exact = client.get("/api/v1/library?q=ICT").get_json()
    finally:
        backend.exact_limit, backend.sample_size = limits
        backend.results.clear()
    assert exact["estimated"] is False and exact["total"] > 8
    assert api["estimated"] is True
    count = page.split('class="results-count" role="status">', 1)[1].split("</p>", 1)[0]
    assert count.strip().startswith(about), count
    assert note in page
    assert ("The counts are estimates." if language == "en" else "De aantallen zijn schattingen.") \
        in page.split('id="library-facets"', 1)[1].split("</details>", 1)[0]
