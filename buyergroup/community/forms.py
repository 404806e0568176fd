"""Forms of the community pages: follow buttons, marking read, email preferences."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import DataRequired, Length

from buyergroup.community.models import Frequency, Kind


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""


class FollowForm(FlaskForm):
    target = HiddenField(validators=[DataRequired(), Length(max=30)])
    key = HiddenField(validators=[DataRequired(), Length(max=64)])
    next = HiddenField(validators=[Length(max=500)])


def preferences_form(kinds: list[Kind], current: dict[Kind, Frequency]):
    """One radio group per kind the member may receive, set to their current choice."""

    class PreferencesForm(FlaskForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # Choices set here, not as tuples on the field (WTForms 3.3 deprecates those).
            for kind in kinds:
                self[kind.value].choices = Frequency.choices()

    for kind in kinds:
        setattr(
            PreferencesForm,
            kind.value,
            RadioField(kind.label, default=current[kind].value, validators=[DataRequired()]),
        )
    return PreferencesForm()
