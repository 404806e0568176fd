"""The network's own domain errors: the invariants its working groups keep."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from buyergroup.errors import InvariantError


class LastOrganiser(InvariantError):
    """A group keeps at least one active organiser: its last one cannot leave, be demoted or
    be removed, whoever asks (an administrator included). Make another member organiser
    first."""

    default_message = _l("A group needs at least one organiser.")
