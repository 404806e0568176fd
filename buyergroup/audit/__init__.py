"""The audit log: an append-only record of the decisions that touch members and their data.

Other domains call ``buyergroup.audit.service.record(...)`` inside the service that makes
the change; administrators read the log at ``/manage/audit`` and ``GET /api/v1/audit``.
"""

from __future__ import annotations

from flask import Flask


def register_audit(app: Flask) -> None:
    """Register the page and the API endpoint (call before ``boundary.install``)."""
    from buyergroup.audit.api import bp as api_bp
    from buyergroup.audit.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
