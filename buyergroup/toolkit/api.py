"""Tender baskets, the labels register and recorded uses in API v1 (the pages' rules)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request

from buyergroup.accounts.service import external_url
from buyergroup.api.auth import api_user, token_required
from buyergroup.errors import NotFound, ValidationFailed, json_error
from buyergroup.extensions import db
from buyergroup.library import service as library_service
from buyergroup.network.models import WorkingGroup
from buyergroup.toolkit import permissions, service
from buyergroup.toolkit.models import Basket, ClauseUse


def basket_json(basket: Basket, user, *, full: bool = True) -> dict:
    data = {
        "id": basket.id,
        "name": basket.name,
        "language": basket.language,
        "share": basket.share.value,
        "group_id": basket.group_id,
        "shared_editable": basket.shared_editable,
        "owner": {"id": basket.owner_id, "name": basket.owner.name},
        "can_edit": permissions.can_edit_basket(user, basket),
        "url": external_url("toolkit.basket", basket_id=basket.id),
        "updated_at": basket.updated_at.isoformat(),
    }
    if full:
        view = service.view_of(basket, user)
        data["items"] = [
            {
                "item_id": entry.item_id,
                "title": entry.item.title,
                "kind": entry.item.kind.value,
                "phase": entry.item.phase.value if entry.item.phase else None,
                "language": entry.item.language,
                "position": entry.position,
                "note": entry.note,
                "variant_id": entry.variant_id,
                "url": external_url("library.item", item_id=entry.item_id),
            }
            for entry in view.exportable
        ]
        # Items that became hidden or archived are counted, never named or exported.
        data["unavailable_items"] = len(view.unavailable)
    return data


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("Send a JSON object (Content-Type: application/json).")
    return body


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed("Expected text.", field=key)
    return value


@token_required
def list_baskets():
    user = api_user()
    return jsonify({"items": [basket_json(b, user, full=False)
                              for b in service.baskets_for(user)]})


@token_required
def create_basket():
    user = api_user()
    body = _body()
    basket = service.create_basket(user, _text(body, "name") or "",
                                   language=_text(body, "language") or "en")
    response = jsonify(basket_json(basket, user))
    response.status_code = 201
    response.headers["Location"] = external_url("api.basket", basket_id=basket.id)
    return response


@token_required
def get_basket(basket_id: int):
    user = api_user()
    return jsonify(basket_json(service.get_basket(basket_id, user), user))


@token_required
def update_basket(basket_id: int):
    user = api_user()
    basket = service.get_basket(basket_id, user, manage=True)
    body = _body()
    unknown = sorted(set(body) - {"name", "language", "share", "group_id", "shared_editable"})
    if unknown:
        return json_error(400, "ValidationFailed", "Some fields are not valid.",
                          fields={k: ["Unknown field."] for k in unknown})
    group = None
    if body.get("group_id") is not None:
        raw = body["group_id"]
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**31:
            raise ValidationFailed("Expected a working group id.", field="group_id")
        group = db.session.get(WorkingGroup, raw)
        if group is None:
            raise ValidationFailed("No such working group.", field="group_id")
    editable = body.get("shared_editable")
    if editable is not None and not isinstance(editable, bool):
        raise ValidationFailed("Expected true or false.", field="shared_editable")
    service.update_basket(user, basket, name=_text(body, "name"),
                          language=_text(body, "language"), share=_text(body, "share"),
                          group=group or basket.group, editable=editable)
    return jsonify(basket_json(basket, user))


@token_required
def delete_basket(basket_id: int):
    user = api_user()
    service.delete_basket(user, service.get_basket(basket_id, user, manage=True))
    return "", 204


@token_required
def add_item(basket_id: int):
    user = api_user()
    basket = service.get_basket(basket_id, user, edit=True)
    body = _body()
    item_id = body.get("item_id")
    if isinstance(item_id, bool) or not isinstance(item_id, int | str):
        raise ValidationFailed("Expected the id of a library item.", field="item_id")
    service.add_item(user, basket, item_id)
    response = jsonify(basket_json(basket, user))
    response.status_code = 201
    return response


@token_required
def remove_item(basket_id: int, item_id: int):
    user = api_user()
    basket = service.get_basket(basket_id, user, edit=True)
    service.remove_entry(user, basket, service.entry_for_item(basket, item_id))
    return "", 204


@token_required
def export_basket(basket_id: int):
    from buyergroup.toolkit.views import export_response

    user = api_user()
    basket = service.get_basket(basket_id, user)
    return export_response(basket, request.args.get("format", "docx"),
                           request.args.get("language") or basket.language)


# --- Labels and uses --------------------------------------------------------------------------


def list_labels():
    from buyergroup.labels.service import all_labels

    return jsonify({"items": [
        {
            "id": label.id,
            "name": label.name,
            "issuer": label.issuer,
            "scope": label.scope.value if label.scope else None,
            "product_groups": label.product_groups,
            "url": label.url or None,
            "generations": [
                {
                    "id": g.id,
                    "name": g.name,
                    "published_on": g.published_on.isoformat() if g.published_on else None,
                    "status": g.status.value,
                    "url": g.url or None,
                }
                for g in label.generations
            ],
        }
        for label in all_labels()
    ]})


def use_json(use: ClauseUse) -> dict:
    return {
        "id": use.id,
        "item_id": use.item_id,
        "contracting_authority": use.contracting_authority,
        "tender_title": use.tender_title,
        "reference": use.reference or None,
        "date": use.used_on.isoformat(),
        "lots": use.lots or None,
        "product_group": use.product_group or None,
        "bids_received": use.bids_received,
        "outcome": use.outcome.value if use.outcome else None,
        "lessons": use.lessons,
        "recorded_by": use.recorded_by.name if use.recorded_by else None,
    }


@token_required
def record_use(item_id: int):
    user = api_user()
    if not 0 < item_id < 2**31:
        raise NotFound()
    item = library_service.get_item(item_id, user)
    if not permissions.can_record_use(user, item):
        raise NotFound()
    body = _body()
    allowed = {"contracting_authority", "tender_title", "reference", "date", "lots",
               "product_group", "bids_received", "outcome", "lessons"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        return json_error(400, "ValidationFailed", "Some fields are not valid.",
                          fields={k: ["Unknown field."] for k in unknown})
    raw_date = body.get("date")
    try:
        used_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        used_on = None
    if used_on is None:
        raise ValidationFailed("Expected a date (YYYY-MM-DD).", field="date")
    bids = body.get("bids_received")
    if bids is not None and (isinstance(bids, bool) or not isinstance(bids, int)):
        raise ValidationFailed("Expected a whole number.", field="bids_received")
    for key in allowed - {"date", "bids_received"}:
        _text(body, key)
    use = service.record_use(user, item, service.UseData(
        contracting_authority=body.get("contracting_authority") or "",
        tender_title=body.get("tender_title") or "",
        used_on=used_on,
        reference=body.get("reference") or "",
        lots=body.get("lots") or "",
        product_group=body.get("product_group") or "",
        bids_received=bids,
        outcome=body.get("outcome") or None,
        lessons=body.get("lessons") or "",
    ))
    response = jsonify(use_json(use))
    response.status_code = 201
    return response


def item_json_extras(item, user) -> dict:
    """What the toolkit adds to the library's item JSON."""
    from buyergroup.labels.service import cited_generations

    cited = cited_generations(item)
    return {
        "labels": [
            {"label": g.label.name, "label_id": g.label_id, "generation": g.name,
             "generation_id": g.id, "status": g.status.value}
            for g, _stale in cited
        ],
        "stale_labels": [
            {"label": g.label.name, "generation": g.name, "status": g.status.value}
            for g, stale in cited if stale
        ],
        "uses_count": service.uses_count(item),
    }


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/baskets", "baskets", list_baskets, methods=["GET"])
    bp.add_url_rule("/baskets", "create_basket", create_basket, methods=["POST"])
    bp.add_url_rule("/baskets/<int:basket_id>", "basket", get_basket, methods=["GET"])
    bp.add_url_rule("/baskets/<int:basket_id>", "update_basket", update_basket,
                    methods=["PATCH"])
    bp.add_url_rule("/baskets/<int:basket_id>", "delete_basket", delete_basket,
                    methods=["DELETE"])
    bp.add_url_rule("/baskets/<int:basket_id>/items", "add_basket_item", add_item,
                    methods=["POST"])
    bp.add_url_rule("/baskets/<int:basket_id>/items/<int:item_id>", "remove_basket_item",
                    remove_item, methods=["DELETE"])
    bp.add_url_rule("/baskets/<int:basket_id>/export", "export_basket", export_basket,
                    methods=["GET"])
    bp.add_url_rule("/labels", "labels", list_labels, methods=["GET"])
    bp.add_url_rule("/library/<int:item_id>/uses", "record_use", record_use, methods=["POST"])
