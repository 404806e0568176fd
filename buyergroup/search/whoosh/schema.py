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
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
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


def language_analyzer(language: str):
    # Whoosh's stop lists are accented ("été", "für"); fold them like the text they filter.
    stops = frozenset(word.translate(accent_map) for word in stopwords_for_language(language))
    return (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(stoplist=stops) | StemFilter(lang=language))


def build_schema() -> Schema:
    fields: dict[str, Any] = {
        "ref": ID(unique=True, stored=True),
        # The versions of one thing share it (groups.py); a document alone has its ref.
        "group": ID(),
        "item_id": STORED(),
        "language": ID(stored=True),
        "analysis": ID(),  # which language's fields hold the text
        "snippet": STORED(),
        # Unstemmed, accent-folded words of every text field, for "did you mean".
        "spell": TEXT(analyzer=RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map),
                      phrase=False),
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
