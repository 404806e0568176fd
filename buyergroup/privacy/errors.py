"""The invariants an erasure keeps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from buyergroup.errors import InvariantError, ValidationFailed


class LastAdministrator(InvariantError):
    """The site keeps at least one active administrator: the last one hands over first."""

    default_message = _l(
        "This is the site's only administrator account. Make another member administrator "
        "before erasing it."
    )


class LastGroupOrganiser(InvariantError):
    """A group keeps at least one organiser: its last one hands over before erasure."""

    default_message = _l("A group needs at least one organiser.")


class ConfirmationMismatch(ValidationFailed):
    """The email typed to confirm an erasure is not the account's."""

    default_message = _l("This is not the email address of the account.")
