"""The glossary: concepts and the words for them in each language.

Search uses it to expand a query across languages ("kinderarbeid" also finds "child
labour"). Organisers and administrators change it; every member may read it. Functions
flush but never commit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import func, select

from buyergroup.accounts.models import User
from buyergroup.errors import AlreadyExists, NotAllowed, ValidationFailed
from buyergroup.extensions import db
from buyergroup.glossary.models import Concept, Term
from buyergroup.search.expansion import invalidate_expansions

# The languages the glossary links (the interface and search languages).
GLOSSARY_LANGUAGES: tuple[str, ...] = ("en", "nl", "fr", "de")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def fold(text: str) -> str:
    """Lower-case, accents dropped, spaces collapsed: "Diligence raisonnée" ->
    "diligence raisonnee". Query words are compared with this form."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def can_edit_glossary(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.is_organiser)


def _require_editor(actor: User | None) -> None:
    if actor is not None and not can_edit_glossary(actor):
        raise NotAllowed(_("Only organisers can change the glossary."))


def concepts_query():
    return select(Concept).order_by(Concept.key)


def get_concept_by_key(key: str) -> Concept | None:
    return db.session.scalar(select(Concept).where(Concept.key == key))


def _clean_terms(terms: Mapping[str, list[str] | str]) -> dict[str, list[str]]:
    cleaned: dict[str, list[str]] = {}
    for language, values in terms.items():
        if language not in GLOSSARY_LANGUAGES:
            raise ValidationFailed(_("Unknown language: %(code)s", code=language))
        if isinstance(values, str):
            values = values.splitlines()
        seen: dict[str, str] = {}
        for value in values:
            term = " ".join(str(value).split())
            if not term:
                continue
            if len(term) > 160:
                raise ValidationFailed(
                    _("A term can be at most 160 characters long."), field=f"terms_{language}"
                )
            seen.setdefault(fold(term), term)  # "Child labour" and "child labour" are one
        cleaned[language] = list(seen.values())
    return cleaned


def save_concept(
    actor: User | None,
    concept: Concept | None = None,
    *,
    key: str,
    terms: Mapping[str, list[str] | str],
    note: str = "",
) -> Concept:
    """Create or update a concept with its terms per language (replacing the old terms)."""
    _require_editor(actor)
    key = (key or "").strip().lower()
    if not KEY_RE.match(key):
        raise ValidationFailed(
            _("Use lower-case letters, digits and hyphens, e.g. child-labour."), field="key"
        )
    clash = get_concept_by_key(key)
    if clash is not None and clash is not concept:
        raise AlreadyExists(_("A concept with this key already exists."), field="key")
    cleaned = _clean_terms(terms)
    if sum(len(v) for v in cleaned.values()) == 0:
        raise ValidationFailed(_("Give the concept at least one term."), field="terms_en")
    if concept is None:
        concept = Concept(key=key)
        db.session.add(concept)
    concept.key = key
    concept.note = (note or "").strip()
    wanted = {(language, term) for language, values in cleaned.items() for term in values}
    for existing in list(concept.terms):
        if existing.language in cleaned and (existing.language, existing.term) not in wanted:
            concept.terms.remove(existing)
    present = {(t.language, t.term) for t in concept.terms}
    for language, values in cleaned.items():
        for term in values:
            if (language, term) not in present:
                concept.terms.append(Term(language=language, term=term, folded=fold(term)))
    db.session.flush()
    return concept


def delete_concept(actor: User | None, concept: Concept) -> None:
    _require_editor(actor)
    db.session.delete(concept)
    db.session.flush()


def term_count() -> int:
    return db.session.scalar(select(func.count(Term.id))) or 0


def search_cache_changed() -> None:
    """Tell search that the glossary changed (call after committing a change).

    The search package's session hooks already do this for changes made through the
    session (``search_expansions.register`` asks them to); calling it again is cheap and
    keeps this module's promise explicit.
    """
    invalidate_expansions()
