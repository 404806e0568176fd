"""Domain errors raised by services, and the one place that maps them to responses.

Services raise these; views do not catch them one by one. HTML requests get a translated
flash message and are sent back where they came from; API requests get a JSON error.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from buyergroup.extensions import db


class DomainError(Exception):
    """Something the user asked for cannot be done; ``message`` is shown to them."""

    status_code = 400
    default_message = _l("This request could not be completed.")

    def __init__(self, message: str | None = None, *, field: str | None = None):
        super().__init__(message or str(self.default_message))
        self.message = message or self.default_message
        self.field = field


class NotAllowed(DomainError):
    status_code = 403
    default_message = _l("You are not allowed to do that.")


class NotFound(DomainError):
    status_code = 404
    default_message = _l("That page or item does not exist.")


class ValidationFailed(DomainError):
    """What was entered is not valid. ``errors`` holds every problem found, by field, so a
    form shows them all at once; ``message`` and ``field`` are the first of them."""

    status_code = 400
    default_message = _l("Some of the information given is not valid.")

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 errors: Mapping[str, str] | None = None):
        super().__init__(message, field=field)
        self.errors: dict[str, str] = dict(errors or ({field: self.message} if field else {}))

    @classmethod
    def of(cls, problems: Mapping[str, str]) -> ValidationFailed:
        """One error for several problems ({field: message}, in the order found)."""
        field, message = next(iter(problems.items()))
        return cls(message, field=field, errors=problems)


class Conflict(DomainError):
    status_code = 409
    default_message = _l("That conflicts with something that already exists.")


class InvariantError(Conflict):
    """A rule that keeps the data whole ("a group keeps one organiser") refused the change.

    Not ``NotAllowed``: nobody may do it, whoever asks. Each such rule subclasses this.
    """

    default_message = _l("That change would break a rule the site keeps.")


class OwnAdministratorRoleKept(InvariantError):
    """The site always keeps the administrator who is acting: nobody demotes themselves."""

    default_message = _l("You cannot remove your own administrator role.")


class OwnAccountKeptActive(InvariantError):
    """An administrator cannot lock themselves out by deactivating their own account."""

    default_message = _l("You cannot deactivate your own account.")


class AlreadyExists(Conflict):
    default_message = _l("That already exists.")


class TokenInvalid(DomainError):
    status_code = 400
    default_message = _l("This link is invalid, has expired or has already been used.")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": {"status": status, "code": code, "message": str(message), **extra}}
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            # A refusal about one field names it, as a form would show it by that field.
            problems = getattr(error, "errors", None) or (
                {error.field: error.message} if error.field else {})
            extra = ({"fields": {name: [str(text)] for name, text in problems.items()}}
                     if problems else {})
            return json_error(error.status_code, type(error).__name__, str(error.message),
                              **extra)
        if error.status_code in (403, 404):
            return render_template(f"errors/{error.status_code}.html", message=error.message), (
                error.status_code
            )
        from buyergroup.security import same_site_referrer

        flash(str(error.message), "error")
        return redirect(same_site_referrer() or url_for("core.home"))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code and error.code >= 500:
            db.session.rollback()
        allow = getattr(error, "valid_methods", None)
        headers = {"Allow": ", ".join(sorted(allow))} if allow else {}
        if wants_json():
            code = error.name.replace(" ", "")
            extra = {"parameter": error.parameter} if getattr(error, "parameter", None) else {}
            body, status = json_error(error.code or 500, code, error.description or "",
                                      **extra)
            return body, status, headers
        template = {
            403: "errors/403.html",
            404: "errors/404.html",
            405: "errors/404.html",
            429: "errors/429.html",
        }.get(error.code or 500, "errors/generic.html")
        if error.code == 400 and "CSRF" in (error.description or ""):
            template = "errors/csrf.html"
        return render_template(template, error=error), error.code, headers

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # On a form submission the database refusing a duplicate (a unique key) is almost
        # always a double submit racing with itself: the services check first, this is
        # the last line of defence. Anywhere else it is a bug: the 500 page.
        if request.method in ("GET", "HEAD"):
            return handle_unexpected(error)
        db.session.rollback()
        message = _l("This was already saved (perhaps the form was sent twice).")
        if wants_json():
            return json_error(409, "Conflict", str(message))
        from buyergroup.security import same_site_referrer

        flash(str(message), "info")
        return redirect(same_site_referrer() or url_for("core.home"))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return handle_http_error(error)
        db.session.rollback()
        app.logger.exception("Unhandled error")
        if wants_json():
            return json_error(500, "InternalServerError", "An unexpected error occurred.")
        return render_template("errors/500.html"), 500
