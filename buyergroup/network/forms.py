"""Forms for organisations, working groups and requests to join."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Email, Length, Optional

from buyergroup.form_fields import MultiCheckboxField, optional_choices
from buyergroup.network.models import JoinPolicy, OrganisationKind
from buyergroup.vocabulary import country_choices, language_choices


class JoinRequestForm(FlaskForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Work email address"), validators=[DataRequired(), Email()],
        render_kw={"autocomplete": "email"},
    )
    organisation_name = StringField(
        _l("Organisation"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("The public body or organisation you work for."),
        render_kw={"autocomplete": "organization"},
    )
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=160)])
    country = SelectField(_l("Country"), validators=[Optional()])
    message = TextAreaField(
        _l("Why would you like to join?"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 5},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = optional_choices(country_choices(), _l("Choose a country"))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=40)])
    kind = SelectField(_l("Kind of organisation"), validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[Optional()])
    website = URLField(
        _l("Website"), validators=[Optional(), URL(message=_l("Enter a full web address."))]
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 6}
    )
    is_public = BooleanField(_l("Show on the public organisations page"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = OrganisationKind.choices()
        self.country.choices = optional_choices(country_choices(), _l("Choose a country"))


class AffiliationForm(FlaskForm):
    name = StringField(
        _l("Network or programme"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example: Electronics Watch."),
    )
    since = DateField(_l("Since"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    summary = StringField(
        _l("Summary"),
        validators=[Optional(), Length(max=300)],
        description=_l("One sentence shown in lists."),
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 8}
    )
    languages = MultiCheckboxField(_l("Working languages"), validators=[DataRequired()])
    join_policy = SelectField(_l("Who can join"), validators=[DataRequired()])
    is_public = BooleanField(_l("Visible to visitors"), default=True)
    founded_on = DateField(_l("Started on"), validators=[Optional()])
    host_organisation_id = SelectField(_l("Host organisation"), validators=[Optional()])

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = language_choices()
        self.join_policy.choices = JoinPolicy.choices()
        self.host_organisation_id.choices = optional_choices(
            [(str(o.id), o.name) for o in organisations], _l("No host organisation")
        )


class GroupJoinForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the organisers"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class DecisionForm(FlaskForm):
    """An empty form: only the CSRF token, for approve/decline/remove buttons."""


class DeclineForm(FlaskForm):
    note = TextAreaField(
        _l("Reason (sent to the applicant)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )
