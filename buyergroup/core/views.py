"""Home, static information pages, the language switcher and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import func, select, text

from buyergroup.accounts.models import User
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.extensions import db
from buyergroup.i18n import LANGUAGES, SESSION_LANGUAGE_KEY
from buyergroup.network.service import (
    active_member_counts,
    visible_groups,
    visible_organisations,
)
from buyergroup.security import safe_next_url

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    groups = db.session.scalars(visible_groups(current_user).limit(6)).all()
    organisations = db.session.scalars(visible_organisations(current_user)).all()
    # Figures count only what this visitor could list, so they match the linked pages.
    visible_organisations_query = visible_organisations(current_user).subquery()
    stats = {
        "members": db.session.scalar(
            select(func.count(User.id)).where(User.is_active_account.is_(True))
        ),
        "organisations": len(organisations),
        "groups": db.session.scalar(
            select(func.count()).select_from(visible_groups(current_user).subquery())
        ),
        "countries": db.session.scalar(
            select(func.count(func.distinct(visible_organisations_query.c.country)))
        ),
    }
    # The tags show short names where there are any: sort by what the reader sees.
    organisations = sorted(organisations, key=lambda o: (o.short_name or o.name).lower())
    return render_template(
        "core/home.html", groups=groups, organisations=organisations, stats=stats,
        # One query for the six groups' member counts, not one per group.
        member_counts=active_member_counts([g.id for g in groups]),
    )


@bp.get("/about")
def about():
    return render_template("core/about.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("core/accessibility.html")


@bp.post("/language")
def set_language():
    """Remember the chosen language: on the account if signed in, else in the session."""
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session[SESSION_LANGUAGE_KEY] = language
        if is_signed_in(current_user):
            current_user.locale = language
    return redirect(safe_next_url(request.form.get("next")))


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means the database is not answering
        # The 503 makes the boundary roll the failed transaction back.
        return jsonify(status="error", database="unavailable", detail=type(error).__name__), 503
    return jsonify(status="ok", database="ok")
