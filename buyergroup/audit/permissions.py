"""Who may read the audit log: administrators, and nobody else."""

from __future__ import annotations

from buyergroup.accounts.permissions import is_admin
from buyergroup.errors import NotAllowed


def can_read_audit_log(user) -> bool:
    return is_admin(user)


def require_audit_reader(user) -> None:
    """Raise ``NotAllowed`` (403) unless ``user`` may read the audit log."""
    if not can_read_audit_log(user):
        raise NotAllowed()
