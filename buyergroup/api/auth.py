"""Bearer-token authentication for the API (``Authorization: Bearer bg_...``)."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_login import current_user

from buyergroup.accounts.permissions import is_signed_in
from buyergroup.accounts.service import user_for_api_token
from buyergroup.errors import json_error


def api_user():
    """The token's user, else a signed-in browser session's user (read-only GETs), else None."""
    if "api_user" in g:
        return g.api_user
    user = None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        # The boundary commits the token's "last used" date with the request.
        user = user_for_api_token(secret.strip())
        g.api_token_given = True
    elif request.method == "GET" and is_signed_in(current_user):
        user = current_user._get_current_object()
    g.api_user = user
    return user


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if api_user() is None:
            message = (
                "The API token is invalid or revoked."
                if g.get("api_token_given")
                else "Authentication required: send 'Authorization: Bearer <token>'."
            )
            response, status = json_error(401, "Unauthorized", message)
            response.headers["WWW-Authenticate"] = 'Bearer realm="buyergroup"'
            return response, status
        return view(*args, **kwargs)

    return wrapped
