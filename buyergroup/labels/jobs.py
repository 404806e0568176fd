"""The labels register's scheduled work: thin, one idempotent service call, its own commit."""

from __future__ import annotations

from buyergroup.extensions import db
from buyergroup.labels.service import flag_stale_citations


def check_stale_labels() -> dict[str, int]:
    """Flag criteria citing superseded or withdrawn label generations; mail their authors."""
    result = flag_stale_citations()
    db.session.commit()
    return result
