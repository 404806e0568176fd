"""Form fields and form helpers shared by several domains."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from markupsafe import Markup, escape
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

if TYPE_CHECKING:
    from buyergroup.errors import DomainError


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; rendered as a fieldset by the ``field`` macro."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # An empty selection is valid; unknown values are not.
        values = {str(value) for value, *_ in self.iter_choices()}
        for item in self.data or []:
            if str(item) not in values:
                # ValidationError (not ValueError): WTForms 3.3 turns only this into a message.
                raise ValidationError(
                    self.gettext("'%(value)s' is not a valid choice for this field.")
                    % {"value": item}
                )


class GroupedMenuSelect(Select):
    """WTForms' ``Select`` for a long grouped menu whose groups are shared tuples (the
    time-zone menu's ~430 zones, ``i18n.timezone_choices``): each group's options are
    rendered once per language and kept, and only the selected one is marked per page.
    Rendering them through WTForms took 12 of the 20 ms of the profile page.

    The markup is WTForms' own: ``<option value="…">`` and ``<option selected value="…">``.
    """

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = True
        parts = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for group, entries in field.choices.items():
            # Tuples are the shared, cached groups; a list (the "Other" group, which holds
            # the member's own old zone name) is rendered for this page only.
            render = _kept_optgroup if isinstance(entries, tuple) else _optgroup
            parts.append(render(str(group), entries))
        parts.append("</select>")
        menu = "".join(parts)
        if field.data:
            value = escape(field.data)
            menu = menu.replace(f'<option value="{value}">',
                                f'<option selected value="{value}">', 1)
        return Markup(menu)


def _optgroup(label: str, entries) -> str:
    options = "".join(f'<option value="{escape(value)}">{escape(text)}</option>'
                      for value, text in entries)
    return f"<optgroup {html_params(label=label)}>{options}</optgroup>"


#: Keyed by the group's label and entries: one per region and language.
_kept_optgroup = lru_cache(maxsize=64)(_optgroup)


def optional_choices(choices, empty_label) -> list[tuple[str, str]]:
    return [("", str(empty_label)), *choices]

def attach_field_error(form, error: DomainError) -> bool:
    """Show a service's validation error next to its field; True if it had one."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error.message)]
        return True
    return False
