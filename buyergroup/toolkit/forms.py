"""Forms of the tender toolkit: what the member typed is well-formed (lengths, dates)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from buyergroup.form_fields import optional_choices
from buyergroup.toolkit.models import (
    NAME_MAX,
    NOTE_MAX,
    OUTPUT_LANGUAGES,
    BasketShare,
    UseOutcome,
)
from buyergroup.vocabulary import PRODUCT_GROUPS, language_name

EXPORT_FORMATS = ("docx", "odt", "md", "txt")


class ListedForm(FlaskForm):
    """A small form repeated on a page (one per item) and written out by hand in the
    template: the site-wide CSRFProtect checks the token of every post, whatever the
    form's prefix, so the form itself does not look for a prefixed token field."""

    class Meta:
        csrf = False


def output_language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in OUTPUT_LANGUAGES]


class BasketForm(FlaskForm):
    name = StringField(
        _l("Name of the basket"),
        validators=[DataRequired(message=_l("Please give the basket a name.")),
                    Length(max=NAME_MAX)],
        description=_l("For example “Laptops 2027 – framework agreement”."),
    )
    language = SelectField(_l("Language of the tender text"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = output_language_choices()


class BasketSettingsForm(BasketForm):
    share = SelectField(_l("Who can see this basket"), validators=[DataRequired()])
    group_id = SelectField(_l("Working group"), validators=[Optional()])
    editable = BooleanField(_l("They may also change its items and notes"))

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.share.choices = BasketShare.choices()
        self.group_id.choices = optional_choices(
            [(str(g.id), g.name) for g in groups], _l("Choose a working group")
        )


class AddItemForm(ListedForm):
    """Add an item to a basket chosen from a list, or to a new one named here."""

    item_id = HiddenField(validators=[DataRequired()])
    basket_id = SelectField(_l("Basket"), validators=[Optional()])
    new_basket = StringField(_l("Or a new basket named"), validators=[Optional(),
                                                                       Length(max=NAME_MAX)])
    next = HiddenField()

    def __init__(self, *args, baskets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.basket_id.choices = self.basket_choices(baskets)

    @staticmethod
    def basket_choices(baskets) -> list[tuple[str, object]]:
        return [(str(b.id), b.name) for b in baskets] + [("", _l("A new basket"))]


class NoteForm(ListedForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)],
                         render_kw={"rows": 2})


class VariantForm(ListedForm):
    variant_id = SelectField(_l("Legal variant"), validators=[Optional()])


class MoveForm(ListedForm):
    direction = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """Only the CSRF token, for buttons."""


class UseForm(FlaskForm):
    contracting_authority = StringField(
        _l("Contracting authority"),
        validators=[DataRequired(message=_l("Please fill in this field.")), Length(max=200)],
    )
    tender_title = StringField(
        _l("Title of the tender"),
        validators=[DataRequired(message=_l("Please fill in this field.")), Length(max=300)],
    )
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=120)],
                            description=_l("For example the TED notice number."))
    used_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter a date."))],
                        description=_l("When the tender was published."))
    lots = StringField(_l("Lots"), validators=[Optional(), Length(max=200)])
    product_group = SelectField(_l("Product group"), validators=[Optional()])
    bids_received = IntegerField(
        _l("Number of bids received"),
        validators=[Optional(), NumberRange(min=0, message=_l(
            "The number of bids cannot be negative."))],
        render_kw={"inputmode": "numeric"},
    )
    outcome = SelectField(_l("Outcome"), validators=[Optional()])
    lessons = TextAreaField(_l("Lessons learned"), validators=[Optional(), Length(max=10_000)],
                            render_kw={"rows": 4},
                            description=_l("What would you tell a colleague who uses it next?"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.product_group.choices = optional_choices(
            [(code, str(text)) for code, text in PRODUCT_GROUPS.items()], _l("Not specified")
        )
        self.outcome.choices = optional_choices(UseOutcome.choices(), _l("Not specified"))

    def data_fields(self) -> dict:
        return {
            "contracting_authority": self.contracting_authority.data or "",
            "tender_title": self.tender_title.data or "",
            "reference": self.reference.data or "",
            "used_on": self.used_on.data,
            "lots": self.lots.data or "",
            "product_group": self.product_group.data or "",
            "bids_received": self.bids_received.data,
            "outcome": self.outcome.data or None,
            "lessons": self.lessons.data or "",
        }


class HideUseForm(ListedForm):
    reason = StringField(
        _l("Reason for hiding"),
        validators=[DataRequired(message=_l("Please give a reason.")), Length(max=300)],
    )
