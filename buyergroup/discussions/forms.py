"""Forms for asking, replying and moderating in a working group's discussions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from buyergroup.discussions.service import MAX_BODY, MAX_REASON, MAX_TITLE
from buyergroup.form_fields import MultiCheckboxField, optional_choices
from buyergroup.library.service import ITEM_LANGUAGES
from buyergroup.vocabulary import PRODUCT_GROUPS, THEMES, language_name

BODY_HINT = _l("Markdown: **bold**, lists with -, links. Mention a member of the group with @ "
               "and their name, e.g. @mia-member.")


class ThreadForm(FlaskForm):
    title = StringField(_l("Question"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(_l("Details"), validators=[DataRequired(), Length(max=MAX_BODY)])
    language = SelectField(_l("Language"), validators=[DataRequired()])
    product_groups = MultiCheckboxField(_l("Product groups"), validators=[Optional()])
    themes = MultiCheckboxField(_l("Themes"), validators=[Optional()])
    library_items = SelectMultipleField(_l("Library items this is about"), coerce=str,
                                        validators=[Optional()])
    knowledge_gap = BooleanField(_l("This is a gap in our knowledge"))

    def __init__(self, *args, item_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [(code, language_name(code)) for code in ITEM_LANGUAGES]
        self.product_groups.choices = [(c, str(v)) for c, v in PRODUCT_GROUPS.items()]
        self.themes.choices = [(c, str(v)) for c, v in THEMES.items()]
        self.library_items.choices = list(item_choices)


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=MAX_BODY)])


class EditPostForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=MAX_BODY)])


class EditQuestionForm(FlaskForm):
    title = StringField(_l("Question"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(_l("Details"), validators=[DataRequired(), Length(max=MAX_BODY)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=MAX_REASON)])


class ReportForm(FlaskForm):
    reason = StringField(_l("What is wrong with this post?"),
                         validators=[DataRequired(), Length(max=500)])


class GapForm(FlaskForm):
    is_gap = BooleanField(_l("A gap in our knowledge"))
    addressed_by = SelectField(_l("Addressed by library item"), validators=[Optional()])

    def __init__(self, *args, item_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.addressed_by.choices = optional_choices(list(item_choices), _l("Not yet addressed"))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
