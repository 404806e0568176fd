"""Form fields and form helpers shared by several domains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

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


def optional_choices(choices, empty_label) -> list[tuple[str, str]]:
    return [("", str(empty_label)), *choices]

def attach_field_error(form, error: DomainError) -> bool:
    """Show a service's validation error next to its field; True if it had one."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error.message)]
        return True
    return False
