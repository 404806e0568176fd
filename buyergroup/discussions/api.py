"""Discussions in API v1: a group's threads, one thread, asking and replying.

Registered on the API blueprint by ``buyergroup.api.views``; the same loaders and service
rules as the pages apply (a thread the caller may not read is a 404). Paths and schemas for
the OpenAPI document are at the end.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from buyergroup.accounts.service import external_url
from buyergroup.api.auth import api_user, token_required
from buyergroup.discussions import permissions, service
from buyergroup.discussions.models import Post, Thread
from buyergroup.errors import NotFound, json_error
from buyergroup.extensions import db

MAX_PER_PAGE = 100
THREAD_FIELDS = {"title", "body", "language", "product_groups", "themes", "library_items",
                 "knowledge_gap"}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _person(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def post_json(post: Post, user) -> dict:
    shows_text = not post.is_hidden or permissions.can_see_hidden(user, post)
    return {
        "id": post.id,
        "thread_id": post.thread_id,
        "author": _person(post.author) if shows_text else None,
        "body": post.body if shows_text else None,
        "html": str(service.render_post(post)) if shows_text else None,
        "is_question": post.is_opening,
        "accepted": post.is_accepted,
        "hidden": post.is_hidden,
        "hidden_reason": (post.hidden_reason or None) if post.is_hidden and shows_text else None,
        "created_at": _iso(post.created_at),
        "edited_at": _iso(post.edited_at),
    }


def thread_json(thread: Thread, user, *, full: bool = False) -> dict:
    accepted = thread.accepted_post
    addressed = service.visible_addressed_by(thread, user)
    data = {
        "id": thread.id,
        "url": external_url("discussions.thread", slug=thread.group.slug, thread_id=thread.id),
        "group": {"id": thread.group.id, "slug": thread.group.slug, "name": thread.group.name},
        "title": thread.title,
        "language": thread.language,
        "author": _person(thread.author),
        "product_groups": thread.product_groups,
        "themes": thread.themes,
        "library_items": [item.id for item in service.visible_links(thread, user)],
        "knowledge_gap": thread.is_knowledge_gap,
        "addressed_by": {"id": addressed.id, "title": addressed.title} if addressed else None,
        "locked": thread.is_locked,
        "answered": accepted is not None and not accepted.is_hidden,
        "accepted_post_id": accepted.id if accepted is not None and not accepted.is_hidden
        else None,
        "reply_count": service.reply_counts([thread])[thread.id],
        "created_at": _iso(thread.created_at),
        "last_posted_at": _iso(thread.last_posted_at),
    }
    if full:
        data["posts"] = [post_json(post, user) for post in thread.posts]
    return data


def _body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _not_an_object():
    return json_error(400, "BadRequest", "Send a JSON object (Content-Type: application/json).")


def _field_errors(fields: dict[str, list[str]]):
    return json_error(400, "ValidationFailed", "Some fields are not valid.", fields=fields)


def list_threads(slug: str):
    user = api_user()
    group = service.get_group(slug, user)
    state = request.args.get("state", "all")
    filters = service.ThreadFilters(
        state=state if state in service.FILTERS else "all",
        product_group=request.args.get("product_group", "")[:40],
        theme=request.args.get("theme", "")[:40],
    )
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = min(max(request.args.get("per_page", 20, type=int) or 20, 1), MAX_PER_PAGE)
    query = service.threads_query(group, filters).options(*service.thread_list_loading())
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify({
        "items": [thread_json(t, user) for t in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    })


@token_required
def create_thread(slug: str):
    user = api_user()
    group = service.get_group(slug, user)
    body = _body()
    if body is None:
        return _not_an_object()
    unknown = sorted(set(body) - THREAD_FIELDS)
    if unknown:
        return _field_errors({name: ["Unknown field."] for name in unknown})
    errors: dict[str, list[str]] = {}
    for name in ("title", "body", "language"):
        if body.get(name) is not None and not isinstance(body[name], str):
            errors[name] = ["Expected text."]
    for name in ("product_groups", "themes"):
        value = body.get(name)
        if value is not None and (not isinstance(value, list)
                                  or not all(isinstance(v, str) for v in value)):
            errors[name] = ["Expected a list of codes."]
    items = body.get("library_items")
    if items is not None and (not isinstance(items, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in items)):
        errors["library_items"] = ["Expected a list of library item ids."]
    if body.get("knowledge_gap") is not None and not isinstance(body["knowledge_gap"], bool):
        errors["knowledge_gap"] = ["Expected true or false."]
    if errors:
        return _field_errors(errors)
    # Domain errors (not a member: 403; a bad field: 400 naming it) go on to errors.py.
    thread = service.start_thread(
        user, group,
        title=body.get("title") or "", body=body.get("body") or "",
        language=body.get("language") or "en",
        product_groups=body.get("product_groups") or [], themes=body.get("themes") or [],
        library_items=items or [], knowledge_gap=bool(body.get("knowledge_gap")),
    )
    response = jsonify(thread_json(thread, user, full=True))
    response.status_code = 201
    response.headers["Location"] = external_url("api.discussion", thread_id=thread.id)
    return response


def get_thread(thread_id: int):
    user = api_user()
    return jsonify(thread_json(service.get_thread(thread_id, user), user, full=True))


@token_required
def create_reply(thread_id: int):
    user = api_user()
    thread = service.get_thread(thread_id, user)
    body = _body()
    if body is None:
        return _not_an_object()
    unknown = sorted(set(body) - {"body"})
    if unknown:
        return _field_errors({name: ["Unknown field."] for name in unknown})
    if not isinstance(body.get("body"), str):
        return _field_errors({"body": ["Expected text."]})
    post = service.reply(user, thread, body["body"])
    return jsonify(post_json(post, user)), 201


def _text_fields(body: dict, allowed: tuple[str, ...]):
    """The body's fields, each text; a field error response for anything else."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        return _field_errors({name: ["Unknown field."] for name in unknown})
    wrong = {name: ["Expected text."] for name in allowed
             if name in body and not isinstance(body[name], str)}
    if wrong:
        return _field_errors(wrong)
    if not any(name in body for name in allowed):
        return _field_errors({name: ["Send at least one of: " + ", ".join(allowed) + "."]
                              for name in allowed})
    return None


@token_required
def edit_thread(thread_id: int):
    """The asker changes the question's title and/or text (while the thread is open)."""
    user = api_user()
    thread = service.get_thread(thread_id, user)
    body = _body()
    if body is None:
        return _not_an_object()
    refused = _text_fields(body, ("title", "body"))
    if refused is not None:
        return refused
    service.edit_thread(user, thread, title=body.get("title"), body=body.get("body"))
    return jsonify(thread_json(thread, user, full=True))


@token_required
def edit_reply(thread_id: int, post_id: int):
    """The author changes their reply (while the thread is open and the reply shown)."""
    user = api_user()
    thread = service.get_thread(thread_id, user)
    post = service.get_post(thread, post_id)
    if post.is_opening:
        raise NotFound()  # the question is changed through the thread
    body = _body()
    if body is None:
        return _not_an_object()
    refused = _text_fields(body, ("body",))
    if refused is not None:
        return refused
    service.edit_post(user, post, body["body"])
    return jsonify(post_json(post, user))


def register_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/groups/<slug>/discussions", "discussions", list_threads, methods=["GET"])
    bp.add_url_rule("/groups/<slug>/discussions", "create_discussion", create_thread,
                    methods=["POST"])
    bp.add_url_rule("/discussions/<int:thread_id>", "discussion", get_thread, methods=["GET"])
    bp.add_url_rule("/discussions/<int:thread_id>/replies", "discussion_replies", create_reply,
                    methods=["POST"])
    bp.add_url_rule("/discussions/<int:thread_id>", "edit_discussion", edit_thread,
                    methods=["PATCH"])
    bp.add_url_rule("/discussions/<int:thread_id>/replies/<int:post_id>",
                    "edit_discussion_reply", edit_reply, methods=["PATCH"])


# --- OpenAPI ----------------------------------------------------------------------------------

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": ref}}}}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_ID = {"name": "thread_id", "in": "path", "required": True,
       "schema": {"type": "integer", "minimum": 1}}
_POST_ID = {"name": "post_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}}

OPENAPI_PATHS: dict[str, dict] = {
    "/api/v1/groups/{slug}/discussions": {
        "get": {
            "summary": "A working group's discussions (public groups: everyone; others: members)",
            "operationId": "listDiscussions",
            "parameters": [
                _SLUG,
                {"name": "state", "in": "query",
                 "schema": {"type": "string", "enum": list(service.FILTERS), "default": "all"}},
                {"name": "product_group", "in": "query", "schema": {"type": "string"}},
                {"name": "theme", "in": "query", "schema": {"type": "string"}},
                {"name": "page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            ],
            "responses": {
                "200": _json("#/components/schemas/DiscussionPage", "A page of threads"),
                "404": _error("No such group, or its discussions are for its members"),
            },
        },
        "post": {
            "summary": "Ask a question in a working group (its members)",
            "operationId": "createDiscussion",
            "security": [{"bearerAuth": []}],
            "parameters": [_SLUG],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/NewDiscussion"}}}},
            "responses": {
                "201": _json("#/components/schemas/DiscussionDetail", "The new thread"),
                "400": _error("A field is missing or not valid (named in 'fields')"),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": _error("Not a member of the group, or a read-only token"),
                "404": _error("No such group"),
            },
        },
    },
    "/api/v1/discussions/{thread_id}": {
        "get": {
            "summary": "One thread with its posts",
            "operationId": "getDiscussion",
            "parameters": [_ID],
            "responses": {
                "200": _json("#/components/schemas/DiscussionDetail", "The thread"),
                "404": _error("No such thread, or not one the caller may read"),
            },
        },
        "patch": {
            "summary": "Change the question's title and/or text (the asker, while the thread "
                       "is not locked); the opening post then shows edited_at",
            "operationId": "editDiscussion",
            "security": [{"bearerAuth": []}],
            "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "minProperties": 1, "additionalProperties": False,
                "properties": {
                    "title": {"type": "string", "maxLength": 200},
                    "body": {"type": "string", "description": "Markdown; members newly "
                             "mentioned with @handle are told, once"},
                },
            }}}},
            "responses": {
                "200": _json("#/components/schemas/DiscussionDetail", "The changed thread"),
                "400": _error("A field is missing or not valid (named in 'fields')"),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": _error("Not the one who asked, or a read-only token"),
                "404": _error("No such thread, or not one the caller may read"),
                "409": _error("The thread is locked, or the question hidden by an organiser"),
            },
        },
    },
    "/api/v1/discussions/{thread_id}/replies/{post_id}": {
        "patch": {
            "summary": "Change a reply's text (its author, while the thread is not locked "
                       "and the reply not hidden); it then shows edited_at",
            "operationId": "editDiscussionReply",
            "security": [{"bearerAuth": []}],
            "parameters": [_ID, _POST_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["body"], "additionalProperties": False,
                "properties": {"body": {"type": "string", "description": "Markdown; members "
                                        "newly mentioned with @handle are told, once"}},
            }}}},
            "responses": {
                "200": _json("#/components/schemas/DiscussionPost", "The changed reply"),
                "400": _error("The body is missing or not valid"),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": _error("Not the reply's author, or a read-only token"),
                "404": _error("No such reply in a thread the caller may read"),
                "409": _error("The thread is locked, or the reply hidden by an organiser"),
            },
        }
    },
    "/api/v1/discussions/{thread_id}/replies": {
        "post": {
            "summary": "Reply in a thread (members of its group, while it is not locked)",
            "operationId": "createDiscussionReply",
            "security": [{"bearerAuth": []}],
            "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["body"],
                "properties": {"body": {"type": "string", "description": "Markdown"}},
                "additionalProperties": False,
            }}}},
            "responses": {
                "201": _json("#/components/schemas/DiscussionPost", "The reply"),
                "400": _error("The body is missing or not valid"),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": _error("Not a member of the group, or a read-only token"),
                "404": _error("No such thread, or not one the caller may read"),
                "409": _error("The thread is locked"),
            },
        }
    },
}

_PERSON = {"type": ["object", "null"],
           "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
_TIME = {"type": "string", "format": "date-time"}

OPENAPI_SCHEMAS: dict[str, dict] = {
    "DiscussionPost": {
        "type": "object",
        "required": ["id", "thread_id", "accepted", "hidden", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "thread_id": {"type": "integer"},
            "author": _PERSON,
            "body": {"type": ["string", "null"],
                     "description": "Markdown; null when hidden by an organiser"},
            "html": {"type": ["string", "null"], "description": "Sanitised HTML"},
            "is_question": {"type": "boolean"},
            "accepted": {"type": "boolean"},
            "hidden": {"type": "boolean"},
            "hidden_reason": {"type": ["string", "null"]},
            "created_at": _TIME,
            "edited_at": {"type": ["string", "null"], "format": "date-time",
                          "description": "When its author last changed it; null: never"},
        },
    },
    "Discussion": {
        "type": "object",
        "required": ["id", "url", "group", "title", "language", "answered", "reply_count"],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string", "format": "uri"},
            "group": {"type": "object", "properties": {
                "id": {"type": "integer"}, "slug": {"type": "string"},
                "name": {"type": "string"}}},
            "title": {"type": "string"},
            "language": {"type": "string"},
            "author": _PERSON,
            "product_groups": {"type": "array", "items": {"type": "string"}},
            "themes": {"type": "array", "items": {"type": "string"}},
            "library_items": {"type": "array", "items": {"type": "integer"},
                              "description": "Linked items the caller may see"},
            "knowledge_gap": {"type": "boolean"},
            "addressed_by": {"type": ["object", "null"], "properties": {
                "id": {"type": "integer"}, "title": {"type": "string"}}},
            "locked": {"type": "boolean"},
            "answered": {"type": "boolean"},
            "accepted_post_id": {"type": ["integer", "null"]},
            "reply_count": {"type": "integer", "minimum": 0},
            "created_at": _TIME,
            "last_posted_at": _TIME,
        },
    },
    "DiscussionDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Discussion"},
            {"type": "object", "properties": {"posts": {
                "type": "array", "items": {"$ref": "#/components/schemas/DiscussionPost"}}}},
        ]
    },
    "DiscussionPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Discussion"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    },
    "NewDiscussion": {
        "type": "object",
        "required": ["title", "body"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "body": {"type": "string", "description": "Markdown; @handle mentions members"},
            "language": {"type": "string", "default": "en"},
            "product_groups": {"type": "array", "items": {"type": "string"}},
            "themes": {"type": "array", "items": {"type": "string"}},
            "library_items": {"type": "array", "items": {"type": "integer"}},
            "knowledge_gap": {"type": "boolean", "default": False},
        },
    },
}
