"""Signed unsubscribe links: per member and kinds, working without a session (RFC 8058).

The token holds the member's id and the kinds it stops, signed with the site's secret and
a purpose of its own; a changed, expired or foreign token changes nothing.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from buyergroup.community.models import Kind

SALT = "community.unsubscribe"
#: Long enough for a digest read weeks later; short enough that a leaked link dies.
MAX_AGE_SECONDS = 180 * 24 * 3600


class BadUnsubscribeLink(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "invalid" or "expired"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user_id: int, kinds: list[Kind]) -> str:
    return _serializer().dumps({"u": user_id, "k": sorted(k.value for k in kinds)})


def read_token(token: str) -> tuple[int, list[Kind]]:
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        raise BadUnsubscribeLink("expired") from None
    except BadSignature:
        raise BadUnsubscribeLink("invalid") from None
    try:
        user_id = int(data["u"])
        kinds = [Kind(k) for k in data["k"]]
    except (KeyError, TypeError, ValueError):
        raise BadUnsubscribeLink("invalid") from None
    if not kinds:
        raise BadUnsubscribeLink("invalid")
    return user_id, kinds


def link(user_id: int, kinds: list[Kind]) -> str:
    from buyergroup.accounts.service import external_url

    return external_url("community.unsubscribe_link", token=make_token(user_id, kinds))


def headers(user_id: int, kinds: list[Kind]) -> dict[str, str]:
    """RFC 8058 one-click headers: mail clients POST to the link, no session, no CSRF."""
    url = link(user_id, kinds)
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
