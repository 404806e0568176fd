"""A multilingual glossary of procurement terms, used to expand searches across languages."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buyergroup.database import TimestampMixin
from buyergroup.extensions import db


class Concept(TimestampMixin, db.Model):
    __tablename__ = "glossary_concepts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)

    terms: Mapped[list[Term]] = relationship(
        back_populates="concept",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="(Term.language, Term.term)",
    )

    def terms_in(self, language: str) -> list[str]:
        return [t.term for t in self.terms if t.language == language]


class Term(db.Model):
    """One way of saying a concept in one language ("child labour", "kinderarbeid")."""

    __tablename__ = "glossary_terms"
    __table_args__ = (UniqueConstraint("concept_id", "language", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    concept_id: Mapped[int] = mapped_column(
        ForeignKey("glossary_concepts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    language: Mapped[str] = mapped_column(String(5), nullable=False)
    term: Mapped[str] = mapped_column(String(160), nullable=False)
    # Lower-cased, accent-folded form, for matching query words.
    folded: Mapped[str] = mapped_column(String(160), nullable=False, index=True)

    concept: Mapped[Concept] = relationship(back_populates="terms")
