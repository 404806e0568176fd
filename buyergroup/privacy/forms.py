"""Forms for the member's privacy choices and for erasing an account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class PrivacyChoicesForm(FlaskForm):
    email_visible = BooleanField(
        _l("Members may see my email address"),
        description=_l("Off: your address is shown to nobody but you and the administrators. "
                       "Organisers of events you register for see it on their participant "
                       "list."),
    )
    listed_in_directory = BooleanField(
        _l("Show me in the member directory and on member lists"),
        description=_l("Off: other members do not find you in the directory, nor in the "
                       "member lists of working groups and organisations, and your profile "
                       "page is not shown to them."),
    )
    listed_on_participant_lists = BooleanField(
        _l("Show my name on participant lists when I register for an event"),
        description=_l("The default of the box you see when registering. Turning it off also "
                       "removes your name from the participant lists of every event you "
                       "registered for."),
    )


class EraseForm(FlaskForm):
    confirm = StringField(
        _l("Type the email address of the account to confirm"),
        validators=[DataRequired(message=_l("Type the email address to confirm.")),
                    Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "email"},
    )


class DownloadForm(FlaskForm):
    """Only the CSRF token: the download is a POST, since it is recorded."""
