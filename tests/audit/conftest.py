"""Audit fixtures: entries written through ``record``, as the other domains write them."""

from __future__ import annotations

from datetime import datetime

import pytest

from buyergroup.audit import service
from buyergroup.audit.models import AuditAction
from buyergroup.extensions import db


@pytest.fixture
def make_entry(app, monkeypatch):
    """``make_entry(action, actor=..., at=datetime, **record_kwargs)``, committed.

    ``at`` dates the entry in the past by letting ``record`` read a stopped clock, so the
    entry is still written through ``record`` (there is no other way in).
    """

    def factory(action=AuditAction.role_changed, *, actor=None, at: datetime | None = None,
                **kwargs):
        with monkeypatch.context() as patch:
            if at is not None:
                patch.setattr(service, "utcnow", lambda: at)
            entry = service.record(action, actor=actor, **kwargs)
        db.session.commit()
        return entry

    return factory


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin_token(admin):
    from buyergroup.accounts.service import create_api_token

    _, secret = create_api_token(admin, "Audit script")
    db.session.commit()
    return secret
