"""HTTP security headers for every response, and JSON bodies the API can always read."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from flask import Flask, after_this_request, current_app, g, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from markupsafe import Markup
from werkzeug.serving import WSGIRequestHandler

#: What the development server says in ``Server`` (Werkzeug's says "Werkzeug/3.1.9
#: Python/3.11.2", a map to the known bugs of both). Behind gunicorn the header is
#: gunicorn's own, "gunicorn" with no version (gunicorn writes it before the app's headers,
#: so setting ``Server`` in the app would only add a second one); a reverse proxy in front
#: (nginx ``server_tokens off;``) replaces it with its own.
SERVER_NAME = "Buyergroup"

#: Signed-in pages and every API answer: never kept by a shared cache, nor by the browser's
#: back/forward cache for the next person at the same computer after sign-out.
PRIVATE_CACHE_CONTROL = "private, no-store"

#: The one inline script, in the head of every page before the first paint: the page is laid
#: out for JavaScript from the start (collapsed menu, folded filters, ``.js-hide``), so
#: nothing moves when site.js runs (layout shift). Inline, not a file: a file that arrives
#: late or not at all lets the page paint laid out without JavaScript and then jump (a
#: phone's /library by a third of its screen, CLS 0.23, once in CI on a loaded machine);
#: and every page saves a render-blocking request.
EARLY_SCRIPT = Markup("document.documentElement.classList.add('js');")
_EARLY_SCRIPT_DIGEST = hashlib.sha256(EARLY_SCRIPT.encode()).digest()
_EARLY_SCRIPT_SOURCE = f"'sha256-{base64.b64encode(_EARLY_SCRIPT_DIGEST).decode()}'"

# No other inline script: every script is a file under static/, and the policy allows the
# early script by its hash only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {_EARLY_SCRIPT_SOURCE}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_security(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    app.jinja_env.globals["EARLY_SCRIPT"] = EARLY_SCRIPT
    # The development server's own Server header (sent before any header of the app).
    WSGIRequestHandler.version_string = lambda handler: SERVER_NAME  # type: ignore[method-assign]

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        if request.endpoint != "static" and (
            request.path.startswith("/api/") or _signed_in()
        ):
            headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _signed_in() -> bool:
    # Not ``is_signed_in``: by now the boundary has committed, and reading the expired
    # account's ``is_active`` would load it again (3 queries on every signed-in page).
    # Any account at all, active or not, gets a private page.
    return not current_user.is_anonymous


class StrictJSONProvider(DefaultJSONProvider):
    """JSON that the API either reads whole or refuses with 400, never a 500.

    Python's parser raises ``RecursionError`` (not ``ValueError``) on deeply nested input
    such as 100,000 "[", and accepts lone surrogates ("\\ud800") that no database can
    store. Both become ``ValueError`` here, which ``request.get_json`` answers with 400
    (or None when ``silent``), like any other body that is not JSON.
    """

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None
        _refuse_lone_surrogates(value)
        return value


def _refuse_lone_surrogates(value) -> None:
    pending = [value]
    while pending:  # a loop, not recursion: the parser already allowed deep nesting
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("The JSON holds text that is not valid Unicode.") from None
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def safe_next_url(target: str | None, fallback_endpoint: str = "core.home") -> str:
    """``target`` if it is a path on this site, else the fallback page.

    Browsers (and Werkzeug building the Location header) drop tabs and newlines and read
    backslashes as slashes, so "/\t/evil.example" would become "//evil.example": refuse
    control characters and backslashes before checking for a plain local path.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(char == "\\" or ord(char) < 32 or ord(char) == 127 for char in target)
    ):
        return target
    return url_for(fallback_endpoint)


def same_site_referrer() -> str | None:
    """The Referer if it points at this site (never send a user elsewhere after an error)."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next_url(path) if path else None


def deliver_mail_after_response() -> None:
    """Send this request's mail after its response has gone out, not before.

    The boundary hands queued mail to SMTP before the response leaves (its teardown runs
    first), so a page that mails only when an account exists ("forgot password", "join")
    answered several times slower for members: a timing oracle for who has an account.
    Called by such a view, the committed mail goes out when the server closes the response
    (``call_on_close``: gunicorn and Werkzeug call it after the body is sent); whatever does
    not go then waits in the outbox for the scheduler, so nothing is lost.
    """
    from buyergroup.boundary import MAIL_TO_HAND_OVER

    @after_this_request
    def defer(response):
        ids = g.pop(MAIL_TO_HAND_OVER, None)
        app = current_app._get_current_object()
        if ids and app.config["BUYERGROUP_SEND_MAIL_ON_COMMIT"]:
            response.call_on_close(lambda: _deliver(app, ids))
        return response


def _deliver(app: Flask, ids: list[int]) -> None:
    from buyergroup.extensions import db
    from buyergroup.mail.service import deliver_due

    with app.app_context():
        try:
            deliver_due(ids=ids)
        except Exception:  # noqa: BLE001 - the page is answered; the scheduler retries
            app.logger.exception("Mail delivery after the response failed; left in the outbox")
            db.session.rollback()
