"""The Whoosh schema: per-language text fields, facets, and a document's field values.

Each language has its own text fields (``title_nl``, ``body_nl``, ...) analysed with that
language's stop words and stemmer, accents folded *before* stemming (see FIELD-NOTES:
folding after stemming makes "universite" miss "université"). A document's text goes into
the fields of its language.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    CompositeAnalyzer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

from buyergroup.search import common
from buyergroup.search.types import FACETS, SearchDocument

# Field boosts: a word in the title counts for more than the same word in an attachment.
TEXT_PARTS = (("title", 4.0), ("summary", 2.0), ("body", 1.0), ("attachments", 0.5))
TEXT_PART_NAMES = frozenset(part for part, _ in TEXT_PARTS)


def facet_field(facet: str) -> str:
    # "facet_language" rather than "language": that name holds the document's language.
    return f"facet_{facet}"


class FastAnalyzer(CompositeAnalyzer):
    """Whoosh's chain ``RegexTokenizer | LowercaseFilter | CharsetFilter [| StopFilter
    [| StemFilter]]``, run as one loop instead of a generator per step (issue 12: the
    chain was about 40 % of building the index, five Python calls per word).

    Same tokens as the chain, position for position (``tests/search``): the stop filter's
    renumbering, stop words kept with ``removestops=False``, a stem memo per analyser. Any
    other use (``no_morph``, ``tokenize=False``, ``keeporiginal``, another chain) runs the
    chain itself. Indexes written before it hold the plain chain: both read alike.
    """

    STEM_MEMO = 100_000

    def __init__(self, *composables):
        super().__init__(*composables)
        self._plan = self._make_plan()
        self._stems: dict[str, str] = {}

    def __getstate__(self):
        return {"items": self.items}

    def __setstate__(self, state):
        self.items = state["items"]
        self._plan = self._make_plan()
        self._stems = {}

    def _make_plan(self):
        items = list(self.items)
        if (len(items) < 3 or type(items[0]) is not RegexTokenizer or items[0].gaps
                or type(items[1]) is not LowercaseFilter or type(items[2]) is not CharsetFilter):
            return None
        stop = stem = None
        rest = items[3:]
        if rest and type(rest[0]) is StopFilter:
            stop, rest = rest[0], rest[1:]
        if rest and type(rest[0]) is StemFilter:
            stem, rest = rest[0], rest[1:]
        if rest:
            return None
        charmap = items[2].charmap
        # Lower-cased ASCII words pass the accent map unchanged: only others are translated.
        ascii_kept = all(charmap.get(code, chr(code)) in (chr(code), code)
                         for code in range(128) if not chr(code).isupper())
        return (items[0].expression, charmap, ascii_kept, stop, stem)

    def __call__(self, value, no_morph=False, **kwargs):
        plan = self._plan
        if (plan is None or no_morph or not kwargs.get("tokenize", True)
                or kwargs.get("keeporiginal")):
            return super().__call__(value, no_morph=no_morph, **kwargs)
        return self._tokens(plan, value, **kwargs)

    def _tokens(self, plan, value, positions=False, chars=False, removestops=True,
                start_pos=0, start_char=0, mode="", tokenize=True, keeporiginal=False,
                **kwargs):
        expression, charmap, ascii_kept, stop, stem = plan
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if stop is not None:
            stoplist, minsize, maxsize, renumber = stop.stops, stop.min, stop.max, stop.renumber
        if stem is not None:
            stems, stem_fn, ignore = self._stems, stem._stem, stem.ignore
        kept_pos = None
        for n, match in enumerate(expression.finditer(value)):
            text = match.group(0).lower()
            if not (ascii_kept and text.isascii()):
                text = text.translate(charmap)
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + n
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            if stop is not None:
                if (len(text) >= minsize and (maxsize is None or len(text) <= maxsize)
                        and text not in stoplist):
                    if renumber and positions:
                        kept_pos = token.pos if kept_pos is None else kept_pos + 1
                        token.pos = kept_pos
                else:
                    if removestops:
                        continue
                    token.stopped = True
            if stem is not None and not token.stopped and text not in ignore:
                stemmed = stems.get(text)
                if stemmed is None:
                    stemmed = stem_fn(text)
                    if len(stems) < self.STEM_MEMO:
                        stems[text] = stemmed
                text = stemmed
            token.text = text
            yield token


def language_analyzer(language: str):
    # Whoosh's stop lists are accented ("été", "für"); fold them like the text they filter.
    stops = frozenset(word.translate(accent_map) for word in stopwords_for_language(language))
    return FastAnalyzer(RegexTokenizer(), LowercaseFilter(), CharsetFilter(accent_map),
                        StopFilter(stoplist=stops), StemFilter(lang=language))


def reference_analyzer(analyzer):
    """The plain Whoosh chain of a ``FastAnalyzer`` (for tests that compare the two)."""
    return CompositeAnalyzer(*analyzer.items)


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        "ref": ID(unique=True, stored=True),
        # The versions of one thing share it (groups.py); a document alone has its ref.
        "group": ID(),
        # The group's sample bucket ("0".."63", common.sample_bucket), for searches with
        # more matches than the exact limit.
        "sample": ID(),
        "item_id": STORED(),
        "language": ID(stored=True),
        "analysis": ID(),  # which language's fields hold the text
        "snippet": STORED(),
        # Unstemmed, accent-folded words of every text field, for "did you mean".
        "spell": TEXT(analyzer=FastAnalyzer(RegexTokenizer(), LowercaseFilter(),
                                            CharsetFilter(accent_map)), phrase=False),
        "audience": KEYWORD(commas=True, lowercase=True),
        "published": DATETIME(sortable=True),
        "sort_title": ID(sortable=True),
    }
    for language in common.LANGUAGES:
        analyzer = language_analyzer(language)
        for part, boost in TEXT_PARTS:
            fields[f"{part}_{language}"] = TEXT(analyzer=analyzer, field_boost=boost)
    for facet in FACETS:
        fields[facet_field(facet)] = KEYWORD(commas=True, lowercase=True)
    return Schema(**fields)


def tokens(analyzer, text: str, *, prefix: bool = False) -> list[str]:
    """The indexed forms of the words in ``text`` (``prefix``: one unanalysed token, stop
    words kept, as a prefix query needs)."""
    if prefix:
        found = analyzer(text, mode="query", tokenize=False, removestops=False)
    else:
        found = analyzer(text, mode="query")
    return [token.text for token in found]  # tokens are reused objects: copy the text


def document_fields(document: SearchDocument) -> dict[str, Any]:
    """The field values to index for ``document``."""
    language = common.analysis_language(document.language)
    texts = {
        "title": document.title or "",
        "summary": document.summary or "",
        "body": document.body or "",
        "attachments": (document.attachments_text or "")[: common.MAX_ATTACHMENT_CHARS],
    }
    fields: dict[str, Any] = {
        "ref": document.ref,
        "group": document.group or document.ref,
        "sample": str(common.sample_bucket(document.group or document.ref)),
        "item_id": int(document.item_id),
        "language": document.language,
        "analysis": language,
        "snippet": common.snippet_source(document),
        "spell": "\n".join(t for t in texts.values() if t),
        "audience": ",".join(common.clean_codes(document.audiences)),
        "sort_title": common.sort_title(document.title) or "~",
    }
    for part, text in texts.items():
        if text:
            fields[f"{part}_{language}"] = common.strip_marks(text)
    for facet in FACETS:
        codes = common.clean_codes((document.facets or {}).get(facet))
        if codes:
            fields[facet_field(facet)] = ",".join(codes)
    if document.published_at is not None:
        published = document.published_at
        if published.tzinfo is not None:  # Whoosh stores naive datetimes: keep UTC
            published = published.astimezone(UTC).replace(tzinfo=None)
        fields["published"] = published
    return fields
