"""Cross-language expansion: "kinderarbeid" also searches "child labour", "travail des
enfants" and "Kinderarbeit", from the glossary.

The glossary is small (hundreds of terms) and read on every search, so it is cached in
the process. The cache is dropped:

* at once in this process when a glossary change is committed (``hooks.py`` notices
  ``Concept``/``Term`` changes and calls ``invalidate_glossary_cache``);
* in other processes within ``CHECK_SECONDS``: a cheap fingerprint of the tables (counts,
  highest term id, latest concept change) is compared at most that often.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from buyergroup.extensions import db
from buyergroup.glossary.models import Concept, Term
from buyergroup.search import syntax

CHECK_SECONDS = 2.0


@dataclass
class _Glossary:
    phrases: dict[str, list[str]]  # folded phrase -> the concept's terms in other languages
    longest: int  # words in the longest phrase
    fingerprint: tuple
    checked_at: float
    generation: int


_lock = threading.Lock()
_cache: dict[str, _Glossary] = {}  # per database URL (tests use several databases)
_generation = 0


def invalidate_glossary_cache() -> None:
    """Forget the cached glossary; the next search reloads it. Call after committing a
    glossary change (the session hooks do this for you)."""
    global _generation
    with _lock:
        _generation += 1


def _fingerprint(connection) -> tuple:
    terms = connection.execute(select(func.count(Term.id), func.max(Term.id))).one()
    concepts = connection.execute(
        select(func.count(Concept.id), func.max(Concept.updated_at))
    ).one()
    return (*terms, *concepts)


def _load(connection) -> dict[str, list[str]]:
    by_concept: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for concept_id, language, term in connection.execute(
        select(Term.concept_id, Term.language, Term.term).order_by(Term.language, Term.term)
    ):
        by_concept[concept_id].append((language, term))
    phrases: dict[str, list[str]] = {}
    for terms in by_concept.values():
        for language, term in terms:
            key = " ".join(syntax.query_words(term))
            if not key:
                continue
            translations = phrases.setdefault(key, [])
            for other_language, other in terms:
                if (other_language != language
                        and " ".join(syntax.query_words(other)) != key
                        and other not in translations):
                    translations.append(other)
    return {key: values for key, values in phrases.items() if values}


def _glossary() -> _Glossary:
    url = db.engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _lock:
        cached, generation = _cache.get(url), _generation
    if cached and cached.generation == generation and now - cached.checked_at < CHECK_SECONDS:
        return cached
    with db.engine.connect() as connection:  # not db.session: never autoflush the caller's work
        fingerprint = _fingerprint(connection)
        if cached and cached.generation == generation and cached.fingerprint == fingerprint:
            cached.checked_at = now
            return cached
        phrases = _load(connection)
    glossary = _Glossary(
        phrases=phrases,
        longest=max((len(key.split()) for key in phrases), default=0),
        fingerprint=fingerprint,
        checked_at=now,
        generation=generation,
    )
    with _lock:
        _cache[url] = glossary
    return glossary


def find_expansions(text: str) -> dict[str, list[str]]:
    """Glossary phrases in ``text`` (folded), longest match first, each with the terms of
    the same concept in the other languages."""
    words = syntax.query_words(text)
    if not words:
        return {}
    glossary = _glossary()
    if not glossary.phrases:
        return {}
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        for size in range(min(glossary.longest, len(words) - i), 0, -1):
            key = " ".join(words[i : i + size])
            if key in glossary.phrases:
                found[key] = list(glossary.phrases[key])
                i += size
                break
        else:
            i += 1
    return found
