"""Forms for the glossary."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


def _terms_field(label, language: str):
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=4000)],
        description=_l("One term per line, as people write it (accents included)."),
        render_kw={"rows": 3, "lang": language},
    )


class ConceptForm(FlaskForm):
    key = StringField(
        _l("Key"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("A short English name in lower case with hyphens, e.g. child-labour."),
    )
    terms_en = _terms_field(_l("English terms"), "en")
    terms_nl = _terms_field(_l("Dutch terms"), "nl")
    terms_fr = _terms_field(_l("French terms"), "fr")
    terms_de = _terms_field(_l("German terms"), "de")
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Optional: what the concept covers, for other organisers."),
        render_kw={"rows": 2},
    )

    def terms(self) -> dict[str, str]:
        return {code: self[f"terms_{code}"].data or "" for code in ("en", "nl", "fr", "de")}


class DeleteForm(FlaskForm):
    """Only the CSRF token."""
