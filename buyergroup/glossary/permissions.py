"""Who may change the glossary: every glossary rule's one home."""

from __future__ import annotations

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_site_organiser


def can_edit_glossary(user: User | None) -> bool:
    """Site organisers and administrators keep it up to date (search expands with it)."""
    return is_site_organiser(user)
