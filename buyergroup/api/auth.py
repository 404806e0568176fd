"""Bearer-token authentication for the API (``Authorization: Bearer bg_...``).

A token has a scope: ``read`` tokens may only read; ``write`` tokens may also change
things (POST, PUT, PATCH, DELETE). An expired, revoked or unknown token is a 401; a
read-only token on a write is a 403, for every endpoint of the API blueprint at once
(``refuse_read_only_writes``, run before each API view). Public endpoints answer a request
with an unusable token as they answer a visitor, as they always have.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_login import current_user

from buyergroup.accounts.models import ApiToken
from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.service import find_api_token, record_token_use
from buyergroup.errors import json_error

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def api_user():
    """The token's user, else a signed-in browser session's user (read-only GETs), else None."""
    if "api_user" in g:
        return g.api_user
    user = None
    g.api_token = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        g.api_token_given = True
        token = find_api_token(secret.strip())
        if token is not None and token.is_usable:
            # The boundary commits the token's "last used" date with the request.
            record_token_use(token)
            g.api_token = token
            user = token.user
        else:
            g.api_token_expired = token is not None and token.is_active and token.is_expired
    elif request.method == "GET" and is_signed_in(current_user):
        user = current_user._get_current_object()
    g.api_user = user
    return user


def api_token() -> ApiToken | None:
    """The token this request authenticated with, if any."""
    api_user()
    return g.api_token


def _unauthorized():
    if g.get("api_token_expired"):
        message = "The API token has expired: create a new one on your profile."
    elif g.get("api_token_given"):
        message = "The API token is invalid or revoked."
    else:
        message = "Authentication required: send 'Authorization: Bearer <token>'."
    response, status = json_error(401, "Unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="buyergroup"'
    return response, status


def refuse_read_only_writes():
    """Before every API view: a read-only token cannot write, whatever the endpoint."""
    token = api_token()
    if token is not None and request.method in WRITE_METHODS and not token.can_write:
        return json_error(
            403, "InsufficientScope",
            "This token may only read. Create a token with the 'write' scope to change data.",
        )
    return None


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if api_user() is None:
            return _unauthorized()
        return view(*args, **kwargs)

    return wrapped
