"""Who is signed in, and with which site role: the one place that answers it.

Services receive ``current_user`` (a ``User``, Flask-Login's anonymous user, or None in
scripts); every rule in every domain starts from these questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buyergroup.accounts.models import User


def is_signed_in(user: User | None) -> bool:
    """True for a signed-in member; False for a visitor, Flask-Login's anonymous user or None."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_site_organiser(user: User | None) -> bool:
    """Organisers and administrators of the whole site."""
    return is_signed_in(user) and bool(user.is_organiser)


def is_admin(user: User | None) -> bool:
    return is_signed_in(user) and bool(user.is_admin)
