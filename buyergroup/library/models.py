"""The shared library: criteria, clauses, case studies, reports, labels and policy references.

One table holds every kind; the fields that belong to one kind only are nullable. Items are
linked as translations of each other through a shared ``translation_key``.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from buyergroup.database import LabelledEnum, TimestampMixin, UTCDateTime, string_enum, utcnow
from buyergroup.extensions import db

# Library enums were given 40 characters of room when the table was created.
_enum = partial(string_enum, length=40)

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.network.models import Organisation, WorkingGroup



class ItemKind(LabelledEnum):
    criterion = "criterion"
    clause = "clause"
    case_study = "case_study"
    report = "report"
    label = "label"
    policy = "policy"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.criterion: _l("Criterion"),
            cls.clause: _l("Contract clause"),
            cls.case_study: _l("Case study"),
            cls.report: _l("Report or guide"),
            cls.label: _l("Label or certificate"),
            cls.policy: _l("Policy reference"),
        }


class Phase(LabelledEnum):
    selection = "selection"
    exclusion = "exclusion"
    technical_specification = "technical_specification"
    award_criterion = "award_criterion"
    contract_performance_clause = "contract_performance_clause"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.selection: _l("Selection criterion"),
            cls.exclusion: _l("Exclusion ground"),
            cls.technical_specification: _l("Technical specification"),
            cls.award_criterion: _l("Award criterion"),
            cls.contract_performance_clause: _l("Contract performance clause"),
        }


class Ambition(LabelledEnum):
    """One common three-step scale of ambition; each source scheme names its steps itself
    (``AmbitionScheme.step_name``). Stored as "1", "2", "3" (the API gives the number)."""

    basic = "1"
    advanced = "2"
    front_runner = "3"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.basic: _l("1 · Basic"),
            cls.advanced: _l("2 · Advanced"),
            cls.front_runner: _l("3 · Front-runner"),
        }

    @property
    def level(self) -> int:
        return int(self.value)


class AmbitionScheme(LabelledEnum):
    """The scheme an item's ambition level comes from, with that scheme's own step names."""

    common = "common"  # the network's own scale
    eu_gpp = "eu_gpp"
    se_nap = "se_nap"  # Upphandlingsmyndigheten, the Swedish National Agency for Public Procurement
    nl_mvi = "nl_mvi"  # the Dutch MVI criteria tool

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.common: _l("Buyergroup scale"),
            cls.eu_gpp: _l("EU GPP criteria"),
            cls.se_nap: _l("Swedish criteria (Upphandlingsmyndigheten)"),
            cls.nl_mvi: _l("Dutch MVI criteria"),
        }

    @property
    def step_names(self) -> dict[Ambition, str]:
        """The scheme's own name for each level it has (names as the scheme writes them)."""
        return AMBITION_STEP_NAMES[self]

    def step_name(self, ambition: Ambition | None) -> str | None:
        return self.step_names.get(ambition) if ambition is not None else None


AMBITION_STEP_NAMES: dict[AmbitionScheme, dict[Ambition, str]] = {
    AmbitionScheme.common: {},
    AmbitionScheme.eu_gpp: {Ambition.basic: "core", Ambition.advanced: "comprehensive"},
    AmbitionScheme.se_nap: {
        Ambition.basic: "bas", Ambition.advanced: "avancerad", Ambition.front_runner: "spjutspets",
    },
    AmbitionScheme.nl_mvi: {
        Ambition.basic: "basisniveau", Ambition.advanced: "significant niveau",
        Ambition.front_runner: "ambitieniveau",
    },
}


class LabelScope(LabelledEnum):
    social = "social"
    environmental = "environmental"
    social_and_environmental = "social_and_environmental"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.social: _l("Social"),
            cls.environmental: _l("Environmental"),
            cls.social_and_environmental: _l("Social and environmental"),
        }


class ItemStatus(LabelledEnum):
    draft = "draft"
    submitted = "submitted"  # waiting in the review queue
    returned = "returned"  # sent back to the author with a reason
    published = "published"
    archived = "archived"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.draft: _l("Draft"),
            cls.submitted: _l("Waiting for review"),
            cls.returned: _l("Returned to the author"),
            cls.published: _l("Published"),
            cls.archived: _l("Archived"),
        }


class Visibility(LabelledEnum):
    public = "public"
    members = "members"
    group = "group"  # one working group's members only

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.public: _l("Everyone, including visitors"),
            cls.members: _l("Members of Buyergroup"),
            cls.group: _l("One working group"),
        }


class TranslationKind(LabelledEnum):
    original = "original"
    official = "official"
    member = "member"  # translated by a member, not checked by the author organisation

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.original: _l("Original"),
            cls.official: _l("Official translation"),
            cls.member: _l("Member translation"),
        }


# Multi-valued classifications are rows of (facet, code); these are the facets.
FACET_PRODUCT_GROUP = "product_group"
FACET_THEME = "theme"
FACET_COUNTRY = "country"
FACET_VERIFICATION = "verification"
TAG_FACETS = (FACET_PRODUCT_GROUP, FACET_THEME, FACET_COUNTRY, FACET_VERIFICATION)


class LibraryItem(TimestampMixin, db.Model):
    __tablename__ = "library_items"
    __table_args__ = (Index("ix_library_items_status_visibility", "status", "visibility"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "item_kind"), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    summary: Mapped[str] = mapped_column(Text, default="", nullable=False)
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)  # Markdown
    language: Mapped[str] = mapped_column(String(5), nullable=False)
    status: Mapped[ItemStatus] = mapped_column(
        _enum(ItemStatus, "item_status"), default=ItemStatus.draft, nullable=False
    )
    visibility: Mapped[Visibility] = mapped_column(
        _enum(Visibility, "item_visibility"), default=Visibility.members, nullable=False
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    source_url: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    licence: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    year: Mapped[int | None] = mapped_column()
    legal_system: Mapped[str] = mapped_column(String(120), default="", nullable=False)

    # Criterion and clause fields
    phase: Mapped[Phase | None] = mapped_column(_enum(Phase, "item_phase"))
    ambition: Mapped[Ambition | None] = mapped_column(_enum(Ambition, "item_ambition"))
    ambition_scheme: Mapped[AmbitionScheme | None] = mapped_column(
        _enum(AmbitionScheme, "item_ambition_scheme")
    )
    verification_notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    rationale: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Case study fields
    approach: Mapped[str] = mapped_column(Text, default="", nullable=False)
    results: Mapped[str] = mapped_column(Text, default="", nullable=False)
    lessons: Mapped[str] = mapped_column(Text, default="", nullable=False)
    challenges: Mapped[str] = mapped_column(Text, default="", nullable=False)
    next_steps: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Label fields
    label_scope: Mapped[LabelScope | None] = mapped_column(_enum(LabelScope, "label_scope"))
    # Policy reference fields
    reference: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    # Translations share a key; one of them is the original.
    translation_key: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    translation_kind: Mapped[TranslationKind] = mapped_column(
        _enum(TranslationKind, "translation_kind"),
        default=TranslationKind.original,
        nullable=False,
    )

    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Seed content is matched on this so that loading twice creates no duplicates.
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    group: Mapped[WorkingGroup | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    tags: Mapped[list[ItemTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="(ItemTag.facet, ItemTag.code)"
    )
    authors: Mapped[list[ItemAuthor]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ItemAuthor.position"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemVersion.number.desc()"
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Comment.created_at"
    )

    def codes(self, facet: str) -> list[str]:
        return [tag.code for tag in self.tags if tag.facet == facet]

    def set_codes(self, facet: str, codes: list[str]) -> None:
        wanted = list(dict.fromkeys(c for c in codes if c))
        for tag in [t for t in self.tags if t.facet == facet and t.code not in wanted]:
            self.tags.remove(tag)
        present = {t.code for t in self.tags if t.facet == facet}
        self.tags.extend(ItemTag(facet=facet, code=c) for c in wanted if c not in present)

    @property
    def product_groups(self) -> list[str]:
        return self.codes(FACET_PRODUCT_GROUP)

    @property
    def themes(self) -> list[str]:
        return self.codes(FACET_THEME)

    @property
    def countries(self) -> list[str]:
        return self.codes(FACET_COUNTRY)

    @property
    def verification(self) -> list[str]:
        return self.codes(FACET_VERIFICATION)

    @property
    def is_published(self) -> bool:
        return self.status is ItemStatus.published

    def __repr__(self) -> str:
        return f"<LibraryItem {self.id} {self.kind.value} {self.language}>"


class ItemTag(db.Model):
    __tablename__ = "library_item_tags"
    __table_args__ = (Index("ix_library_item_tags_facet_code", "facet", "code"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class ItemAuthor(db.Model):
    """An author by name, linked to a member account when there is one."""

    __tablename__ = "library_item_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(default=0, nullable=False)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    # Indexed: every signed-in request asks which items the member co-authored (the
    # header's notification count, the drafts on their home page), and without it each
    # asking read the whole table.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)

    user: Mapped[User | None] = relationship()


class ItemRelation(db.Model):
    """"See also" links between items (stored once per direction)."""

    __tablename__ = "library_item_relations"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), primary_key=True
    )


#: Notes the site writes on a version, stored as ``code:<key>[:<number>]`` and shown in the
#: reader's language (not the editor's, as when they were stored translated).
VERSION_NOTE_PREFIX = "code:"
VERSION_NOTES = {
    "created": lazy_pgettext("library version", "Created"),
    "submitted": _l("Submitted for review"),
    "published": _l("Published"),
    "returned": _l("Returned to the author"),
    "linked": _l("Linked as a translation"),
    "translation_of": _l("Translation of item %(id)d"),
    "restored": _l("Restored version %(n)d"),
}


def version_note(key: str, number: int | None = None) -> str:
    """The stored form of a site-written note: ``version_note("translation_of", 12)``."""
    assert key in VERSION_NOTES, key
    return f"{VERSION_NOTE_PREFIX}{key}" + (f":{number}" if number is not None else "")


class ItemVersion(db.Model):
    """A snapshot of an item's fields after each change: who, when, what, and a note."""

    __tablename__ = "library_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(nullable=False)
    data_json: Mapped[str] = mapped_column(Text, nullable=False)
    changed_fields: Mapped[str] = mapped_column(Text, default="", nullable=False)
    note: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    item: Mapped[LibraryItem] = relationship(back_populates="versions")
    editor: Mapped[User | None] = relationship()

    @property
    def note_text(self) -> str:
        """The note as the reader reads it: a site-written one in their language, an
        editor's own words as typed."""
        if not self.note.startswith(VERSION_NOTE_PREFIX):
            return self.note
        key, _sep, number = self.note.removeprefix(VERSION_NOTE_PREFIX).partition(":")
        label = VERSION_NOTES.get(key)
        if label is None:
            return self.note
        if key == "translation_of":
            return str(_l("Translation of item %(id)d", id=int(number or 0)))
        if key == "restored":
            return str(_l("Restored version %(n)d", n=int(number or 0)))
        return str(label)


class ExtractionState(LabelledEnum):
    pending = "pending"
    done = "done"
    failed = "failed"  # the file could not be read; ``extraction_error`` says why

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.pending: _l("Reading the text"),
            cls.done: _l("Text read"),
            cls.failed: _l("Text could not be read"),
        }


class Attachment(db.Model):
    """A file attached to an item, stored under a random name outside ``static/``."""

    __tablename__ = "library_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    extraction_state: Mapped[ExtractionState] = mapped_column(
        _enum(ExtractionState, "extraction_state"),
        default=ExtractionState.pending,
        nullable=False,
        index=True,
    )
    extracted_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    extraction_error: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    # Whether any text was read from the file: what the item page says of it, which loads
    # the attachments without their text (long, and repeated on its statement's rows).
    has_text: Mapped[bool] = column_property(extracted_text != "")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    item: Mapped[LibraryItem] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()


class Comment(db.Model):
    __tablename__ = "library_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("library_items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    item: Mapped[LibraryItem] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None
