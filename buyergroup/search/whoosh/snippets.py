"""Snippets: up to two fragments of a hit's text around its first matches, with ``<mark>``."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from whoosh import highlight
from whoosh import query as wq

from buyergroup.search import common
from buyergroup.search.whoosh.schema import TEXT_PART_NAMES, tokens

_MISSING = object()
_MAX_MARKS = 12
_SURROUND = 60
_FRAGMENT_CHARS = 240


@dataclass(frozen=True)
class _Match:
    startchar: int
    endchar: int


def _word_boundary(text: str, index: int, *, forward: bool) -> int:
    """``index`` moved to the nearest space (forward or back) so no word is cut."""
    if index <= 0 or index >= len(text):
        return max(0, min(index, len(text)))
    if forward:
        space = text.find(" ", index)
        return index if space < 0 or space - index > 20 else space + 1
    space = text.rfind(" ", 0, index)
    return index if space < 0 or index - space > 20 else space


def _fold_table() -> dict[int, str]:
    """Lower-case and strip accents one character for one, so offsets stay valid."""
    table = {}
    for code in range(0x41, 0x250):
        lower = chr(code).lower()
        if len(lower) != 1:
            continue
        base = unicodedata.normalize("NFKD", lower)[0]
        folded = lower if not base.isalpha() else base
        folded = "s" if folded == "ß" else folded  # as Whoosh's accent_map
        if folded != chr(code):
            table[code] = folded
    return table


_FOLD = _fold_table()


@dataclass(frozen=True)
class Wanted:
    """The indexed forms a query looks for in one language, for snippets."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    candidates: re.Pattern[str]  # words that may have one of those forms

    def matches(self, form: str) -> bool:
        return form in self.exact or (bool(self.prefixes) and form.startswith(self.prefixes))


def highlight_terms(compiled) -> dict[str, Wanted]:
    """Per language, what the compiled query looks for."""
    exact: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for leaf in compiled.leaves():
        part, _, language = (getattr(leaf, "fieldname", None) or "").rpartition("_")
        if part not in TEXT_PART_NAMES:
            continue
        if isinstance(leaf, wq.Prefix):
            prefixes.setdefault(language, set()).add(leaf.text)
        elif isinstance(leaf, wq.Phrase):
            exact.setdefault(language, set()).update(leaf.words)
        elif isinstance(leaf, wq.Term):
            exact.setdefault(language, set()).add(leaf.text)
    wanted = {}
    for language in set(exact) | set(prefixes):
        forms, starts = exact.get(language, set()), prefixes.get(language, set())
        # A stem is (nearly always) the start of the word it came from, give or take its
        # last letters ("happi" from "happy"): look for words starting with the stem less
        # two letters, then check each one's real form.
        pieces = {form[: max(3, len(form) - 2)] for form in forms} | starts
        pattern = "|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True))
        wanted[language] = Wanted(
            exact=frozenset(forms),
            prefixes=tuple(sorted(starts)),
            candidates=re.compile(rf"(?<!\w)(?:{pattern})\w*(?:\.\w+)*"),
        )
    return wanted


class Snippets:
    """Builds snippets with the schema's analysers (``analyzers``: language -> analyser)."""

    def __init__(self, analyzers: dict[str, object]):
        self._analyzers = analyzers
        # word -> indexed form (folded, stemmed; None for a stop word), per language.
        self._forms: dict[str, dict[str, str | None]] = {lang: {} for lang in analyzers}

    def form(self, language: str, word: str) -> str | None:
        """``word`` as the index holds it in ``language`` (cached: snippets ask often)."""
        forms = self._forms[language]
        form = forms.get(word, _MISSING)
        if form is _MISSING:
            found = tokens(self._analyzers[language], word)
            form = found[0] if found else None
            if len(forms) > 200_000:
                forms.clear()
            forms[word] = form
        return form

    def snippet(self, stored: dict, terms: dict[str, Wanted]) -> str:
        """Up to two fragments of the document's text around its first matches.

        Whoosh's own highlighter runs the whole text through the analyser chain for every
        hit: two thirds of a search's time at 2,000 documents. Here a regular expression
        over an accent-folded copy finds the words that may match (those starting like a
        searched form), a cache confirms their indexed forms, and Whoosh's ``HtmlFormatter``
        escapes the text and wraps the matches in ``<mark>``.
        """
        source = stored.get("snippet", "") or ""
        language = common.analysis_language(stored.get("language", ""))
        wanted = terms.get(language)
        if not source or wanted is None:
            return common.fallback_snippet(source)
        matches: list[_Match] = []
        for found in wanted.candidates.finditer(source.translate(_FOLD)):
            form = self.form(language, source[found.start() : found.end()])
            if form is not None and wanted.matches(form):
                matches.append(_Match(found.start(), found.end()))
                if len(matches) >= _MAX_MARKS:
                    break
        if not matches:
            return common.fallback_snippet(source)
        fragments = []
        i = 0
        while i < len(matches) and len(fragments) < 2:
            first = matches[i]
            start = _word_boundary(source, max(0, first.startchar - _SURROUND), forward=True)
            start = min(start, first.startchar)
            end = _word_boundary(source, min(len(source), start + _FRAGMENT_CHARS),
                                 forward=False)
            end = max(end, first.endchar)
            inside = [m for m in matches[i:] if m.endchar <= end]
            fragments.append(highlight.Fragment(source, inside, start, end))
            i += len(inside)
        formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
        # A bare <mark>, as PostgreSQL's snippets: no class attributes for the page to
        # strip (it no longer runs bleach over snippets, issue 12).
        formatter.template = "<%(tag)s>%(t)s</%(tag)s>"
        marked = formatter.format(fragments)  # escapes the text around the marks
        if fragments[0].startchar > 0:
            marked = "… " + marked
        if fragments[-1].endchar < len(source):
            marked += " …"
        return marked
