"""API v1 endpoints. Each returns plain JSON; errors are JSON too (see errors.py)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from buyergroup.accounts.permissions import can_see_email
from buyergroup.accounts.service import DirectoryFilters, directory_query, external_url
from buyergroup.api.auth import api_token, api_user, refuse_read_only_writes, token_required
from buyergroup.api.openapi import build_openapi
from buyergroup.api.params import check_query_parameters
from buyergroup.community import api as community_api
from buyergroup.discussions import api as discussions_api
from buyergroup.events import api as events_api
from buyergroup.extensions import db
from buyergroup.library import api as library_api
from buyergroup.network.models import Organisation, WorkingGroup
from buyergroup.network.service import (
    group_list_loading,
    organisation_list_loading,
    visible_groups,
    visible_organisations,
)
from buyergroup.toolkit import api as toolkit_api

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(refuse_read_only_writes)
bp.before_request(check_query_parameters)
library_api.register(bp)
events_api.register_routes(bp)
community_api.register_routes(bp)
discussions_api.register_routes(bp)
toolkit_api.register(bp)

MAX_PER_PAGE = 100


def _page_args() -> tuple[int, int]:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = min(max(request.args.get("per_page", 20, type=int) or 20, 1), MAX_PER_PAGE)
    return page, per_page


def paginated(query, serialise) -> dict:
    page, per_page = _page_args()
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {
        "items": [serialise(item) for item in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


def organisation_json(organisation: Organisation) -> dict:
    return {
        "id": organisation.id,
        "slug": organisation.slug,
        "name": organisation.name,
        "short_name": organisation.short_name or None,
        "kind": organisation.kind.value,
        "country": organisation.country,
        "website": organisation.website or None,
        "description": organisation.description,
        "affiliations": [
            {
                "name": a.name,
                "since": a.since.isoformat() if a.since else None,
                "until": a.until.isoformat() if a.until else None,
                "note": a.note or None,
            }
            for a in organisation.affiliations
        ],
        # Built on BASE_URL, like links in emails: behind the HTTPS proxy the request's own
        # host is the internal address (url_for(_external=True) gave http://127.0.0.1:8000).
        "url": external_url("network.organisation", slug=organisation.slug),
    }


def group_json(group: WorkingGroup) -> dict:
    return {
        "id": group.id,
        "slug": group.slug,
        "name": group.name,
        "summary": group.summary,
        "description": group.description,
        "languages": group.languages,
        "join_policy": group.join_policy.value,
        "founded_on": group.founded_on.isoformat() if group.founded_on else None,
        "member_count": group.listed_member_count,
        "url": external_url("network.group", slug=group.slug),
    }


def member_json(user, *, include_private: bool = True) -> dict:
    data = {
        "id": user.id,
        "name": user.name,
        "organisation": (
            {"id": user.organisation.id, "name": user.organisation.name}
            if user.organisation else None
        ),
        "job_title": user.job_title or None,
        "country": user.country,
        "languages": user.languages,
        "expertise": user.expertise,
        "bio": user.bio,
    }
    if include_private:
        data["email"] = user.email
    return data


@bp.get("/me")
@token_required
def me():
    user = api_user()
    data = member_json(user)
    data.update(role=user.role.value, locale=user.locale, timezone=user.timezone,
                token=token_json(api_token()))
    return jsonify(data)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def token_json(token) -> dict | None:
    """The token this request came with (None for a signed-in browser)."""
    if token is None:
        return None
    return {
        "name": token.name,
        "scope": token.scope.value,
        "created_at": token.created_at.isoformat(),
        "expires_at": _iso(token.expires_at),
        "last_used_at": _iso(token.last_used_at),
    }


@bp.get("/organisations")
def organisations():
    query = visible_organisations(api_user()).options(*organisation_list_loading())
    if country := request.args.get("country"):
        query = query.where(Organisation.country == country.upper())
    return jsonify(paginated(query, organisation_json))


@bp.get("/groups")
def groups():
    return jsonify(paginated(visible_groups(api_user()).options(*group_list_loading()),
                             group_json))


@bp.get("/members")
@token_required
def members():
    filters = DirectoryFilters(
        text=request.args.get("q", "")[:100],
        country=request.args.get("country", ""),
        organisation_id=request.args.get("organisation", type=int),
        expertise=request.args.get("expertise", ""),
        language=request.args.get("language", ""),
    )
    viewer = api_user()
    # The directory leaves out who chose not to be listed; an email only where allowed.
    return jsonify(paginated(
        directory_query(filters),
        lambda user: member_json(user, include_private=can_see_email(viewer, user)),
    ))


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_openapi())


