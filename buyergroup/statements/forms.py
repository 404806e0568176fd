"""Forms for drafting statements, keeping roadmaps and recording who signs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from buyergroup.form_fields import optional_choices
from buyergroup.statements.models import ActionStatus
from buyergroup.statements.service import MAX_BODY, MAX_TITLE


class StatementForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_BODY)],
                         description=_l("Markdown: ## headings, lists with -, **bold**."))
    note = StringField(_l("What changed in this version"), validators=[Optional(),
                                                                       Length(max=300)])


class ActionForm(FlaskForm):
    title = StringField(_l("Action"), validators=[DataRequired(), Length(max=200)])
    organisation_id = SelectField(_l("Owning organisation"), validators=[Optional()])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"))

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = ActionStatus.choices()
        self.organisation_id.choices = optional_choices(
            [(str(o.id), o.name) for o in organisations], _l("No owner yet")
        )


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = ActionStatus.choices()


class AuthorityForm(FlaskForm):
    user_id = SelectField(_l("Member"), validators=[DataRequired()])

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = optional_choices(
            [(str(u.id), f"{u.name} ({u.organisation.name})") for u in members],
            _l("Choose a member"),
        )


class ButtonForm(FlaskForm):
    """A button that only needs the CSRF token."""
