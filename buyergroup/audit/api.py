"""``GET /api/v1/audit``: the audit log as JSON, for administrators' tokens."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l

from buyergroup.api.auth import api_user, token_required
from buyergroup.audit import service
from buyergroup.audit.permissions import require_audit_reader
from buyergroup.errors import ValidationFailed, json_error
from buyergroup.extensions import db

#: A blueprint of its own under the API's prefix: errors under /api/ are JSON (errors.py).
bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100


def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationFailed(_l("Give a whole number of at least 1."), field=name)
    value = int(raw)
    return min(value, maximum) if maximum else value


@bp.get("/audit")
@token_required
def list_audit():
    require_audit_reader(api_user())
    try:
        filters = service.parse_filters(request.args)
        page_number = _positive_int("page", 1)
        per_page = _positive_int("per_page", 20, MAX_PER_PAGE)
    except ValidationFailed as error:
        return json_error(400, "ValidationFailed", str(error.message), parameter=error.field)
    page = db.paginate(service.entries_query(filters), page=page_number, per_page=per_page,
                       error_out=False)
    response = jsonify({
        "items": [service.entry_json(entry) for entry in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    })
    response.headers["Cache-Control"] = "private, no-store"
    return response
