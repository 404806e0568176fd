"""The search box's syntax, parsed once for every backend.

Both engines receive the same tree, so a query means the same thing on Whoosh and on
PostgreSQL, and a mistake in it is reported the same way (``QuerySyntaxError``, with a
message meant for the person who typed it) instead of each engine guessing differently.

Grammar; ``NOT`` binds tighter than ``AND``, ``AND`` tighter than ``OR``, and ``AND`` is
implied between words::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*
    unary    := ("NOT" | "-") unary | primary
    primary  := word | word* | "a phrase" | "(" or_expr ")"

Operators are only recognised in capitals, so "rock and roll" searches for three words. A
word holding punctuation ("e-procurement", "l'acheteur") is searched as a phrase of its
parts, which is how the engines index it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from buyergroup.search.types import QuerySyntaxError

__all__ = [
    "And",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Term",
    "Translation",
    "contains",
    "damerau_levenshtein",
    "expand",
    "fold",
    "parse",
    "plain_words",
    "query_words",
    "replace_words",
    "searched_in",
]

WORD_RE = re.compile(r"\w+")
MIN_PREFIX = 2
MAX_QUERY_LENGTH = 500

# Letters that Unicode decomposition leaves alone but a European reader treats as variants.
_EXTRA_FOLDS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
)
# Quotation marks people paste from word processors, and French guillemets.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"',
                         "\u00bb": '"', "\u2033": '"'})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents: "Universität" -> "universitat"."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLDS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- The tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str  # one word as typed (no punctuation); engines analyse it themselves
    prefix: bool = False
    # A glossary translation is looked for only in the fields of its own languages (the
    # German "Kinderarbeit" in German documents); () for what the reader typed: any language.
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    languages: tuple[str, ...] = ()  # as for Term


class Translation(str):
    """A glossary term added to a query: the text (shown as "Also searched for") and the
    languages it is a term of, whose documents alone are searched for it. A plain string
    is a term of every language."""

    languages: tuple[str, ...]

    def __new__(cls, text: str, languages: tuple[str, ...] | list[str] = ()):
        translation = super().__new__(cls, text)
        translation.languages = tuple(sorted(set(languages)))
        return translation

    def __reduce__(self):
        return (Translation, (str(self), self.languages))


def searched_in(node: Term | Phrase, language: str) -> bool:
    """Whether a leaf is looked for in ``language``'s fields (its languages as analysed:
    a language without its own analyser is read as English)."""
    if not node.languages:
        return True
    from buyergroup.search.common import analysis_language

    return language in {analysis_language(code) for code in node.languages}


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | Phrase | And | Or | Not


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, Not):
        yield from walk(node.child)


def contains(node: Node | None, kind: type) -> bool:
    return node is not None and any(isinstance(n, kind) for n in walk(node))


# --- Tokens -------------------------------------------------------------------------------------

_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "leaf", "and", "or", "not", "(", ")"
    leaf: Node | None = None


def _leaf_for(chunk: str) -> Node | None:
    """A bare chunk of text ("labour", "lab*", "e-procurement") as a leaf, or None."""
    prefix = chunk.endswith("*")
    parts = WORD_RE.findall(chunk.replace("_", " "))
    if prefix:
        if not parts or len(parts[-1]) < MIN_PREFIX or not re.search(r"\w\*+$", chunk):
            raise QuerySyntaxError(
                f"Type at least {MIN_PREFIX} letters before * to search for words that "
                "start with them."
            )
    if not parts:
        return None  # punctuation only ("&", "–"): nothing to search for
    if prefix:
        leaves = [Term(p) for p in parts[:-1]] + [Term(parts[-1], prefix=True)]
        return leaves[0] if len(leaves) == 1 else And(tuple(leaves))
    if len(parts) == 1:
        return Term(parts[0])
    return Phrase(tuple(parts))


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(
                    'A quotation mark (") is not closed: close it, or remove it.'
                )
            words = WORD_RE.findall(text[i + 1 : end].replace("_", " "))
            if len(words) == 1:
                tokens.append(_Token("leaf", Term(words[0])))
            elif words:
                tokens.append(_Token("leaf", Phrase(tuple(words))))
            i = end + 1
        elif char in "()":
            tokens.append(_Token(char))
            i += 1
        elif char == "-" and i + 1 < n and not text[i + 1].isspace():
            # "-word" at the start of a word means NOT (inside a word it is a hyphen).
            tokens.append(_Token("not"))
            i += 1
        elif char == "+":
            i += 1  # "+word": words are required anyway
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '"()':
                j += 1
            chunk = text[i:j]
            if chunk in _OPERATORS:
                tokens.append(_Token(chunk.lower()))
            else:
                leaf = _leaf_for(chunk)
                if leaf is not None:
                    tokens.append(_Token("leaf", leaf))
            i = j
    return tokens


# --- Parser -------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos].kind if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() == ")":
            raise QuerySyntaxError("A closing bracket has no opening bracket: remove it.")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek() == "or":
            self.take()
            if self.peek() in (None, ")", "or", "and"):
                raise QuerySyntaxError("OR needs a word on both sides.")
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.peek() not in (None, ")", "or"):
            if self.peek() == "and":
                self.take()
                if self.peek() in (None, ")", "or", "and"):
                    raise QuerySyntaxError("AND needs a word on both sides.")
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        kind = self.peek()
        if kind == "not":
            self.take()
            if self.peek() in (None, ")", "or", "and"):
                raise QuerySyntaxError("NOT (or -) needs a word after it.")
            return Not(self.unary())
        if kind == "(":
            self.take()
            if self.peek() == ")":
                raise QuerySyntaxError("There is nothing between the brackets.")
            node = self.or_expr()
            if self.peek() != ")":
                raise QuerySyntaxError("A bracket is opened but not closed: close it.")
            self.take()
            return node
        if kind == "leaf":
            leaf = self.take().leaf
            assert leaf is not None
            return leaf
        if kind in ("and", "or"):
            raise QuerySyntaxError(f"{kind.upper()} needs a word on both sides.")
        if kind == ")":
            raise QuerySyntaxError("A closing bracket has no opening bracket: remove it.")
        raise QuerySyntaxError("The search ends too early.")


def parse(text: str) -> Node | None:
    """The tree for ``text``; None for an empty search (browse everything).

    Raises ``QuerySyntaxError`` for unbalanced quotes or brackets, dangling operators and
    searches with nothing to look for.
    """
    text = (text or "").translate(_QUOTES).strip()
    if not text:
        return None
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"The search is too long: use at most {MAX_QUERY_LENGTH} "
                               "characters.")
    tokens = _tokens(text)
    if not any(t.kind == "leaf" for t in tokens):
        raise QuerySyntaxError("Type at least one word to search for.")
    return _Parser(tokens).parse()


# --- Words (for spelling suggestions and glossary matching) ---------------------------------


def plain_words(node: Node | None) -> list[str]:
    """The words a person typed (not prefixes, not negated), in order."""
    words: list[str] = []

    def visit(n: Node) -> None:
        if isinstance(n, Term):
            if not n.prefix:
                words.append(n.text)
        elif isinstance(n, Phrase):
            words.extend(n.words)
        elif isinstance(n, (And, Or)):
            for child in n.children:
                visit(child)
        # Not: a misspelt excluded word changes nothing worth suggesting

    if node is not None:
        visit(node)
    return words


def query_words(text: str) -> list[str]:
    """The folded words of ``text``, operators and punctuation left out."""
    return [fold(w) for w in WORD_RE.findall((text or "").replace("_", " "))
            if w not in _OPERATORS]


def replace_words(text: str, replacements: dict[str, str]) -> str:
    """``text`` with whole words replaced (matched case- and accent-insensitively)."""
    folded = {fold(k): v for k, v in replacements.items()}

    def swap(match: re.Match[str]) -> str:
        return folded.get(fold(match.group(0)), match.group(0))

    return WORD_RE.sub(swap, text)


def damerau_levenshtein(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


# --- Cross-language expansion -------------------------------------------------------------


def _leaf_of_words(words: list[str], languages: tuple[str, ...] = ()) -> Node:
    if len(words) == 1:
        return Term(words[0], languages=languages)
    return Phrase(tuple(words), languages=languages)


def _alternatives(original: Node, key: str, expansions: dict[str, list[str]],
                  applied: list[str]) -> Node:
    """``original`` OR each translation of ``key`` (as a phrase when it has several words)."""
    options = [original]
    for translation in expansions[key]:
        words = WORD_RE.findall(translation.replace("_", " "))
        if words:
            options.append(_leaf_of_words(words, getattr(translation, "languages", ())))
            if translation not in applied:
                applied.append(str(translation))
    return options[0] if len(options) == 1 else Or(tuple(options))


def _expand_run(run: list[Term], expansions: dict[str, list[str]], longest: int,
                applied: list[str]) -> list[Node]:
    """Replace glossary phrases in a run of adjacent words, longest match first."""
    out: list[Node] = []
    i = 0
    while i < len(run):
        for size in range(min(longest, len(run) - i), 0, -1):
            key = " ".join(fold(t.text) for t in run[i : i + size])
            if key in expansions:
                original = _leaf_of_words([t.text for t in run[i : i + size]])
                out.append(_alternatives(original, key, expansions, applied))
                i += size
                break
        else:
            out.append(run[i])
            i += 1
    return out


def expand(node: Node | None, expansions: dict[str, list[str]]) -> tuple[Node | None, list[str]]:
    """Turn each glossary phrase found in the tree into an OR group with its translations.

    Returns the new tree and the translations it added ("Also searched for: ...").
    """
    if node is None or not expansions:
        return node, []
    longest = max(len(key.split()) for key in expansions)
    applied: list[str] = []

    def visit(n: Node) -> Node:
        if isinstance(n, Term):
            if n.prefix:
                return n
            return _expand_run([n], expansions, longest, applied)[0]
        if isinstance(n, Phrase):
            key = " ".join(fold(w) for w in n.words)
            return _alternatives(n, key, expansions, applied) if key in expansions else n
        if isinstance(n, Not):
            return Not(visit(n.child))
        if isinstance(n, Or):
            return Or(tuple(visit(c) for c in n.children))
        # And: adjacent plain words may together form a glossary phrase ("child labour").
        children: list[Node] = []
        run: list[Term] = []
        for child in n.children:
            if isinstance(child, Term) and not child.prefix:
                run.append(child)
                continue
            children.extend(_expand_run(run, expansions, longest, applied))
            run = []
            children.append(visit(child))
        children.extend(_expand_run(run, expansions, longest, applied))
        return children[0] if len(children) == 1 else And(tuple(children))

    return visit(node), applied


def leaves(node: Node) -> Iterable[Term | Phrase]:
    return (n for n in walk(node) if isinstance(n, (Term, Phrase)))
