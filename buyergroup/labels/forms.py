"""Forms of the labels register."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional

from buyergroup.form_fields import MultiCheckboxField, optional_choices
from buyergroup.labels.models import GenerationStatus
from buyergroup.library.models import LabelScope
from buyergroup.vocabulary import PRODUCT_GROUPS


class CitationsForm(FlaskForm):
    generations = MultiCheckboxField(_l("Label generations this item cites"),
                                     description=_l("Choose the edition of each label's "
                                                    "criteria that the text refers to."))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = GenerationStatus.choices()


class GenerationForm(FlaskForm):
    name = StringField(_l("Generation or edition"), validators=[DataRequired(), Length(max=120)],
                       description=_l("For example “generation 10”."))
    published_on = DateField(_l("Published on"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    url = URLField(lazy_pgettext("web address", "Link"),
                   validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = GenerationStatus.choices()


class DeleteForm(FlaskForm):
    """A delete button's form: nothing but its CSRF token."""


class LabelForm(FlaskForm):
    name = StringField(_l("Name of the label"), validators=[DataRequired(), Length(max=120)])
    issuer = StringField(_l("Issuer"), validators=[Optional(), Length(max=200)])
    scope = SelectField(_l("What the label covers"), validators=[Optional()])
    product_groups = MultiCheckboxField(_l("Product groups"))
    url = URLField(lazy_pgettext("web address", "Link"),
                   validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = optional_choices(LabelScope.choices(), _l("Not specified"))
        self.product_groups.choices = [(code, str(text)) for code, text in PRODUCT_GROUPS.items()]
