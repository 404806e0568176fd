"""Follows, notifications, email preferences and the library review in API v1.

Registered on the API blueprint by ``buyergroup.api.views``; the same services and rules as
the pages: following what one may not see is a 404, the review needs an organiser, and a
domain error reaches ``errors.py`` as JSON. Paths and schemas for the OpenAPI document are
at the end.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from buyergroup.api.auth import api_user, token_required
from buyergroup.community import service, targets
from buyergroup.community.models import Frequency, Kind
from buyergroup.errors import NotFound, ValidationFailed, json_error
from buyergroup.extensions import db

MAX_PER_PAGE = 100
MAX_PAGE = 10_000  # a huge page number would overflow the SQL offset


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _absolute(path: str) -> str:
    from flask import current_app

    return current_app.config["BASE_URL"].rstrip("/") + path


def _key_json(target_type: str, key: str) -> dict:
    """The target's own id (``target_id``) or code (``code``)."""
    return {"code": key} if not key.isdigit() else {"target_id": int(key)}


def follow_json(entry: service.FollowEntry) -> dict:
    row = entry.follow
    return {
        "id": row.id,
        "target": row.target_type,
        **_key_json(row.target_type, row.target_key),
        "label": str(entry.label),
        "url": _absolute(entry.path),
        "automatic": row.automatic,
        "created_at": _iso(row.created_at),
    }


def notification_json(entry: service.Entry) -> dict:
    n = entry.notification
    return {
        "id": n.id,
        "kind": n.kind.value,
        "event": n.event,
        "message": entry.message,
        "target": n.target_type,
        **_key_json(n.target_type, n.target_key),
        "url": _absolute(entry.path),
        "created_at": _iso(n.created_at),
        "read_at": _iso(n.read_at),
    }


def _body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _not_an_object():
    return json_error(400, "BadRequest", "Send a JSON object (Content-Type: application/json).")


@token_required
def list_follows():
    user = api_user()
    return jsonify({"items": [follow_json(e) for e in service.follows_of(user)]})


@token_required
def create_follow():
    user = api_user()
    body = _body()
    if body is None:
        return _not_an_object()
    target = body.get("target")
    if not isinstance(target, str) or target not in targets.followable_types():
        names = ", ".join(targets.followable_types())
        return json_error(400, "ValidationFailed", "Some fields are not valid.",
                          fields={"target": [f"Use one of: {names}."]})
    raw = body.get("code") if "code" in body else body.get("id")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or str(raw) == "":
        name = "code" if "code" in body else "id"
        return json_error(400, "ValidationFailed", "Some fields are not valid.",
                          fields={name: ["Give the id (a number) or the code of what to follow."]})
    row = service.follow(user, target, str(raw))  # NotFound (404) for what one may not see
    entry = next(e for e in service.follows_of(user) if e.follow.id == row.id)
    response = jsonify(follow_json(entry))
    response.status_code = 201
    return response


@token_required
def delete_follow(follow_id: int):
    user = api_user()
    service.unfollow(user, service.get_follow(user, follow_id))
    return "", 204


@token_required
def list_notifications():
    user = api_user()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    per_page = min(max(request.args.get("per_page", 20, type=int) or 20, 1), MAX_PER_PAGE)
    unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
    result = db.paginate(service.notifications_query(user, unread_only=unread_only),
                         page=page, per_page=per_page, error_out=False)
    return jsonify({
        "items": [notification_json(e) for e in service.entries(result.items, user)],
        "unread": service.unread_count(user),
        "page": result.page, "per_page": result.per_page,
        "total": result.total, "pages": result.pages,
    })


@token_required
def read_notifications():
    """Mark read: the ``ids`` given, or every unread notification without ``ids``."""
    user = api_user()
    body = _body() if request.get_data() else {}
    if body is None:
        return _not_an_object()
    ids = body.get("ids")
    if ids is not None and (
        not isinstance(ids, list)
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        return json_error(400, "ValidationFailed", "Some fields are not valid.",
                          fields={"ids": ["Expected a list of notification ids."]})
    marked = service.mark_all_read(user, ids)
    return jsonify({"marked": marked, "unread": service.unread_count(user)})


def _preferences_json(user, chosen=None) -> dict:
    chosen = chosen or service.preferences_of(user)
    kinds = service.visible_kinds(user)
    return {
        "preferences": {k.value: chosen[k].value for k in kinds},
        "frequencies": [f.value for f in Frequency],
    }


@token_required
def get_preferences():
    return jsonify(_preferences_json(api_user()))


@token_required
def put_preferences():
    user = api_user()
    body = _body()
    if body is None:
        return _not_an_object()
    raw = body.get("preferences", body)
    allowed = {k.value for k in service.visible_kinds(user)}
    try:
        choices = service.parse_preferences(raw)
    except ValidationFailed as error:
        return json_error(400, "ValidationFailed", str(error.message),
                          fields={error.field or "preferences": [str(error.message)]})
    refused = sorted(k.value for k in choices if k.value not in allowed)
    if refused:
        return json_error(400, "ValidationFailed", "Some fields are not valid.",
                          fields={k: [_("There is no such kind of notification.")]
                                  for k in refused})
    return jsonify(_preferences_json(user, service.set_preferences(user, choices)))


# --- The library review, as on the pages -----------------------------------------------------


def _review_item(item_id: int, action: str):
    from buyergroup.library import service as library
    from buyergroup.library.api import item_json

    user = api_user()
    if not 0 < item_id <= service.MAX_ID:
        raise NotFound()  # fits no id column (library.get_item would hand it to SQL)
    item = library.get_item(item_id, user)  # 404 unless the caller may see it
    if action == "submit":
        library.submit(user, item)
    elif action == "publish":
        library.publish(user, item)
    else:
        body = _body()
        if body is None:
            return _not_an_object()
        reason = body.get("reason")
        if not isinstance(reason, str):
            return json_error(400, "ValidationFailed", "Some fields are not valid.",
                              fields={"reason": ["Tell the author what to change (text)."]})
        library.return_to_author(user, item, reason)
    return jsonify(item_json(item, user))


@token_required
def submit_item(item_id: int):
    return _review_item(item_id, "submit")


@token_required
def publish_item(item_id: int):
    return _review_item(item_id, "publish")


@token_required
def return_item(item_id: int):
    return _review_item(item_id, "return")


def register_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/follows", "follows", list_follows, methods=["GET"])
    bp.add_url_rule("/follows", "create_follow", create_follow, methods=["POST"])
    bp.add_url_rule("/follows/<int:follow_id>", "delete_follow", delete_follow,
                    methods=["DELETE"])
    bp.add_url_rule("/notifications", "notifications", list_notifications, methods=["GET"])
    bp.add_url_rule("/notifications/read", "read_notifications", read_notifications,
                    methods=["POST"])
    bp.add_url_rule("/me/preferences", "preferences", get_preferences, methods=["GET"])
    bp.add_url_rule("/me/preferences", "put_preferences", put_preferences, methods=["PUT"])
    bp.add_url_rule("/library/<int:item_id>/submit", "submit_library_item", submit_item,
                    methods=["POST"])
    bp.add_url_rule("/library/<int:item_id>/publish", "publish_library_item", publish_item,
                    methods=["POST"])
    bp.add_url_rule("/library/<int:item_id>/return", "return_library_item", return_item,
                    methods=["POST"])


# --- OpenAPI ----------------------------------------------------------------------------------

_ERROR = {"description": "Error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
_VALIDATION = {"description": "Invalid input, by field", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/ValidationError"}}}}
_UNAUTHORIZED = {"$ref": "#/components/responses/Unauthorized"}
_SCOPE = {"$ref": "#/components/responses/InsufficientScope"}
_SECURITY = [{"bearerAuth": []}]


def _json(ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": ref}}}}


def _id_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _review(summary: str, operation: str, body: dict | None = None) -> dict:
    spec = {
        "summary": summary,
        "operationId": operation,
        "security": _SECURITY,
        "parameters": [_id_param("item_id")],
        "responses": {
            "200": _json("#/components/schemas/LibraryItem", "The item after the change"),
            "400": _VALIDATION, "401": _UNAUTHORIZED, "403": _ERROR, "404": _ERROR,
        },
    }
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": body}}}
    return spec


OPENAPI_PATHS: dict[str, dict] = {
    "/api/v1/follows": {
        "get": {
            "summary": "What the caller follows",
            "operationId": "listFollows",
            "security": _SECURITY,
            "responses": {"200": _json("#/components/schemas/FollowList", "The follows"),
                          "401": _UNAUTHORIZED},
        },
        "post": {
            "summary": "Follow a working group, library item, event series, organisation, "
                       "product group or theme",
            "description": "Give the target's `id` (groups, items, series, organisations) "
                           "or `code` (product groups, themes). Something the caller may "
                           "not see is a 404. Following twice changes nothing.",
            "operationId": "createFollow",
            "security": _SECURITY,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/FollowRequest"}}}},
            "responses": {"201": _json("#/components/schemas/Follow", "The follow"),
                          "400": _VALIDATION, "401": _UNAUTHORIZED, "403": _SCOPE,
                          "404": _ERROR},
        },
    },
    "/api/v1/follows/{follow_id}": {
        "delete": {
            "summary": "Stop following",
            "operationId": "deleteFollow",
            "security": _SECURITY,
            "parameters": [_id_param("follow_id")],
            "responses": {"204": {"description": "Stopped"}, "401": _UNAUTHORIZED,
                          "403": _SCOPE, "404": _ERROR},
        },
    },
    "/api/v1/notifications": {
        "get": {
            "summary": "The caller's notifications, newest first, with the unread count",
            "operationId": "listNotifications",
            "security": _SECURITY,
            "parameters": [
                {"name": "unread", "in": "query", "description": "Only unread ones",
                 "schema": {"type": "boolean", "default": False}},
                {"name": "page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            ],
            "responses": {"200": _json("#/components/schemas/NotificationPage",
                                       "The notifications"),
                          "401": _UNAUTHORIZED},
        },
    },
    "/api/v1/notifications/read": {
        "post": {
            "summary": "Mark notifications read (the ids given, or all)",
            "operationId": "readNotifications",
            "security": _SECURITY,
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"ids": {"type": "array", "items": {"type": "integer"}}},
            }}}},
            "responses": {"200": {"description": "Marked", "content": {"application/json": {
                "schema": {"type": "object", "required": ["marked", "unread"], "properties": {
                    "marked": {"type": "integer", "minimum": 0},
                    "unread": {"type": "integer", "minimum": 0}}}}}},
                "400": _VALIDATION, "401": _UNAUTHORIZED, "403": _SCOPE},
        },
    },
    "/api/v1/me/preferences": {
        "get": {
            "summary": "The caller's email preference for each kind of notification",
            "operationId": "getPreferences",
            "security": _SECURITY,
            "responses": {"200": _json("#/components/schemas/Preferences", "The preferences"),
                          "401": _UNAUTHORIZED},
        },
        "put": {
            "summary": "Change email preferences (only the kinds given change)",
            "operationId": "putPreferences",
            "security": _SECURITY,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"preferences": {"$ref": "#/components/schemas/PreferenceMap"}},
            }}}},
            "responses": {"200": _json("#/components/schemas/Preferences", "The preferences"),
                          "400": _VALIDATION, "401": _UNAUTHORIZED, "403": _SCOPE},
        },
    },
    "/api/v1/library/{item_id}/submit": {
        "post": _review("Submit a draft (or returned item) for review", "submitLibraryItem"),
    },
    "/api/v1/library/{item_id}/publish": {
        "post": _review("Publish an item (organisers)", "publishLibraryItem"),
    },
    "/api/v1/library/{item_id}/return": {
        "post": _review("Return an item to its author with a reason (organisers)",
                        "returnLibraryItem",
                        {"type": "object", "required": ["reason"],
                         "properties": {"reason": {"type": "string", "maxLength": 2000}}}),
    },
}

_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

OPENAPI_SCHEMAS: dict[str, dict] = {
    "FollowRequest": {
        "type": "object",
        "required": ["target"],
        "properties": {
            "target": {"type": "string", "enum": ["group", "item", "series", "organisation",
                                                  "product_group", "theme"]},
            "id": {"type": "integer"},
            "code": {"type": "string", "example": "due-diligence"},
        },
    },
    "Follow": {
        "type": "object",
        "required": ["id", "target", "label", "url", "automatic", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "target": {"type": "string"},
            "target_id": {"type": "integer", "description": "The followed object's id"},
            "code": {"type": "string"},
            "label": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "automatic": {"type": "boolean",
                          "description": "Made for the member (own item, joined group, "
                                         "registered event's series)"},
            "created_at": _TIME,
        },
    },
    "FollowList": {
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/Follow"}}},
    },
    "Notification": {
        "type": "object",
        "required": ["id", "kind", "event", "message", "target", "url", "created_at",
                     "read_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in Kind]},
            "event": {"type": "string", "example": "published"},
            "message": {"type": "string"},
            "target": {"type": "string"},
            "target_id": {"type": "integer"},
            "code": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "created_at": _TIME,
            "read_at": _NULLABLE_TIME,
        },
    },
    "NotificationPage": {
        "type": "object",
        "required": ["items", "unread", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
            "unread": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    },
    "PreferenceMap": {
        "type": "object",
        "propertyNames": {"enum": [k.value for k in Kind]},
        "additionalProperties": {"type": "string", "enum": [f.value for f in Frequency]},
    },
    "Preferences": {
        "type": "object",
        "required": ["preferences", "frequencies"],
        "properties": {
            "preferences": {"$ref": "#/components/schemas/PreferenceMap"},
            "frequencies": {"type": "array", "items": {"type": "string"}},
        },
    },
}
