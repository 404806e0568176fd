"""``GET /api/v1/me/export`` and ``DELETE /api/v1/me``: the export and erasure, as JSON."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from buyergroup.api.auth import api_user, refuse_read_only_writes, token_required
from buyergroup.errors import json_error
from buyergroup.privacy import service

#: A blueprint of its own under the API's prefix: errors under /api/ are JSON (errors.py).
bp = Blueprint("privacy_api", __name__, url_prefix="/api/v1")
bp.before_request(refuse_read_only_writes)


@bp.get("/me/export")
@token_required
def export():
    """Everything about the token's member; files are links (the ZIP is on the web page)."""
    user = api_user()
    data = service.export_data(user)
    service.record_export(user, user, via="api")
    response = jsonify(data)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.delete("/me")
@token_required
def erase():
    """Erase the token's member: ``{"confirm": "<the member's email>"}``."""
    user = api_user()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "BadRequest",
                          'Send a JSON object {"confirm": "<your email address>"}.')
    confirm = body.get("confirm")
    if not isinstance(confirm, str):
        return json_error(400, "ConfirmationMismatch",
                          "Give your account's email address as 'confirm'.",
                          fields={"confirm": ["Give your account's email address."]})
    user_id = user.id
    result = service.erase_member(user, user, confirm=confirm)
    return jsonify({"erased": True, "id": user_id, **result})
