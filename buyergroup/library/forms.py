"""Forms for writing, reviewing and discussing library items."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from buyergroup.extensions import db
from buyergroup.form_fields import MultiCheckboxField, optional_choices
from buyergroup.library.models import (
    Ambition,
    ItemKind,
    LabelScope,
    Phase,
    TranslationKind,
    Visibility,
)
from buyergroup.library.service import ITEM_LANGUAGES
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.templating import label
from buyergroup.vocabulary import (
    PRODUCT_GROUPS,
    THEMES,
    VERIFICATION,
    country_choices,
    language_name,
)

# Hints shown under the body field, per kind: what a good text of that kind contains.
BODY_HINTS: dict[str, object] = {
    "criterion": _l("The criterion as you would put it in a tender: what is asked, how it is "
                    "scored or checked. Markdown: **bold**, lists with -, links."),
    "clause": _l("The clause text as it appears in the contract. Markdown: **bold**, lists "
                 "with -, links."),
    "case_study": _l("Tell the story: the organisation, what was bought and why it mattered. "
                     "The sections below ask for the approach, results and lessons."),
    "report": _l("What the report or guide covers and its main conclusions."),
    "label": _l("What the label or certificate covers, who awards it and how it is checked."),
    "policy": _l("What the policy says about public procurement, in a few paragraphs."),
}


# What each recorded field is called in the version history.
FIELD_LABELS: dict[str, object] = {
    "title": _l("title"), "kind": _l("kind"), "language": _l("language"),
    "status": _l("status"), "visibility": _l("who can see it"), "group_id": _l("working group"),
    "summary": _l("summary"), "body": _l("text"), "phase": _l("procurement phase"),
    "ambition": _l("ambition level"), "verification": _l("verification"),
    "verification_notes": _l("verification notes"), "rationale": _l("rationale"),
    "approach": _l("approach"), "results": _l("results"), "lessons": _l("lessons learned"),
    "challenges": _l("challenges"), "next_steps": _l("next steps"),
    "label_scope": _l("what the label covers"), "reference": _l("official reference"),
    "product_groups": _l("product groups"), "themes": _l("themes"),
    "countries": _l("countries"), "organisation_id": _l("organisation"), "year": _l("year"),
    "legal_system": _l("legal framework"), "authors": _l("authors"),
    "source_url": _l("source"), "licence": _l("licence"),
    "translation_kind": _l("kind of translation"), "attachments": _l("files"),
}


def kind_choices() -> list[tuple[str, str]]:
    return [(k.value, label(k)) for k in ItemKind]


def item_language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in ITEM_LANGUAGES]


class ItemForm(FlaskForm):
    """The guided form: common sections first, then one fieldset per kind."""

    # 1. What it is
    kind = SelectField(
        _l("What are you sharing?"),
        validators=[DataRequired()],
        description=_l("The fields further down change with this choice."),
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("Short and specific, e.g. “City of Ghent: fair smartphones in 2020”."),
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Two or three sentences shown in search results."),
        render_kw={"rows": 3},
    )
    language = SelectField(_l("Language of the text"), validators=[DataRequired()])
    body = TextAreaField(
        _l("Text"), validators=[Optional(), Length(max=100_000)], render_kw={"rows": 14}
    )

    # 2a. Criterion and clause
    phase = SelectField(_l("Procurement phase"), validators=[Optional()])
    ambition = SelectField(
        _l("Ambition level"),
        validators=[Optional()],
        description=_l("Core: easy to apply and verify. Comprehensive: for buyers who want to "
                       "go further."),
    )
    verification = MultiCheckboxField(_l("How compliance is verified"))
    verification_notes = TextAreaField(
        _l("Verification notes"),
        validators=[Optional(), Length(max=10_000)],
        description=_l("What the bidder must provide, and how the buyer checks it."),
        render_kw={"rows": 4},
    )
    rationale = TextAreaField(
        _l("Rationale"),
        validators=[Optional(), Length(max=10_000)],
        description=_l("Why this criterion or clause matters and what it achieves."),
        render_kw={"rows": 4},
    )

    # 2b. Case study
    approach = TextAreaField(
        _l("Approach"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What did you do? Market consultation, criteria used, partners involved."),
        render_kw={"rows": 5},
    )
    results = TextAreaField(
        _l("Results"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What came out of it: the contract, numbers, changes at suppliers."),
        render_kw={"rows": 5},
    )
    lessons = TextAreaField(
        _l("Lessons learned"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What would you tell a colleague who wants to do the same?"),
        render_kw={"rows": 5},
    )
    challenges = TextAreaField(
        _l("Challenges"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What was difficult, and how did you deal with it?"),
        render_kw={"rows": 4},
    )
    next_steps = TextAreaField(
        _l("Next steps"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What you plan to do next."),
        render_kw={"rows": 3},
    )

    # 2c. Label and 2d. policy reference
    label_scope = SelectField(_l("What the label covers"), validators=[Optional()])
    reference = StringField(
        _l("Official reference"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example the title and date of the law or plan, or its number."),
    )

    # 3. Classification
    product_groups = MultiCheckboxField(_l("Product groups"))
    themes = MultiCheckboxField(_l("Themes"))
    countries = MultiCheckboxField(_l("Countries"))
    organisation_id = SelectField(_l("Organisation"), validators=[Optional()])
    year = IntegerField(
        _l("Year"),
        validators=[Optional(), NumberRange(min=1990, max=date.today().year + 1)],
        description=_l("The year of the tender, pilot or publication."),
        render_kw={"inputmode": "numeric"},
    )
    legal_system = StringField(
        _l("Legal framework"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example: EU directive 2014/24/EU, Belgian law of 17 June 2016."),
    )

    # 4. Source
    authors = TextAreaField(
        _l("Authors"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One name per line."),
        render_kw={"rows": 3},
    )
    source_url = URLField(
        _l("Source"),
        validators=[Optional(), URL(message=_l("Enter a full web address.")), Length(max=500)],
        description=_l("A link to the original document, if it is online."),
    )
    licence = StringField(
        _l("Licence"),
        validators=[Optional(), Length(max=80)],
        description=_l("For example CC-BY-4.0, so others know how they may reuse it."),
    )

    # 5. Who may see it
    visibility = SelectField(_l("Who can see it once published"), validators=[DataRequired()])
    group_id = SelectField(
        _l("Working group"),
        validators=[Optional()],
        description=_l("Required when only a working group may see it; otherwise the item is "
                       "listed on the group's page."),
    )

    # 6. Files
    files = MultipleFileField(
        _l("Attach files"),
        description=_l("PDF, Word (.docx), OpenDocument (.odt), text or Markdown files."),
    )
    remove_attachments = MultiCheckboxField(_l("Remove attached files"))

    # 7. About this change (editing)
    note = StringField(
        _l("What did you change?"),
        validators=[Optional(), Length(max=300)],
        description=_l("Shown in the version history."),
    )
    translation_kind = SelectField(_l("Kind of translation"), validators=[Optional()])

    def __init__(self, *args, organisations=(), groups=(), attachments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()
        self.language.choices = optional_choices(
            item_language_choices(), _l("Choose a language")
        )
        self.phase.choices = optional_choices(
            [(p.value, label(p)) for p in Phase], _l("Choose a phase")
        )
        self.ambition.choices = optional_choices(
            [(a.value, label(a)) for a in Ambition], _l("Not specified")
        )
        self.verification.choices = [(code, str(text)) for code, text in VERIFICATION.items()]
        self.label_scope.choices = optional_choices(
            [(s.value, label(s)) for s in LabelScope], _l("Not specified")
        )
        self.product_groups.choices = [(c, str(t)) for c, t in PRODUCT_GROUPS.items()]
        self.themes.choices = [(c, str(t)) for c, t in THEMES.items()]
        self.countries.choices = country_choices()
        self.organisation_id.choices = optional_choices(
            [(str(o.id), o.name) for o in organisations], _l("No organisation")
        )
        self.visibility.choices = [
            (Visibility.public.value, _l("Everyone, including visitors")),
            (Visibility.members.value, _l("Members of Buyergroup only")),
            (Visibility.group.value, _l("Members of one working group only")),
        ]
        self.group_id.choices = optional_choices(
            [(str(g.id), g.name) for g in groups], _l("No working group")
        )
        self.remove_attachments.choices = [(str(a.id), a.original_name) for a in attachments]
        self.translation_kind.choices = [
            (TranslationKind.member.value, label(TranslationKind.member)),
            (TranslationKind.official.value, label(TranslationKind.official)),
        ]

    def service_fields(self, user) -> dict:
        """The form's values as ``library.service`` takes them.

        An author line that is the user's own name is linked to their account (so the
        item appears under their contributions and they may edit it).
        """
        organisation = (
            db.session.get(Organisation, int(self.organisation_id.data))
            if (self.organisation_id.data or "").isdigit() else None
        )
        group = (
            db.session.get(WorkingGroup, int(self.group_id.data))
            if (self.group_id.data or "").isdigit() else None
        )
        authors: list = []
        for line in (self.authors.data or "").splitlines():
            name = line.strip()
            if name:
                authors.append(user if name.lower() == user.name.lower() else name)
        fields = {name: self[name].data for name in SERVICE_FIELDS}
        return fields | {"organisation": organisation, "group": group, "authors": authors}


# Form fields passed to the service under the same name.
SERVICE_FIELDS = (
    "kind", "title", "summary", "body", "language", "visibility", "year", "legal_system",
    "phase", "ambition", "verification_notes", "rationale", "approach", "results", "lessons",
    "challenges", "next_steps", "label_scope", "reference", "product_groups", "themes",
    "countries", "verification", "source_url", "licence",
)  # fmt: skip


class ReturnForm(FlaskForm):
    reason = TextAreaField(
        _l("What should the author change?"),
        validators=[DataRequired(message=_l("Please tell the author what to change.")),
                    Length(max=2000)],
        description=_l("Sent to the author by email and shown on the item."),
        render_kw={"rows": 4},
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(message=_l("Please write a comment.")), Length(max=5000)],
        description=_l("Visible to everyone who can see this item. Markdown is allowed."),
        render_kw={"rows": 4},
    )


class HideCommentForm(FlaskForm):
    reason = StringField(
        _l("Reason for hiding"),
        validators=[DataRequired(message=_l("Please give a reason.")), Length(max=300)],
    )


class TranslationKindForm(FlaskForm):
    translation_kind = SelectField(_l("Kind of translation"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.translation_kind.choices = [
            (TranslationKind.member.value, label(TranslationKind.member)),
            (TranslationKind.official.value, label(TranslationKind.official)),
        ]


class LinkTranslationForm(FlaskForm):
    original = StringField(
        _l("Translation of"),
        validators=[DataRequired(message=_l("Give the address or number of the item.")),
                    Length(max=300)],
        description=_l("The address (or number) of the item this one translates."),
    )
    translation_kind = SelectField(_l("Kind of translation"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.translation_kind.choices = [
            (TranslationKind.official.value, label(TranslationKind.official)),
            (TranslationKind.member.value, label(TranslationKind.member)),
        ]

    def original_id(self) -> int | None:
        """"12", "/library/12" or "https://.../library/12#history" -> 12."""
        match = re.search(r"(?:/library/)?(\d+)(?:[/?#].*)?$", (self.original.data or "").strip())
        return int(match.group(1)) if match else None


class ActionForm(FlaskForm):
    """Only the CSRF token, for the submit and publish buttons."""
