"""Valid HTML from the form library: CSRF fields without an id.

Flask-WTF renders every form's CSRF field as ``<input id="csrf_token" ...>``, so a page with
two forms has the id twice (invalid HTML, and a label or script finding the wrong one). The
field is submitted by its name; nothing refers to its id, so it is rendered without one.
"""

from __future__ import annotations

from flask_wtf.csrf import _FlaskFormCSRF
from wtforms.csrf.core import CSRFTokenField


class IdlessCSRFTokenField(CSRFTokenField):
    def __call__(self, **kwargs):
        kwargs.setdefault("id", False)
        return super().__call__(**kwargs)


def install() -> None:
    _FlaskFormCSRF.field_class = IdlessCSRFTokenField
