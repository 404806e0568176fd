"""What both search backends do the same way: languages, facet codes, snippets, suggestions."""

from __future__ import annotations

import hashlib
import html
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace

from buyergroup.search import syntax
from buyergroup.search.types import FACETS, SORTS, SearchDocument, SearchQuery, SearchResults

# Languages with their own stemmer and stop words. Text in any other language is analysed
# as English: better a wrong stemmer than none, and the document stays findable.
LANGUAGES = ("en", "nl", "fr", "de")

# How much of a document's text is kept for snippets. Highlighting re-reads this text for
# every hit shown, so a 300-page attachment would make each result page slow.
SNIPPET_SOURCE_CHARS = 5000
FALLBACK_SNIPPET_CHARS = 240
# PostgreSQL refuses a tsvector over 1 MB: a long attachment is indexed up to this length,
# on both backends, so that they find the same documents.
MAX_ATTACHMENT_CHARS = 300_000

# Private-use characters, which never occur in real text (they are stripped from documents
# before indexing): marks an engine puts around matches before the text is escaped, and
# stand-ins for the characters PostgreSQL's ts_headline would read as HTML and drop.
MARK_START, MARK_END = "\ue000", "\ue001"
HTML_STAND_INS = {"<": "\ue002", ">": "\ue003", "&": "\ue004"}


# Past a backend's exact limit a search counts a sample: the documents of the first few of
# SAMPLE_BUCKETS buckets, by a hash of their group key, so that an item and its
# translations are in the same one (``sample_bucket``).
SAMPLE_BUCKETS = 64


def sample_bucket(group_key: str) -> int:
    """The bucket of a group: the low 6 bits of the first 32 of its key's md5 (what the
    PostgreSQL backend's ``_BUCKET_SQL`` computes)."""
    digest = hashlib.md5(group_key.encode()).hexdigest()  # noqa: S324 - a spread, not a secret
    return int(digest[:8], 16) & (SAMPLE_BUCKETS - 1)


def sample_buckets(matches: int, exact_limit: int, sample_size: int) -> int | None:
    """How many buckets hold about ``sample_size`` of ``matches`` documents, when those are
    more than ``exact_limit`` (0: no limit); None: count them all."""
    if exact_limit <= 0 or matches <= exact_limit:
        return None
    buckets = math.ceil(SAMPLE_BUCKETS * max(sample_size, 1) / matches)
    return buckets if buckets < SAMPLE_BUCKETS else None


def estimate(count: int, in_all: int, in_sample: int) -> int:
    """A count seen in a sample of ``in_sample`` of ``in_all`` matching documents, scaled
    to all of them and rounded to three significant digits (it is within about 1 %: more
    digits would claim a precision it does not have); at least 1 if it was seen at all."""
    if not count or not in_sample:
        return 0
    scaled = count * in_all / in_sample
    digits = max(len(str(int(scaled))) - 3, 0)
    return max(int(round(scaled, -digits)), 1)


def scaled_counts(total: int, facets: dict[str, list[tuple[str, int]]], in_all: int,
                  in_sample: int) -> tuple[int, dict[str, list[tuple[str, int]]]]:
    """A sample's total and facet counts (``in_sample`` of ``in_all`` matching documents)
    as estimates for all of them (``estimate``)."""
    return (estimate(total, in_all, in_sample),
            {facet: [(value, estimate(count, in_all, in_sample)) for value, count in counts]
             for facet, counts in facets.items()})


def analysis_language(language: str) -> str:
    return language if language in LANGUAGES else "en"


def clean_codes(values: list[str] | tuple[str, ...] | None) -> list[str]:
    """Facet and audience codes as the index stores them: lower-case, no commas, unique."""
    seen: dict[str, None] = {}
    for value in values or []:
        code = str(value).strip().lower().replace(",", " ")
        if code:
            seen.setdefault(code, None)
    return list(seen)


_PRIVATE_RE = re.compile("[" + "".join(sorted({MARK_START, MARK_END, *HTML_STAND_INS.values()}))
                         + "]")


def strip_marks(text: str) -> str:
    # A regular expression, not str.translate: translating with a table walks every
    # character in Python-level lookups (0.3 ms per document, a quarter of a build).
    text = text or ""
    return _PRIVATE_RE.sub("", text) if _PRIVATE_RE.search(text) else text


def snippet_source(document: SearchDocument) -> str:
    """The text snippets are cut from: summary, then body, then attachments."""
    parts = [document.summary, document.body, document.attachments_text]
    return strip_marks("\n".join(p for p in parts if p))[:SNIPPET_SOURCE_CHARS]


def fallback_snippet(source: str) -> str:
    """The start of the text, escaped, for hits whose match is not in the text."""
    text = " ".join((source or "").split())
    if len(text) > FALLBACK_SNIPPET_CHARS:
        text = text[:FALLBACK_SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(text, quote=False)


def marks_to_html(text: str) -> str:
    """Escape ``text`` and turn the engine's match marks into ``<mark>`` elements (and the
    stand-ins back into escaped ``<``, ``>`` and ``&``)."""
    escaped = html.escape(text, quote=False)
    for char, stand_in in HTML_STAND_INS.items():
        escaped = escaped.replace(stand_in, html.escape(char))
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def sort_title(title: str) -> str:
    return syntax.fold(" ".join((title or "").split()))[:200]


def checked_filters(query: SearchQuery) -> dict[str, list[str]]:
    """The query's facet filters, unknown facets and empty value lists left out."""
    return {
        facet: clean_codes(values)
        for facet, values in (query.filters or {}).items()
        if facet in FACETS and clean_codes(values)
    }


def effective_sort(query: SearchQuery, has_text: bool) -> str:
    """Relevance means nothing without words: browsing shows the newest first."""
    sort = query.sort if query.sort in SORTS else "relevance"
    return "newest" if sort == "relevance" and not has_text else sort


def page_bounds(query: SearchQuery) -> tuple[int, int]:
    page = max(int(query.page or 1), 1)
    per_page = min(max(int(query.per_page or 20), 1), 100)
    return page, per_page


# "Did you mean" only for a query that found fewer results than this: a query that found
# plenty was understood (and the fuzzy corrector costs 8-14 ms per unknown word on Whoosh).
SUGGEST_BELOW = 5


def wants_suggestion(tree: syntax.Node | None, total: int) -> bool:
    return tree is not None and total < SUGGEST_BELOW


def query_language(query: SearchQuery) -> str:
    """The language the query is written in, as far as we can tell: a single language
    filter, else the reader's language; "" if unknown."""
    chosen = clean_codes((query.filters or {}).get("language"))
    if len(chosen) == 1:
        return chosen[0]
    return (query.language or "").strip().lower()


def glossary_words(expansions: dict[str, list[str]]) -> set[str]:
    """The folded words of the glossary phrases found in a query: real words of some
    language (German "Kinderarbeit" is no misspelling of Dutch "kinderarbeid")."""
    return {word for key in expansions for word in key.split()}


def suggest_correction(
    tree: syntax.Node,
    text: str,
    *,
    known: Callable[[str], bool],
    candidates: Callable[[str], list[str]],
    frequency: Callable[[str], int],
    finds_any: Callable[[str], bool],
    protected: set[str] | frozenset[str] = frozenset(),
    in_language: Callable[[str], int] | None = None,
) -> str | None:
    """A corrected query, or None.

    ``tree``: the query as typed (not the glossary-expanded one: only the reader's own
    words are checked). ``known(word)``: a document the searcher may see contains the word
    as typed. ``candidates(word)``: spellings within two edits, from the whole index.
    ``frequency``: in how many documents the searcher may see a candidate occurs (0:
    none); ``in_language``: the same in the query's language, when known: a candidate of
    the query's language wins over any other (a German "Arbeiter" over a Dutch "arbeid"
    for "arbeit"), others are offered only when it has none. ``finds_any``: the corrected
    query finds a document the searcher may see. ``protected``: folded words never
    corrected (glossary terms). The nearest visible candidate wins, the more frequent one
    among equally near ones. Checking visibility for each word and for the whole query
    means a suggestion never reveals, nor is chosen by, words that only occur in documents
    the searcher may not read.
    """
    replacements: dict[str, str] = {}
    for word in dict.fromkeys(syntax.plain_words(tree)):
        if len(word) < 3 or word.isdigit() or syntax.fold(word) in protected or known(word):
            continue
        folded = syntax.fold(word)
        ranked = []
        for candidate in dict.fromkeys(candidates(word)):
            if syntax.fold(candidate) == folded:
                continue
            count = frequency(candidate)
            if count > 0:
                distance = syntax.damerau_levenshtein(folded, syntax.fold(candidate))
                foreign = 0 if in_language is None or in_language(candidate) > 0 else 1
                ranked.append((foreign, distance, -count, candidate))
        if ranked:
            replacements[word] = min(ranked)[-1]
    if not replacements:
        return None
    corrected = syntax.replace_words(text, replacements)
    return corrected if corrected != text and finds_any(corrected) else None


# --- Results of recent searches --------------------------------------------------------------


def query_key(query: SearchQuery, expansions: dict[str, list[str]]) -> tuple:
    """What a search's results depend on besides the index: the same key, the same results.

    The audiences are in it: a cached result is only ever given to a searcher who may see
    exactly what it was computed for (totals and facet counts included)."""
    page, per_page = page_bounds(query)
    return (
        query.text or "",
        tuple(sorted((facet, tuple(sorted(values)))
                     for facet, values in checked_filters(query).items())),
        tuple(sorted(clean_codes(query.audiences))),
        query.sort,
        page,
        per_page,
        (query.language or "").strip().lower(),
        tuple(sorted((key, tuple(values)) for key, values in (expansions or {}).items())),
    )


def copy_results(results: SearchResults) -> SearchResults:
    """A copy a caller may change (the library re-sorts hits and pages them) without
    changing the cached one."""
    return replace(
        results,
        hits=[replace(hit) for hit in results.hits],
        facets={facet: list(values) for facet, values in results.facets.items()},
        expansions=list(results.expansions),
    )


class ResultCache:
    """The results of recent searches, per index generation (issue 12).

    The index changes far less often than it is read: browsing the library as a visitor,
    or a member's second look at the same search, needs neither the matching nor the
    counting again. A key holds the backend's generation of the index (Whoosh: the live
    folder and its commit number; PostgreSQL: ``search.index_state``), so any write to the
    index makes every older entry unreachable; they age out of the LRU. Results cut short
    by a time limit or answering an error are not kept. ``size`` 0 keeps nothing.
    """

    def __init__(self, size: int = 256):
        self.size = max(int(size), 0)
        self._entries: OrderedDict[Hashable, SearchResults] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> SearchResults | None:
        if not self.size:
            return None
        with self._lock:
            cached = self._entries.get(key)
            if cached is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return copy_results(cached)

    def put(self, key: Hashable, results: SearchResults) -> None:
        if not self.size or results.partial or results.error:
            return
        kept = copy_results(results)
        with self._lock:
            self._entries[key] = kept
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
