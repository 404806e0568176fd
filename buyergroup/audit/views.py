"""``/manage/audit``: the audit log for administrators, filtered, paged, and as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from buyergroup.audit import service
from buyergroup.audit.models import AuditAction
from buyergroup.audit.permissions import require_audit_reader
from buyergroup.errors import ValidationFailed
from buyergroup.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/manage/audit")

PER_PAGE = 50
#: A CSV download holds at most this many rows (the newest); narrow the filters for more.
CSV_MAX_ROWS = 50_000


def _filters() -> tuple[service.AuditFilters, dict[str, str]]:
    """The filters asked for, and each bad one's message by field."""
    try:
        return service.parse_filters(request.args), {}
    except ValidationFailed as error:
        return service.AuditFilters(), {error.field or "actor": str(error.message)}


@bp.get("/")
@login_required
def index():
    require_audit_reader(current_user)
    filters, errors = _filters()
    page = None
    if not errors:
        page = db.paginate(service.entries_query(filters), per_page=PER_PAGE, error_out=False)
    return render_template(
        "audit/index.html", page=page, filters=filters, errors=errors,
        args={key: request.args.get(key, "") for key in ("actor", "action", "since", "until")},
        actions=list(AuditAction), csv_args=filters.as_args(),
    ), (400 if errors else 200)


@bp.get("/audit.csv")
@login_required
def download():
    require_audit_reader(current_user)
    filters, errors = _filters()
    if errors:
        raise ValidationFailed(next(iter(errors.values())))
    entries = db.session.scalars(service.entries_query(filters).limit(CSV_MAX_ROWS)).all()
    body = service.entries_csv(entries, former_member=_("Former member"), system=_("System"))
    # Reading the log out of the site is itself a decision worth recording.
    service.record(AuditAction.audit_downloaded, actor=current_user,
                   details={"filters": filters.as_args(), "rows": len(entries)})
    response = Response("\ufeff" + body, mimetype="text/csv")  # the BOM: Excel reads UTF-8
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
