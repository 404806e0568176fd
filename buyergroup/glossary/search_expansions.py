"""The glossary as the source of search's cross-language expansions.

Search knows no glossary (``buyergroup.search.expansion``): this module tells it where the
equivalent terms are, how to notice that they changed, and which models' commits drop its
cache. Called once per app, from the glossary blueprint's registration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from buyergroup.glossary.models import Concept, Term
from buyergroup.search.expansion import register_expansions


def term_groups(connection: Connection) -> Iterator[list[tuple[str, str]]]:
    """Each concept's terms, as (language, term) pairs."""
    by_concept: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for concept_id, language, term in connection.execute(
        select(Term.concept_id, Term.language, Term.term).order_by(Term.language, Term.term)
    ):
        by_concept[concept_id].append((language, term))
    yield from by_concept.values()


def fingerprint(connection: Connection) -> tuple:
    """Changes whenever a term is added, removed or a concept edited: counts, highest term
    id, latest concept change."""
    # One statement (two before): searches ask this every few seconds, and each question
    # counts against a page's budget of queries.
    return tuple(connection.execute(select(
        select(func.count(Term.id)).scalar_subquery(),
        select(func.max(Term.id)).scalar_subquery(),
        select(func.count(Concept.id)).scalar_subquery(),
        select(func.max(Concept.updated_at)).scalar_subquery(),
    )).one())


def register(app: Flask) -> None:
    """Expand searches with the glossary (``app``: the app being set up; the registry is
    per process, like the library's documents)."""
    register_expansions(term_groups, fingerprint, models=(Concept, Term))
