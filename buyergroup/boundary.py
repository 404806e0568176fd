"""The one request boundary: services flush, the request commits once, at its end.

Like Indico's request handler (``RH.process``): every view runs inside ``transactional``.
When the view answers with a success or a redirect, the boundary commits; when it raises,
answers with an error status, or met a domain error on a form, the boundary rolls back.
Only after a commit does it hand the request's queued mail on for delivery (search index
updates are handed on by ``search.hooks`` on the session's ``after_commit``).

Views never call ``db.session.commit()``. A view that calls a service for a form uses
``service_errors``, the one helper that turns a domain error into the form field's message
or the page's notice, the same in every domain::

    if form.validate_on_submit():
        with service_errors(form) as outcome:
            item = service.save(current_user, **fields)
        if outcome.ok:
            flash(_("Saved."), "success")
            return redirect(url_for(...))
    return render_template(...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, flash, g

from buyergroup.errors import DomainError, wants_json
from buyergroup.extensions import db

#: ``g`` key: set when the request must not commit although it answers 200 (a form that
#: showed a domain error re-renders normally, but what the service flushed is undone).
ROLLBACK_ONLY = "boundary_rollback_only"

#: ``g`` key: ids of outbox messages that this request committed, for delivery after it.
MAIL_TO_HAND_OVER = "boundary_mail_to_hand_over"

#: Domain errors a form shows in place; 403 and 404 go on to the error pages instead.
_FORM_STATUSES = frozenset({400, 409, 422})


@dataclass
class Outcome:
    """What ``service_errors`` saw: ``ok`` is False when the service refused."""

    ok: bool = True
    error: DomainError | None = None


def mark_rollback_only() -> None:
    """The request ends without committing, whatever it answers."""
    g.setdefault(ROLLBACK_ONLY, True)
    db.session.rollback()


@contextmanager
def service_errors(form=None, *, notice: bool = True) -> Iterator[Outcome]:
    """Turn a refused service call into the form field's message, or the page's notice.

    A ``DomainError`` that names a field of ``form`` is shown by that field; any other one
    is flashed as the page's notice (unless ``notice`` is False: the caller shows
    ``outcome.error`` itself). Either way the request rolls back what the service flushed.
    ``NotAllowed`` and ``NotFound`` are not form errors: they reach the error pages. A
    client that asked for JSON gets the error's own status and JSON body from ``errors.py``.
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        if error.status_code not in _FORM_STATUSES or wants_json():
            raise
        mark_rollback_only()
        outcome.ok = False
        outcome.error = error
        problems = getattr(error, "errors", None) or {error.field: error.message}
        elsewhere = []
        for name, message in problems.items():
            if form is not None and name and name in form:
                field = form[name]
                field.errors = [*field.errors, str(message)]
            else:
                elsewhere.append(str(message))
        if notice:
            for message in elsewhere:
                flash(message, "error")


def transactional(view: Callable) -> Callable:
    """Run ``view`` as one transaction: commit on success, roll back otherwise."""

    @wraps(view)
    def run(*args, **kwargs):
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            _end(commit=False)
            raise
        # A redirect after a success commits; a 4xx/5xx answer, or a form whose service
        # refused, rolls back. An IntegrityError raised by this commit reaches the one
        # handler in ``errors.py`` (a double submit racing with itself).
        _end(commit=response.status_code < 400 and not g.get(ROLLBACK_ONLY))
        return response

    return run


def _end(*, commit: bool) -> None:
    queued = g.pop("queued_mail_ids", None)
    if not commit:
        db.session.rollback()
        return
    db.session.commit()
    if queued:
        g.setdefault(MAIL_TO_HAND_OVER, []).extend(queued)


def install(app: Flask) -> None:
    """Wrap every view of ``app`` (call once all blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static":
            continue
        app.view_functions[endpoint] = transactional(view)

    @app.teardown_request
    def hand_over_mail(error):
        ids = g.pop(MAIL_TO_HAND_OVER, None)
        if not ids or error is not None or not app.config["BUYERGROUP_SEND_MAIL_ON_COMMIT"]:
            return
        from buyergroup.mail.service import deliver_due

        try:
            db.session.rollback()  # start clean: the boundary has committed the request
            # Each message is claimed before it is sent, so the scheduler delivering at the
            # same moment never sends it twice, and a worker killed here loses nothing: its
            # claim expires (MAIL_CLAIM_SECONDS) and the scheduler sends the message.
            deliver_due(ids=ids)
        except Exception:  # noqa: BLE001 - the page is already answered; retry later
            app.logger.exception("Immediate mail delivery failed; left in the outbox")
            db.session.rollback()
