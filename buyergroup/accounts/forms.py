"""Forms for signing in, resets, invitations, profiles and tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from buyergroup.accounts.models import TokenScope
from buyergroup.accounts.service import MIN_PASSWORD_LENGTH
from buyergroup.form_fields import GroupedMenuSelect, MultiCheckboxField, optional_choices
from buyergroup.i18n import LANGUAGES, timezone_choices
from buyergroup.vocabulary import country_choices, expertise_choices, language_choices

PASSWORD_HINT = _l("At least %(count)d characters. A short sentence is easy to remember.",
                   count=MIN_PASSWORD_LENGTH)


def _new_password_fields():
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(), Email()],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(), Email()],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = _new_password_fields()


class ProfileFieldsMixin:
    """Fields shared by the profile page and the invitation form (set in ``__init__``)."""

    def set_profile_choices(self) -> None:
        self.country.choices = optional_choices(country_choices(), _l("Choose a country"))
        self.languages.choices = language_choices()
        self.expertise.choices = expertise_choices()
        self.locale.choices = [("", str(_l("Same as my browser")))] + list(LANGUAGES.items())
        self.timezone.choices = timezone_choices(self.timezone.data)


class ProfileForm(ProfileFieldsMixin, FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=120)], render_kw={"autocomplete": "name"}
    )
    organisation_id = SelectField(_l("Organisation"), coerce=str, validators=[Optional()])
    job_title = StringField(
        _l("Job title"),
        validators=[Optional(), Length(max=160)],
        render_kw={"autocomplete": "organization-title"},
    )
    country = SelectField(_l("Country"), validators=[Optional()])
    languages = MultiCheckboxField(_l("Languages you speak"))
    expertise = MultiCheckboxField(
        _l("Expertise"),
        description=_l("Product groups and themes you know well; others can find you by them."),
    )
    bio = TextAreaField(
        _l("Short bio"),
        validators=[Optional(), Length(max=2000)],
        description=_l("A few sentences about your work. Visible to members only."),
        render_kw={"rows": 5},
    )
    locale = SelectField(_l("Interface language"), validators=[Optional()])
    timezone = SelectField(
        _l("Time zone"),
        validators=[DataRequired()],
        description=_l("Dates and times are shown in this zone."),
        widget=GroupedMenuSelect(),
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_profile_choices()
        self.organisation_id.choices = optional_choices(
            [(str(o.id), o.name) for o in organisations], _l("No organisation")
        )


class AcceptInvitationForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=160)])
    locale = SelectField(_l("Interface language"), validators=[Optional()])
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()], widget=GroupedMenuSelect())
    password, confirm = _new_password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = list(LANGUAGES.items())
        self.timezone.choices = timezone_choices(self.timezone.data)


class InviteForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    organisation_id = SelectField(_l("Organisation"), validators=[DataRequired()])
    group_id = SelectField(
        _l("Also add to working group"), validators=[Optional()], coerce=str
    )
    role = SelectField(_l("Role"), validators=[DataRequired()])
    locale = SelectField(_l("Language of the invitation"), validators=[DataRequired()])
    message = TextAreaField(
        _l("Personal message"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 4}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, not as choices=[tuples] on the field: WTForms 3.3 deprecates tuple choices
        # passed to the constructor (removed in 3.4, which pyproject allows), and the warning,
        # an error under the test settings, made every invitation page a 500.
        self.locale.choices = list(LANGUAGES.items())


#: Lifetimes offered on the token page; "" is "never expires".
TOKEN_LIFETIMES = (
    ("30", _l("30 days")),
    ("90", _l("90 days")),
    ("365", _l("One year")),
    ("", _l("Never (until revoked)")),
)


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("For example the script or tool that will use it."),
    )
    scope = SelectField(
        _l("What it may do"),
        validators=[DataRequired()],
        default="write",
        description=_l("A read-only token cannot change anything, even if it leaks."),
    )
    expires_in_days = SelectField(_l("Expires after"), validators=[Optional()], default="90")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = TokenScope.choices()
        self.expires_in_days.choices = [(value, str(text)) for value, text in TOKEN_LIFETIMES]

    @property
    def chosen_scope(self) -> TokenScope:
        return TokenScope(self.scope.data)

    @property
    def chosen_days(self) -> int | None:
        return int(self.expires_in_days.data) if self.expires_in_days.data else None


class EndSessionsForm(FlaskForm):
    """No fields: the CSRF token of the buttons that sign sessions out."""


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
