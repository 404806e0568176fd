"""The scheduler's privacy jobs: each owns its transaction and is idempotent."""

from __future__ import annotations

from buyergroup.extensions import db
from buyergroup.privacy import service


def anonymise_registrations() -> int:
    """Anonymise the registrations of events that ended more than
    ``PRIVACY_REGISTRATION_RETENTION_DAYS`` ago (default 365). Commits; a second run
    finds nothing more to do."""
    count = service.anonymise_past_registrations()
    db.session.commit()
    return count


def purge_sessions() -> int:
    """Delete sessions that ended more than ``SESSION_RETENTION_DAYS`` ago (default 30).
    Commits."""
    count = service.purge_ended_sessions()
    db.session.commit()
    return count
