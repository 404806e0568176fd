"""The library in API v1: the browse page as JSON, one item, and creating items.

Registered on the API blueprint by ``buyergroup.api.views``; the same loader, search and
service rules as the web pages apply, so the API can show or change nothing the site would
not.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from buyergroup.accounts.service import external_url
from buyergroup.api.auth import api_user, token_required
from buyergroup.errors import json_error
from buyergroup.extensions import db
from buyergroup.library import browse as browsing
from buyergroup.library import fields as library_fields
from buyergroup.library import permissions, service
from buyergroup.library.forms import item_form, service_field_names
from buyergroup.library.models import ItemStatus, LibraryItem
from buyergroup.network.models import Organisation, WorkingGroup

MAX_PER_PAGE = 100
STATUSES = ("draft", "submitted", "published")
NUMBER_FIELDS = ("organisation_id", "group_id", "translation_of")

# Domains above the library add their own members to the item JSON: (item, user) -> dict.
ITEM_JSON_EXTRAS: list = []


def api_fields() -> tuple[str, ...]:
    """What a client may send (the web form's fields, less files and edit-only ones)."""
    return (
        *service_field_names(), "organisation_id", "group_id", "authors", "status",
        "translation_of", "translation_kind",
    )


def list_fields() -> set[str]:
    return set(library_fields.names(type_=library_fields.CODES))


def number_fields() -> set[str]:
    return {*NUMBER_FIELDS, *library_fields.names(type_=library_fields.YEAR)}


def _ref(obj) -> dict | None:
    return {"id": obj.id, "name": obj.name} if obj is not None else None


def _organisation(item: LibraryItem, user) -> dict | None:
    organisation = item.organisation
    if not permissions.can_name_organisation(user, organisation):
        return None  # a hidden organisation is not named to visitors
    return _ref(organisation)


def item_summary_json(item: LibraryItem, user, snippet: str | None = None) -> dict:
    data = {
        "id": item.id,
        "url": external_url("library.item", item_id=item.id),
        "kind": item.kind.value,
        "language": item.language,
        "translation_kind": item.translation_kind.value,
        "organisation": _organisation(item, user),
        **{f.name: f.json_value(item) for f in library_fields.FIELDS if f.in_summary},
        "published_at": item.published_at.isoformat() if item.published_at else None,
    }
    if snippet is not None:
        data["snippet"] = snippet
    return data


def item_json(item: LibraryItem, user) -> dict:
    data = item_summary_json(item, user)
    neighbours = service.neighbours(item, user)
    data.update(
        {f.name: f.json_value(item) for f in library_fields.FIELDS if not f.in_summary},
        status=item.status.value,
        visibility=item.visibility.value,
        group=_ref(item.group),
        authors=[a.name for a in item.authors],
        translations=[
            {
                "id": other.id,
                "language": other.language,
                "translation_kind": other.translation_kind.value,
                "url": external_url("library.item", item_id=other.id),
            }
            for other in neighbours.translations
        ],
        related=[other.id for other in neighbours.related],
        attachments=[
            {
                "id": a.id,
                "name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "text": a.extraction_state.value,
                "url": external_url("library.download", item_id=item.id, attachment_id=a.id),
            }
            for a in item.attachments
        ],
        updated_at=item.updated_at.isoformat(),
    )
    for extra in ITEM_JSON_EXTRAS:
        data.update(extra(item, user))
    return data


def list_items():
    user = api_user()
    per_page = min(max(request.args.get("per_page", 20, type=int) or 20, 1), MAX_PER_PAGE)
    result = browsing.browse(request.args, user, per_page=per_page, library_only=True)
    return jsonify(
        {
            "items": [item_summary_json(e.item, user, str(e.snippet)) for e in result.entries],
            "page": result.pagination.page,
            "per_page": result.pagination.per_page,
            "total": result.total,
            "pages": result.pagination.pages,
            "query": result.query.text,
            "sort": result.query.sort,
            "filters": result.query.filters,
            "facets": {
                facet.name: [
                    {"code": o.code, "label": o.label, "count": o.count, "selected": o.selected}
                    for o in facet.options
                ]
                for facet in result.facets
            },
            "suggestion": result.results.suggestion,
            "expansions": result.results.expansions,
            "estimated": result.results.estimated,
            "error": result.error,
        }
    )


def get_item(item_id: int):
    user = api_user()
    return jsonify(item_json(service.get_item(item_id, user), user))


def _type_errors(body: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    lists, numbers = list_fields(), number_fields()
    for key, value in body.items():
        if value is None:
            continue
        if key in lists or key == "authors":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[key] = ["Expected a list of text values."]
        elif isinstance(value, bool) or not isinstance(value, str | int):
            errors[key] = ["Expected a number." if key in numbers else "Expected text."]
    return errors


def _formdata(body: dict) -> MultiDict:
    """JSON to the form's fields: lists stay lists, numbers become text, authors lines."""
    data = MultiDict()
    lists = list_fields()
    for key, value in body.items():
        if value is None:
            continue
        if key == "authors":
            data.add(key, "\n".join(value))
        elif key in lists:
            for v in value:
                data.add(key, v)
        else:
            data.add(key, str(value))
    return data


def _field_errors(fields: dict[str, list[str]], message: str = "Some fields are not valid."):
    return json_error(400, "ValidationFailed", message, fields=fields)


@token_required
def create_item():
    user = api_user()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "BadRequest", "Send a JSON object (Content-Type: application/json).")
    status = body.get("status", "draft")
    if status not in STATUSES:
        return _field_errors({"status": [f"Use one of: {', '.join(STATUSES)}."]})
    body = {"visibility": "members", **body}
    unknown = sorted(set(body) - set(api_fields()))
    if unknown:
        return _field_errors({name: ["Unknown field."] for name in unknown})
    if type_errors := _type_errors(body):
        return _field_errors(type_errors)
    form = item_form(
        formdata=_formdata({k: v for k, v in body.items() if k not in ("status",
                                                                       "translation_of")}),
        meta={"csrf": False},
        organisations=db.session.scalars(select(Organisation)).all(),
        groups=db.session.scalars(select(WorkingGroup)).all(),
    )
    if not form.validate():
        return _field_errors(
            {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        )
    original = None
    if body.get("translation_of") is not None:
        raw = str(body["translation_of"])
        # Digits only, and short enough for an integer column on every backend.
        if raw.isdigit() and len(raw) < 10:
            original = db.session.get(LibraryItem, int(raw))
        # An item the client may not see is "no such item", as on the item's own URL.
        if original is None or not permissions.can_see(user, original):
            return _field_errors({"translation_of": ["No such item."]})
    # Domain errors raise on to errors.py (a field error keeps its field there); the
    # request boundary commits once the 201 is answered.
    fields = form.service_fields(user)
    if original is not None:
        item = service.add_translation(
            user, original, translation_kind=form.translation_kind.data or None, **fields
        )
        if status == "submitted":
            service.submit(user, item)
        elif status == "published":
            service.publish(user, item)
    else:
        item = service.create_item(user, status=ItemStatus(status), **fields)
    response = jsonify(item_json(item, user))
    response.status_code = 201
    response.headers["Location"] = external_url("api.library_item", item_id=item.id)
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/library", "library_items", list_items, methods=["GET"])
    bp.add_url_rule("/library", "create_library_item", create_item, methods=["POST"])
    bp.add_url_rule("/library/<int:item_id>", "library_item", get_item, methods=["GET"])
