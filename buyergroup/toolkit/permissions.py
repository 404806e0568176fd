"""Who may see and change a tender basket, and record or hide uses: the toolkit's rules.

A basket is its owner's. Shared with their organisation or a working group, its members may
read it, and change its items when the owner made it editable; only the owner renames,
shares or deletes it. Organisers have no special access to baskets: they are working papers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buyergroup.accounts.permissions import is_signed_in
from buyergroup.library import permissions as library_permissions
from buyergroup.toolkit.models import Basket, BasketShare

if TYPE_CHECKING:
    from buyergroup.accounts.models import User
    from buyergroup.library.models import LibraryItem


def is_owner(user: User | None, basket: Basket) -> bool:
    return is_signed_in(user) and basket.owner_id == user.id


def is_shared_with(user: User | None, basket: Basket, *, group_ids: set[int] | None = None) -> bool:
    if not is_signed_in(user):
        return False
    if basket.share is BasketShare.organisation:
        return basket.organisation_id is not None and user.organisation_id == basket.organisation_id
    if basket.share is BasketShare.group:
        if basket.group_id is None:
            return False
        if group_ids is None:
            group_ids = library_permissions.active_group_ids(user)
        return basket.group_id in group_ids
    return False


def can_see_basket(user: User | None, basket: Basket, *, group_ids: set[int] | None = None) -> bool:
    return is_owner(user, basket) or is_shared_with(user, basket, group_ids=group_ids)


def can_edit_basket(user: User | None, basket: Basket) -> bool:
    """Add, remove, reorder items and write notes."""
    return is_owner(user, basket) or (basket.shared_editable and is_shared_with(user, basket))


def can_manage_basket(user: User | None, basket: Basket) -> bool:
    """Rename, choose the language, share, delete: the owner only."""
    return is_owner(user, basket)


def can_create_basket(user: User | None) -> bool:
    return is_signed_in(user)


def can_add_item(user: User | None, item: LibraryItem, *,
                 group_ids: set[int] | None = None) -> bool:
    """Published items the member can see go into baskets."""
    return is_signed_in(user) and item.is_published and library_permissions.can_see(
        user, item, group_ids=group_ids)


def can_record_use(user: User | None, item: LibraryItem) -> bool:
    return can_add_item(user, item)


def can_hide_use(user: User | None) -> bool:
    return library_permissions.is_moderator(user)
