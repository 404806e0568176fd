"""Privacy by design: what the site keeps about members, and their rights over it.

- ``/privacy``: what is stored, why, who sees it, for how long, and how to exercise one's
  rights (the pages below);
- the member's choices (``User.email_visible``, ``listed_in_directory``,
  ``listed_on_participant_lists``; ``Registration.show_name`` per event), enforced by the
  rules in ``accounts.permissions`` and the events' participant list;
- ``/profile/data`` and ``GET /api/v1/me/export``: everything about the member (JSON, and
  their uploaded files in a ZIP), audited as ``data_exported``;
- ``/profile/erase``, ``DELETE /api/v1/me`` and the administrators' erase page: erasure,
  audited as ``account_erased``; published contributions stay under "former member";
- the scheduler's jobs (``privacy.jobs``): anonymising the registrations of events past the
  retention period, and purging ended sessions.
"""

from __future__ import annotations

from flask import Flask


def register_privacy(app: Flask) -> None:
    """Register the pages and the API endpoints (before the boundary wraps every view)."""
    from buyergroup.privacy.api import bp as api_bp
    from buyergroup.privacy.views import bp, template_helpers

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.jinja_env.globals.update(template_helpers())
