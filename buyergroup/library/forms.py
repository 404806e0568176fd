"""Forms for writing, reviewing and discussing library items."""

from __future__ import annotations

import re

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
from buyergroup.library import fields as library_fields
from buyergroup.library.models import ItemKind, LibraryItem, TranslationKind, Visibility
from buyergroup.library.service import ITEM_LANGUAGES
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.vocabulary import language_name

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


# What each recorded field without a ``Field`` is called in the version history (the
# described fields bring their own ``history_name``).
OTHER_FIELD_LABELS: dict[str, object] = {
    "kind": _l("kind"), "language": _l("language"), "status": _l("status"),
    "visibility": _l("who can see it"), "group_id": _l("working group"),
    "organisation_id": _l("organisation"), "authors": _l("authors"),
    "translation_kind": _l("kind of translation"), "attachments": _l("files"),
}  # fmt: skip


def history_name(name: str) -> str:
    """What the version history calls a recorded field."""
    described = library_fields.by_name().get(name)
    if described is not None:
        return str(described.history_name)
    return str(OTHER_FIELD_LABELS.get(name, name))


def kind_choices() -> list[tuple[str, str]]:
    return ItemKind.choices()


def item_language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in ITEM_LANGUAGES]


def _form_field(f: library_fields.Field):
    """The WTForms field of a described field."""
    required = DataRequired() if f.required else Optional()
    length = [Length(max=f.max_length)] if f.max_length else []
    render_kw = dict(f.form_kw)
    if f.rows:
        render_kw["rows"] = f.rows
    common = {"description": f.description or "", "render_kw": render_kw or None}
    if f.type == library_fields.CHOICE:
        return SelectField(f.label, validators=[Optional()], **common)
    if f.type == library_fields.CODES:
        return MultiCheckboxField(f.label, **common)
    if f.type == library_fields.YEAR:
        return IntegerField(
            f.label,
            validators=[Optional(),
                        NumberRange(min=library_fields.FIRST_YEAR, max=library_fields.last_year())],
            **common,
        )
    if f.type == library_fields.URL:
        return URLField(
            f.label,
            validators=[Optional(), URL(message=_l("Enter a full web address.")), *length],
            **common,
        )
    if f.type == library_fields.LINE:
        return StringField(f.label, validators=[required, *length], **common)
    return TextAreaField(f.label, validators=[required, *length], **common)


class BaseItemForm(FlaskForm):
    """The guided form's fields with their own rules; ``item_form`` adds the described ones
    (``library.fields``) and the template lays them out by ``fields.SECTIONS``."""

    kind = SelectField(
        _l("What are you sharing?"),
        validators=[DataRequired()],
        description=_l("The fields further down change with this choice."),
    )
    language = SelectField(_l("Language of the text"), validators=[DataRequired()])
    organisation_id = SelectField(_l("Organisation"), validators=[Optional()])
    authors = TextAreaField(
        _l("Authors"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One name per line."),
        render_kw={"rows": 3},
    )

    # Who may see it
    visibility = SelectField(_l("Who can see it once published"), validators=[DataRequired()])
    group_id = SelectField(
        _l("Working group"),
        validators=[Optional()],
        description=_l("Required when only a working group may see it; otherwise the item is "
                       "listed on the group's page."),
    )

    # Files
    files = MultipleFileField(
        _l("Attach files"),
        description=_l("PDF, Word (.docx), OpenDocument (.odt), text or Markdown files."),
    )
    remove_attachments = MultiCheckboxField(_l("Remove attached files"))

    # About this change (editing)
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
        for f in library_fields.FIELDS:
            if f.type == library_fields.CHOICE:
                self[f.name].choices = optional_choices(f.choices(), f.empty_choice)
            elif f.type == library_fields.CODES:
                self[f.name].choices = f.choices()
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
            (TranslationKind.member.value, TranslationKind.member.label),
            (TranslationKind.official.value, TranslationKind.official.label),
        ]

    def prefill(self, item: LibraryItem) -> None:
        """Fill the form from an item (WTForms' obj= gives enums, which match no choice)."""
        for f in library_fields.FIELDS:
            value = f.plain(item)
            self[f.name].data = "" if value is None and f.type == library_fields.CHOICE else value
        self.kind.data = item.kind.value
        self.language.data = item.language
        self.organisation_id.data = str(item.organisation_id or "")
        self.visibility.data = item.visibility.value
        self.group_id.data = str(item.group_id or "")
        self.authors.data = "\n".join(a.name for a in item.authors)

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
        fields = {name: self[name].data for name in service_field_names()}
        return fields | {"organisation": organisation, "group": group, "authors": authors}


def service_field_names() -> tuple[str, ...]:
    """Form fields passed to the service under the same name."""
    return ("kind", "language", "visibility", *library_fields.names())


_form_classes: dict[tuple[int, ...], type[BaseItemForm]] = {}


def item_form_class() -> type[BaseItemForm]:
    """The guided form with a WTForms field per described field (built once per set)."""
    key = tuple(id(f) for f in library_fields.FIELDS)
    if key not in _form_classes:
        _form_classes[key] = type(
            "ItemForm", (BaseItemForm,), {f.name: _form_field(f) for f in library_fields.FIELDS}
        )
    return _form_classes[key]


def item_form(*args, **kwargs) -> BaseItemForm:
    return item_form_class()(*args, **kwargs)


ItemForm = BaseItemForm  # for type hints: every item form is one


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
            (TranslationKind.member.value, TranslationKind.member.label),
            (TranslationKind.official.value, TranslationKind.official.label),
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
            (TranslationKind.official.value, TranslationKind.official.label),
            (TranslationKind.member.value, TranslationKind.member.label),
        ]

    def original_id(self) -> int | None:
        """"12", "/library/12" or "https://.../library/12#history" -> 12."""
        match = re.search(r"(?:/library/)?(\d+)(?:[/?#].*)?$", (self.original.data or "").strip())
        return int(match.group(1)) if match else None


class ActionForm(FlaskForm):
    """Only the CSRF token, for the submit and publish buttons."""
