"""Who may keep the labels register and who chooses the generations an item cites.

Organisers (site organisers and administrators, the library's moderators) keep the register:
they add, change and delete labels and generations. Who may change a criterion or clause
chooses the generations it cites.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buyergroup.library import permissions as library_permissions
from buyergroup.library.fields import CLAUSE_KINDS

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.library.models import LibraryItem


def can_manage_labels(user: User | None) -> bool:
    """Add, change and delete labels and their generations."""
    return library_permissions.is_moderator(user)


def can_cite(user: User | None, item: LibraryItem) -> bool:
    """Who may change an item may choose the label generations it cites."""
    return item.kind in CLAUSE_KINDS and library_permissions.can_edit(user, item)
