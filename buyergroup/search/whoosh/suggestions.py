"""Did you mean: corrections of the reader's raw words from the unstemmed ``spell`` field.

FIELD-NOTES: ``correct_query`` half-fails on stemmed fields; ``corrector.suggest`` on the
reader's own words works. The choice between candidates is ``common.suggest_correction``'s,
shared with the PostgreSQL backend.
"""

from __future__ import annotations

from collections.abc import Callable

from whoosh import query as wq

from buyergroup.search import common, syntax
from buyergroup.search.types import QuerySyntaxError, SearchQuery
from buyergroup.search.whoosh.schema import tokens


def suggest(searcher, query: SearchQuery, tree: syntax.Node, allowed, *, spell_analyzer,
            total_for: Callable[[SearchQuery, syntax.Node], int], in_language=None,
            protected: set[str] | frozenset[str] = frozenset()) -> str | None:
    """A corrected query text, or None. ``tree``: the query as typed. ``allowed``: the
    documents the reader may see; ``in_language``: those of them in the query's language,
    whose candidates are preferred (None: no preference); ``total_for(query, tree)``: how many
    of them a corrected query finds, on ``searcher``."""

    corrector = searcher.corrector("spell")

    def spelled(word: str) -> str | None:
        found = tokens(spell_analyzer, word)
        return found[0] if len(found) == 1 else None

    def known(word: str) -> bool:
        token = spelled(word)
        if token is None:
            return True  # not a single word: nothing to correct
        return any(d in allowed for d in searcher.docs_for_query(wq.Term("spell", token)))

    def candidates(word: str) -> list[str]:
        token = spelled(word)
        return list(corrector.suggest(token, limit=8, maxdist=2, prefix=1)) if token else []

    def counter(documents):
        def count(word: str) -> int:
            token = spelled(word)
            if token is None or not documents:
                return 0
            return sum(1 for d in searcher.docs_for_query(wq.Term("spell", token))
                       if d in documents)
        return count

    frequency = counter(allowed)

    def finds_any(text: str) -> bool:
        corrected = SearchQuery(text=text, filters=query.filters, audiences=query.audiences,
                                page=1, per_page=1)
        try:
            return total_for(corrected, syntax.parse(text)) > 0
        except QuerySyntaxError:
            return False

    return common.suggest_correction(tree, query.text, known=known, candidates=candidates,
                                     frequency=frequency, finds_any=finds_any,
                                     protected=protected,
                                     in_language=None if in_language is None
                                     else counter(in_language))
