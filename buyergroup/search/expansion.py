"""Cross-language expansion: "kinderarbeid" also searches "child labour", "travail des
enfants" and "Kinderarbeit".

The search package knows no glossary: a domain registers where equivalent terms come from
(``register_expansions``), as the library registers its documents. The glossary does so from
``buyergroup.glossary.search_expansions``.

The terms are few (hundreds) and read on every search, so they are cached in the process.
The cache is dropped:

* at once in this process when a change to one of the registered ``models`` is committed
  (the session hooks call ``invalidate_expansions``);
* in other processes within ``CHECK_SECONDS``: the source's cheap ``fingerprint`` (counts,
  highest id, latest change) is compared at most that often.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from buyergroup.extensions import db
from buyergroup.search import hooks, syntax

CHECK_SECONDS = 2.0

# Groups of equivalent terms, each term with its language: [[("en", "child labour"),
# ("nl", "kinderarbeid")], ...]. Read with the connection given.
TermGroups = Callable[[Connection], Iterable[list[tuple[str, str]]]]
Fingerprint = Callable[[Connection], tuple]


@dataclass(frozen=True)
class ExpansionSource:
    term_groups: TermGroups
    fingerprint: Fingerprint


@dataclass
class _Expansions:
    # folded phrase -> the equivalent terms in other languages (with their languages)
    phrases: dict[str, list[syntax.Translation]]
    longest: int  # words in the longest phrase
    fingerprint: tuple
    checked_at: float
    generation: int


_lock = threading.Lock()
_source: ExpansionSource | None = None
_cache: dict[str, _Expansions] = {}  # per database URL (tests use several databases)
_generation = 0


def register_expansions(term_groups: TermGroups, fingerprint: Fingerprint, *,
                        models: Iterable[type] = ()) -> None:
    """Expand queries with ``term_groups``; a committed change to an instance of ``models``
    drops the cache at once. Registering again replaces the source."""
    global _source
    with _lock:
        _source = ExpansionSource(term_groups, fingerprint)
    hooks.on_commit_of(tuple(models), invalidate_expansions)
    invalidate_expansions()


def unregister_expansions() -> None:
    global _source
    with _lock:
        _source = None
    invalidate_expansions()


def invalidate_expansions() -> None:
    """Forget the cached terms; the next search reloads them. Call after committing a change
    to them (the session hooks do this for changes to the registered models)."""
    global _generation
    with _lock:
        _generation += 1


def _phrases(groups: Iterable[list[tuple[str, str]]]) -> dict[str, list[syntax.Translation]]:
    """Folded phrase -> its translations, each with the languages it is a term of (the same
    word may be a term of several: "coltan"). Searches look for a translation only in the
    documents of its languages: "Kinderarbeit" in German ones, not in the fields of every
    language (four times the matching, for words that only one language's texts hold)."""
    phrases: dict[str, dict[str, set[str]]] = {}
    for terms in groups:
        for language, term in terms:
            key = " ".join(syntax.query_words(term))
            if not key:
                continue
            translations = phrases.setdefault(key, {})
            for other_language, other in terms:
                if (other_language != language
                        and " ".join(syntax.query_words(other)) != key):
                    translations.setdefault(other, set()).add(other_language)
    return {key: [syntax.Translation(text, sorted(languages))
                  for text, languages in values.items()]
            for key, values in phrases.items() if values}


def _expansions(source: ExpansionSource) -> _Expansions:
    url = db.engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _lock:
        cached, generation = _cache.get(url), _generation
    if cached and cached.generation == generation and now - cached.checked_at < CHECK_SECONDS:
        return cached
    # The session's own connection, not one more from the pool: a search request then holds
    # one connection, not two (issue 8: 50 signed-in searches on a pool of 15 each held one
    # and waited 30 s for a second). Core statements on it never autoflush the caller's work.
    connection = db.session.connection()
    fingerprint = source.fingerprint(connection)
    if cached and cached.generation == generation and cached.fingerprint == fingerprint:
        cached.checked_at = now
        return cached
    phrases = _phrases(source.term_groups(connection))
    expansions = _Expansions(
        phrases=phrases,
        longest=max((len(key.split()) for key in phrases), default=0),
        fingerprint=fingerprint,
        checked_at=now,
        generation=generation,
    )
    with _lock:
        _cache[url] = expansions
    return expansions


def find_expansions(text: str) -> dict[str, list[str]]:
    """Registered phrases in ``text`` (folded), longest match first, each with the
    equivalent terms in the other languages."""
    source = _source
    words = syntax.query_words(text)
    if source is None or not words:
        return {}
    expansions = _expansions(source)
    if not expansions.phrases:
        return {}
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        for size in range(min(expansions.longest, len(words) - i), 0, -1):
            key = " ".join(words[i : i + size])
            if key in expansions.phrases:
                found[key] = list(expansions.phrases[key])
                i += size
                break
        else:
            i += 1
    return found
