"""What issue 12 added for speed must not change what a search finds: cached results follow
every write, the fast Whoosh paths give Whoosh's own answers, glossary translations are
looked for in their own language, and the faster analyser and writers index the same."""

from __future__ import annotations

import math
import random

import pytest
from whoosh import query as whoosh_query

from buyergroup.search import syntax
from buyergroup.search.expansion import _phrases
from buyergroup.search.service import get_backend, search
from buyergroup.search.types import FACETS, SearchQuery
from buyergroup.search.whoosh import WhooshBackend
from buyergroup.search.whoosh import backend as whoosh_backend
from buyergroup.search.whoosh.facets import count_facets
from buyergroup.search.whoosh.schema import build_schema, facet_field, reference_analyzer
from tests.search.test_contract import CORPUS, GROUP_7, MEMBER, VISITOR, doc

# --- The cache of results -------------------------------------------------------------------


def test_a_write_is_seen_by_the_next_search_despite_the_cache(search_app):
    backend = get_backend()
    backend.upsert(CORPUS)
    query = SearchQuery(text="clause", audiences=MEMBER)
    first = search(query)
    assert search(query).total == first.total  # asked twice: the second comes from the cache
    backend.upsert([doc(40, "en", "Another clause", "A clause added later.")])
    assert search(query).total == first.total + 1
    backend.delete(["test:40"])
    assert search(query).total == first.total


def test_cached_results_are_per_audience_and_cannot_be_changed_by_a_caller(search_app):
    get_backend().upsert(CORPUS)
    visitor = search(SearchQuery(text="", audiences=VISITOR, per_page=100))
    group = search(SearchQuery(text="", audiences=GROUP_7, per_page=100))
    assert {h.item_id for h in visitor.hits} == {1, 2, 3, 4, 5}
    assert {h.item_id for h in group.hits} == {1, 2, 3, 4, 5, 6, 7}
    visitor.hits.clear()
    visitor.facets["kind"].clear()
    again = search(SearchQuery(text="", audiences=VISITOR, per_page=100))
    assert len(again.hits) == 5 and again.facets["kind"]


# --- Glossary translations in their own language ----------------------------------------------


def test_a_translation_is_searched_only_in_its_own_languages():
    phrases = _phrases([[("en", "child labour"), ("nl", "kinderarbeid"),
                         ("de", "Kinderarbeit")], [("nl", "coltan"), ("fr", "coltan"),
                                                   ("en", "tantalum")]])
    kinderarbeid = {str(t): t.languages for t in phrases["kinderarbeid"]}
    assert kinderarbeid == {"child labour": ("en",), "Kinderarbeit": ("de",)}
    # One word that is a term of several languages is looked for in each of them.
    assert {str(t): t.languages for t in phrases["tantalum"]} == {"coltan": ("fr", "nl")}
    tree, applied = syntax.expand(syntax.parse("kinderarbeid"), phrases)
    assert applied == ["child labour", "Kinderarbeit"]
    typed, english, german = tree.children
    assert typed.languages == () and english.languages == ("en",)
    assert syntax.searched_in(english, "en") and not syntax.searched_in(english, "de")
    assert syntax.searched_in(typed, "fr")


def test_the_typed_words_still_match_every_language_and_translations_their_own(search_app):
    get_backend().upsert([
        doc(1, "en", "Child labour clause", "Against child labour."),
        doc(2, "fr", "Clause", "Le texte cite la phrase anglaise child labour."),
        doc(3, "de", "Kinderarbeit", "Gegen Kinderarbeit."),
    ])
    expansions = _phrases([[("en", "child labour"), ("de", "Kinderarbeit")]])
    results = get_backend().search(SearchQuery(text="Kinderarbeit", audiences=VISITOR),
                                   expansions)
    # The English document through the translation; the French one's English words are not
    # French text (the typed word is still looked for everywhere: here it finds only 3).
    assert {h.item_id for h in results.hits} == {1, 3}
    typed = get_backend().search(SearchQuery(text="child labour", audiences=VISITOR), {})
    assert {h.item_id for h in typed.hits} == {1, 2}


# --- Whoosh: the scored matches are Whoosh's own ------------------------------------------


WORDS = ("laptop server clause criterion supplier audit cobalt smelter wages union repair "
         "battery energy label report tender award worker factory audit").split()


def _corpus(count: int, seed: int = 3):
    rng = random.Random(seed)
    documents = []
    for n in range(1, count + 1):
        language = rng.choice(["en", "en", "nl", "fr"])
        words = [rng.choice(WORDS) for _ in range(rng.randint(5, 40))]
        documents.append(doc(
            n, language, " ".join(words[:4]), " ".join(words[4:]),
            summary=" ".join(rng.sample(WORDS, 3)), published=f"20{10 + n % 14}-01-01",
            audiences=[rng.choice(["public", "public", "members"])],
            kind=[rng.choice(["criterion", "clause", "report"])],
            product_group=rng.sample(["laptops", "servers", "printers"], rng.randint(1, 2))))
        if n % 5 == 0:  # a translation of the one before
            documents[-1].group = documents[-2].group = f"g{n}"
    return documents


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory) -> WhooshBackend:
    """One index for the 40 comparisons below, which only read it: two segments and a
    deleted document (building it for each comparison was 5 CPU-s of the suite)."""
    backend = WhooshBackend(tmp_path_factory.mktemp("two-segments") / "index",
                            result_cache_size=0)
    documents = _corpus(120)
    backend.upsert(documents[:60])
    backend.upsert(documents[60:])
    backend.delete(["test:7"])
    return backend


@pytest.mark.parametrize("text", [
    "laptop", "audit cobalt", '"supplier audit"', "laptop OR smelter", "(laptop audit) OR wages",
    "repair*", "energy label report", '"audit audit"',
])
@pytest.mark.parametrize("options", [
    {}, {"sort": "newest"}, {"language": "fr"}, {"page": 2, "per_page": 5},
    {"filters": {"product_group": ["servers"]}},
])
def test_the_fast_scoring_gives_whoosh_s_own_results(two_segments, monkeypatch, text, options):
    backend = two_segments
    query = SearchQuery(text=text, audiences=MEMBER, **options)
    fast = backend.search(query, {})
    monkeypatch.setattr(whoosh_backend, "supported", lambda compiled: False)
    stock = backend.search(query, {})
    assert fast.total == stock.total and fast.facets == stock.facets
    assert [h.ref for h in fast.hits] == [h.ref for h in stock.hits]
    assert all(math.isclose(a.score, b.score, rel_tol=1e-9)
               for a, b in zip(fast.hits, stock.hits, strict=True))
    assert [h.snippet for h in fast.hits] == [h.snippet for h in stock.hits]


def test_facet_counts_from_bitmaps_are_whoosh_s_own_counts(two_segments):
    """Any set of matches, across both segments and past the deleted document: each value's
    count is the number of matches Whoosh itself finds for that value."""
    backend = two_segments
    rng = random.Random(12)
    with backend._leased_searcher() as searcher:
        reader = searcher.reader()
        everything = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
        truth = {
            facet: {value.decode(): set(searcher.docs_for_query(
                        whoosh_query.Term(facet_field(facet), value)))
                    for value in searcher.lexicon(facet_field(facet))}
            for facet in FACETS
        }
        assert sum(len(values) for values in truth.values()) > 5  # a corpus with facets
        for docs in (set(), {0}, set(everything), *(set(rng.sample(everything, n))
                                                   for n in (1, 7, 30, 90))):
            counted = count_facets(backend.schema, searcher, docs, backend._facet_tables())
            expected = {facet: sorted(((value, len(ids & docs)) for value, ids in
                                       values.items() if ids & docs),
                                      key=lambda kv: (-kv[1], kv[0]))
                        for facet, values in truth.items()}
            assert counted == expected


def test_the_fast_analyser_gives_the_chain_s_tokens():
    schema = build_schema()
    texts = [
        "Les ordinateurs portables de l'université: été, für Ärzte, e-procurement 3.5",
        "the of and THE Child-Labour   straße ŒUVRE İstanbul x_y a.b.c",
        "", "des des enfants travail des enfants",
    ]
    for name in ("title_en", "body_nl", "body_fr", "summary_de", "spell"):
        fast = schema[name].analyzer
        chain = reference_analyzer(fast)
        for text in texts:
            for options in ({"positions": True, "mode": "index"}, {"mode": "query"},
                            {"positions": True, "chars": True, "removestops": False},
                            {"positions": True, "start_pos": 4, "start_char": 2}):
                def seen(analyzer):
                    return [(t.text, getattr(t, "pos", None), getattr(t, "startchar", None),
                             t.stopped) for t in analyzer(text, **options)]  # noqa: B023
                assert seen(fast) == seen(chain), (name, text, options)
