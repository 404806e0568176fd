"""The OpenAPI 3 document for API v1. Later domains add their paths to ``PATHS``."""

from __future__ import annotations

from flask import current_app

from buyergroup.library import fields as library_fields
from buyergroup.library.models import (
    ExtractionState,
    ItemKind,
    ItemStatus,
    TranslationKind,
    Visibility,
)
from buyergroup.network.models import OrganisationKind
from buyergroup.openapi_schemas import page_of

PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
]

ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
}


def _json(schema_ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
    }


PATHS: dict[str, dict] = {
    "/api/v1/me": {
        "get": {
            "summary": "The member the token belongs to",
            "operationId": "getMe",
            "security": [{"bearerAuth": []}],
            "responses": {"200": _json("#/components/schemas/Me", "The member"), **ERRORS},
        }
    },
    "/api/v1/organisations": {
        "get": {
            "summary": "Organisations in the network (public ones for visitors)",
            "operationId": "listOrganisations",
            "parameters": [
                *PAGE_PARAMETERS,
                {"name": "country", "in": "query", "schema": {"type": "string", "example": "BE"}},
            ],
            "responses": {
                "200": _json("#/components/schemas/OrganisationPage", "A page of organisations")
            },
        }
    },
    "/api/v1/groups": {
        "get": {
            "summary": "Working groups (public ones for visitors)",
            "operationId": "listGroups",
            "parameters": PAGE_PARAMETERS,
            "responses": {"200": _json("#/components/schemas/GroupPage", "A page of groups")},
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This OpenAPI document",
            "operationId": "getOpenApi",
            "security": [],  # no token needed, none used
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 description of API v1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/api/v1/members": {
        "get": {
            "summary": "The member directory (members only)",
            "operationId": "listMembers",
            "security": [{"bearerAuth": []}],
            "parameters": [
                *PAGE_PARAMETERS,
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "country", "in": "query", "schema": {"type": "string"}},
                {"name": "organisation", "in": "query", "schema": {"type": "integer"}},
                {"name": "expertise", "in": "query", "schema": {"type": "string"}},
                {"name": "language", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": _json("#/components/schemas/MemberPage", "A page of members"),
                **ERRORS,
            },
        }
    },
}

NULLABLE_STRING = {"type": ["string", "null"]}

# --- Library ----------------------------------------------------------------------------------

_LIBRARY_FACETS = ("kind", "phase", "product_group", "theme", "language", "country",
                   "organisation", "year", "ambition", "verification")  # fmt: skip
PATHS["/api/v1/library"] = {
    "get": {
        "summary": "Browse and search the library (what the library page shows, as JSON)",
        "description": (
            "Published items the caller may see: public ones without a token; also members' "
            "and their working groups' items with one. Filters are repeatable (OR within a "
            "filter, AND across filters); facet counts follow the query and the caller's "
            "access. A query the search cannot read comes back with 'error' set."
        ),
        "operationId": "searchLibrary",
        "parameters": [
            *PAGE_PARAMETERS,
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200},
             "description": "Words in any language; \"a phrase\", OR, -word, word*"},
            {"name": "sort", "in": "query",
             "schema": {"type": "string",
                        "enum": ["relevance", "newest", "title", "most_used"]}},
            *(
                {"name": facet, "in": "query", "style": "form", "explode": True,
                 "schema": {"type": "array", "items": {"type": "string"}}}
                for facet in _LIBRARY_FACETS
            ),
        ],
        "responses": {
            "200": _json("#/components/schemas/LibraryPage", "A page of results with facets")
        },
    },
    "post": {
        "summary": "Add an item to the library",
        "description": (
            "Members create drafts (or submit them for review with status 'submitted'); "
            "organisers may publish at once. With 'translation_of', the item is a "
            "translation of that item. Invalid fields give a 400 with a message per field."
        ),
        "operationId": "createLibraryItem",
        "security": [{"bearerAuth": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/LibraryItemInput"}}
            },
        },
        "responses": {
            "201": _json("#/components/schemas/LibraryItem", "The new item"),
            "400": _json("#/components/schemas/ValidationError", "Invalid fields"),
            "403": _json("#/components/schemas/Error", "Not allowed (e.g. a member publishing)"),
            **ERRORS,
        },
    },
}
PATHS["/api/v1/library/{item_id}"] = {
    "get": {
        "summary": "One library item with its translations, files and related items",
        "operationId": "getLibraryItem",
        "parameters": [
            {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {
            "200": _json("#/components/schemas/LibraryItem", "The item"),
            "404": _json("#/components/schemas/Error", "No such item, or not visible to you"),
        },
    }
}

# --- Tender toolkit: baskets, labels, recorded uses ----------------------------------------

_ID = {"type": "integer", "minimum": 1}
_BASKET_ID = {"name": "basket_id", "in": "path", "required": True, "schema": _ID}
_NOT_FOUND = _json("#/components/schemas/Error", "No such basket or item, or not visible to you")
_INVALID = _json("#/components/schemas/ValidationError", "Invalid fields")
_BASKET_INPUT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "language": {"type": "string", "enum": ["en", "nl", "fr", "de"]},
        "share": {"type": "string", "enum": ["private", "organisation", "group"]},
        "group_id": {"type": "integer"},
        "shared_editable": {"type": "boolean"},
    },
}
EXPORT_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
    "application/vnd.oasis.opendocument.text": {},
    "text/markdown": {},
    "text/plain": {},
}
PATHS["/api/v1/baskets"] = {
    "get": {
        "summary": "Your tender baskets and those shared with you",
        "operationId": "listBaskets",
        "security": [{"bearerAuth": []}],
        "responses": {"200": _json("#/components/schemas/BasketList", "Baskets"), **ERRORS},
    },
    "post": {
        "summary": "Create a (private) tender basket",
        "operationId": "createBasket",
        "security": [{"bearerAuth": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            **_BASKET_INPUT, "required": ["name"]}}}},
        "responses": {
            "201": _json("#/components/schemas/Basket", "The new basket"),
            "400": _INVALID,
            "409": _json("#/components/schemas/ValidationError", "You have a basket of that name"),
            **ERRORS,
        },
    },
}
PATHS["/api/v1/baskets/{basket_id}"] = {
    "get": {
        "summary": "One basket with its items in procurement order",
        "description": "Items that became hidden or archived are counted in "
                       "'unavailable_items', never listed.",
        "operationId": "getBasket",
        "security": [{"bearerAuth": []}],
        "parameters": [_BASKET_ID],
        "responses": {"200": _json("#/components/schemas/Basket", "The basket"),
                      "404": _NOT_FOUND, **ERRORS},
    },
    "patch": {
        "summary": "Rename, choose the language or share a basket (its owner only)",
        "operationId": "updateBasket",
        "security": [{"bearerAuth": []}],
        "parameters": [_BASKET_ID],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": _BASKET_INPUT}}},
        "responses": {"200": _json("#/components/schemas/Basket", "The basket"),
                      "400": _INVALID, "403": _json("#/components/schemas/Error", "Not yours"),
                      "404": _NOT_FOUND, **ERRORS},
    },
    "delete": {
        "summary": "Delete a basket (its owner only)",
        "operationId": "deleteBasket",
        "security": [{"bearerAuth": []}],
        "parameters": [_BASKET_ID],
        "responses": {"204": {"description": "Deleted"}, "404": _NOT_FOUND, **ERRORS},
    },
}
PATHS["/api/v1/baskets/{basket_id}/items"] = {
    "post": {
        "summary": "Add a criterion or clause to a basket",
        "operationId": "addBasketItem",
        "security": [{"bearerAuth": []}],
        "parameters": [_BASKET_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["item_id"],
            "properties": {"item_id": {"type": "integer"}}}}}},
        "responses": {"201": _json("#/components/schemas/Basket", "The basket"),
                      "400": _INVALID, "404": _NOT_FOUND,
                      "409": _json("#/components/schemas/ValidationError", "Already in it"),
                      **ERRORS},
    },
}
PATHS["/api/v1/baskets/{basket_id}/items/{item_id}"] = {
    "delete": {
        "summary": "Remove an item from a basket",
        "operationId": "removeBasketItem",
        "security": [{"bearerAuth": []}],
        "parameters": [_BASKET_ID, {"name": "item_id", "in": "path", "required": True,
                                    "schema": _ID}],
        "responses": {"204": {"description": "Removed"}, "404": _NOT_FOUND, **ERRORS},
    },
}
PATHS["/api/v1/baskets/{basket_id}/export"] = {
    "get": {
        "summary": "The basket as a tender annex (DOCX, ODT, Markdown or text)",
        "description": "Headings and notes in the chosen language; each item's text in that "
                       "language where a translation exists (official first, then member "
                       "translations, marked), otherwise the original with a note.",
        "operationId": "exportBasket",
        "security": [{"bearerAuth": []}],
        "parameters": [
            _BASKET_ID,
            {"name": "format", "in": "query",
             "schema": {"type": "string", "enum": ["docx", "odt", "md", "txt"],
                        "default": "docx"}},
            {"name": "language", "in": "query",
             "schema": {"type": "string", "enum": ["en", "nl", "fr", "de"]}},
        ],
        "responses": {
            "200": {"description": "The document, as an attachment", "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in EXPORT_TYPES}},
            "400": _json("#/components/schemas/Error", "Empty basket, or an unknown format"),
            "404": _NOT_FOUND, **ERRORS,
        },
    },
}
PATHS["/api/v1/labels"] = {
    "get": {
        "summary": "The labels register, each label with its generations",
        "operationId": "listLabels",
        "responses": {"200": _json("#/components/schemas/LabelList", "Labels")},
    },
}
PATHS["/api/v1/library/{item_id}/uses"] = {
    "post": {
        "summary": "Record that a criterion or clause was used in a tender",
        "operationId": "recordUse",
        "security": [{"bearerAuth": []}],
        "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": _ID}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/UseInput"}}}},
        "responses": {"201": _json("#/components/schemas/Use", "The recorded use"),
                      "400": _INVALID, "404": _NOT_FOUND, **ERRORS},
    },
}

TOOLKIT_ITEM_PROPERTIES = {
    "labels": {"type": "array", "description": "Label generations the item cites",
               "items": {"type": "object", "properties": {
                   "label": {"type": "string"}, "label_id": {"type": "integer"},
                   "generation": {"type": "string"}, "generation_id": {"type": "integer"},
                   "status": {"type": "string",
                              "enum": ["current", "superseded", "withdrawn"]}}}},
    "stale_labels": {"type": "array", "description": "Cited generations no longer current",
                     "items": {"type": "object", "properties": {
                         "label": {"type": "string"}, "generation": {"type": "string"},
                         "status": {"type": "string"}}}},
    "uses_count": {"type": "integer", "minimum": 0,
                   "description": "Recorded uses in tenders (hidden ones not counted)"},
}

_USE_PROPERTIES = {
    "contracting_authority": {"type": "string", "maxLength": 200},
    "tender_title": {"type": "string", "maxLength": 300},
    "reference": {"type": ["string", "null"], "maxLength": 120,
                  "description": "For example a TED notice number"},
    "date": {"type": "string", "format": "date", "description": "Not in the future"},
    "lots": {"type": ["string", "null"], "maxLength": 200},
    "product_group": {"type": ["string", "null"]},
    "bids_received": {"type": ["integer", "null"], "minimum": 0},
    "outcome": {"type": ["string", "null"],
                "enum": ["awarded", "no_bids", "cancelled", "ongoing", None]},
    "lessons": {"type": "string", "maxLength": 10000},
}
TOOLKIT_SCHEMAS = {
    "Basket": {
        "type": "object",
        "required": ["id", "name", "language", "share"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "language": {"type": "string"},
            "share": {"type": "string", "enum": ["private", "organisation", "group"]},
            "group_id": {"type": ["integer", "null"]},
            "shared_editable": {"type": "boolean"},
            "owner": {"$ref": "#/components/schemas/NamedRef"},
            "can_edit": {"type": "boolean"},
            "url": {"type": "string", "format": "uri"},
            "updated_at": {"type": "string", "format": "date-time"},
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "item_id": {"type": "integer"}, "title": {"type": "string"},
                "kind": {"type": "string"}, "phase": {"type": ["string", "null"]},
                "language": {"type": "string"}, "position": {"type": "integer"},
                "note": {"type": "string"}, "variant_id": {"type": ["integer", "null"]},
                "url": {"type": "string", "format": "uri"}}}},
            "unavailable_items": {"type": "integer", "minimum": 0},
        },
    },
    "BasketList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Basket"}}}},
    "LabelList": {"type": "object", "required": ["items"], "properties": {"items": {
        "type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "issuer": {"type": "string"},
            "scope": {"type": ["string", "null"]},
            "product_groups": {"type": "array", "items": {"type": "string"}},
            "url": {"type": ["string", "null"]},
            "generations": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "published_on": {"type": ["string", "null"], "format": "date"},
                "status": {"type": "string", "enum": ["current", "superseded", "withdrawn"]},
                "url": {"type": ["string", "null"]}}}},
        }}}}},
    "UseInput": {"type": "object", "additionalProperties": False,
                 "required": ["contracting_authority", "tender_title", "date"],
                 "properties": _USE_PROPERTIES},
    "Use": {"type": "object", "properties": {
        "id": {"type": "integer"}, "item_id": {"type": "integer"}, **_USE_PROPERTIES,
        "recorded_by": {"type": ["string", "null"]}}},
}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "parameter": {"type": "string",
                                  "description": "The query parameter that was refused"},
                },
            }
        },
    },
    "Affiliation": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "since": {"type": ["string", "null"], "format": "date"},
            "until": {"type": ["string", "null"], "format": "date"},
            "note": NULLABLE_STRING,
        },
    },
    "Organisation": {
        "type": "object",
        "required": ["id", "slug", "name", "kind"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "short_name": NULLABLE_STRING,
            "kind": {"type": "string", "enum": [k.value for k in OrganisationKind]},
            "country": NULLABLE_STRING,
            "website": NULLABLE_STRING,
            "description": {"type": "string"},
            "affiliations": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Affiliation"},
            },
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Group": {
        "type": "object",
        "required": ["id", "slug", "name"],
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "summary": {"type": "string"},
            "description": {"type": "string"},
            "languages": {"type": "array", "items": {"type": "string"}},
            "join_policy": {"type": "string", "enum": ["open", "approval"]},
            "founded_on": {"type": ["string", "null"], "format": "date"},
            "member_count": {"type": "integer"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Member": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email",
                      "description": "Only when the member allows members to see it (and "
                                     "always one's own and to administrators)"},
            "organisation": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            "job_title": NULLABLE_STRING,
            "country": NULLABLE_STRING,
            "languages": {"type": "array", "items": {"type": "string"}},
            "expertise": {"type": "array", "items": {"type": "string"}},
            "bio": {"type": "string"},
        },
    },
    "Me": {
        "allOf": [
            {"$ref": "#/components/schemas/Member"},
            {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": ["member", "organiser", "admin"]},
                    "locale": NULLABLE_STRING,
                    "timezone": {"type": "string"},
                    "token": {"oneOf": [{"$ref": "#/components/schemas/ApiToken"},
                                        {"type": "null"}]},
                },
            },
        ]
    },
    "ApiToken": {
        "type": "object",
        "description": "The personal token this request was sent with.",
        "required": ["name", "scope", "created_at", "expires_at", "last_used_at"],
        "properties": {
            "name": {"type": "string"},
            "scope": {
                "type": "string", "enum": ["read", "write"],
                "description": "read: GET only; write: also POST, PUT, PATCH and DELETE.",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": ["string", "null"], "format": "date-time",
                           "description": "null: works until revoked."},
            "last_used_at": {"type": ["string", "null"], "format": "date-time",
                             "description": "Recorded to the hour."},
        },
    },
    "NamedRef": {
        "type": ["object", "null"],
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    },
    "LibraryFacetOption": {
        "type": "object",
        "required": ["code", "label", "count", "selected"],
        "properties": {
            "code": {"type": "string"},
            "label": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "selected": {"type": "boolean"},
        },
    },
    "LibraryPage": {
        "allOf": [
            page_of("LibraryItemSummary"),
            {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "sort": {"type": "string"},
                    "filters": {"type": "object",
                                "additionalProperties": {"type": "array",
                                                         "items": {"type": "string"}}},
                    "facets": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/LibraryFacetOption"},
                        },
                    },
                    "suggestion": {"type": ["string", "null"],
                                   "description": "\"Did you mean\": a corrected query"},
                    "expansions": {"type": "array", "items": {"type": "string"},
                                   "description": "Glossary terms also searched for"},
                    "estimated": {"type": "boolean",
                                  "description": "The search matched so many documents that "
                                                 "total and facet counts are estimates (within "
                                                 "about 1 %) from a sample, and the items are "
                                                 "the sample's best; pages reaches as far as "
                                                 "the sample"},
                    "error": {"type": ["string", "null"],
                              "description": "Why the query could not be read"},
                },
            },
        ]
    },
    "ValidationError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message", "fields"],
                "properties": {
                    "status": {"type": "integer", "const": 400},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "OrganisationPage": page_of("Organisation"),
    "GroupPage": page_of("Group"),
    "MemberPage": page_of("Member"),
}


# --- Events -----------------------------------------------------------------------------------

from buyergroup.events.api import OPENAPI_PATHS as _EVENT_PATHS  # noqa: E402
from buyergroup.events.api import OPENAPI_SCHEMAS as _EVENT_SCHEMAS  # noqa: E402

PATHS.update(_EVENT_PATHS)
SCHEMAS.update(_EVENT_SCHEMAS)

# --- Audit log --------------------------------------------------------------------------------

from buyergroup.audit.openapi import OPENAPI_PATHS as _AUDIT_PATHS  # noqa: E402
from buyergroup.audit.openapi import OPENAPI_SCHEMAS as _AUDIT_SCHEMAS  # noqa: E402

PATHS.update(_AUDIT_PATHS)
SCHEMAS.update(_AUDIT_SCHEMAS)

# --- Privacy: the data export and erasure ------------------------------------------------------

from buyergroup.privacy.openapi import OPENAPI_ME_DELETE as _ME_DELETE  # noqa: E402
from buyergroup.privacy.openapi import OPENAPI_PATHS as _PRIVACY_PATHS  # noqa: E402
from buyergroup.privacy.openapi import OPENAPI_SCHEMAS as _PRIVACY_SCHEMAS  # noqa: E402

PATHS.update(_PRIVACY_PATHS)
PATHS["/api/v1/me"]["delete"] = _ME_DELETE
SCHEMAS.update(_PRIVACY_SCHEMAS)

# --- Community: follows, notifications, preferences, the library review -----------------------

from buyergroup.community.api import OPENAPI_PATHS as _COMMUNITY_PATHS  # noqa: E402
from buyergroup.community.api import OPENAPI_SCHEMAS as _COMMUNITY_SCHEMAS  # noqa: E402

PATHS.update(_COMMUNITY_PATHS)
SCHEMAS.update(_COMMUNITY_SCHEMAS)

# --- Discussions ------------------------------------------------------------------------------

from buyergroup.discussions.api import OPENAPI_PATHS as _DISCUSSION_PATHS  # noqa: E402
from buyergroup.discussions.api import OPENAPI_SCHEMAS as _DISCUSSION_SCHEMAS  # noqa: E402

PATHS.update(_DISCUSSION_PATHS)
SCHEMAS.update(_DISCUSSION_SCHEMAS)


def library_item_schemas() -> dict:
    """The item schemas, their content fields from ``library.fields`` (built per request, so
    a field added there is in the document too)."""
    return {
        "LibraryItemSummary": {
            "type": "object",
            "required": ["id", "url", "kind", "title", "language"],
            "properties": {
                "id": {"type": "integer"},
                "url": {"type": "string", "format": "uri"},
                "kind": {"type": "string", "enum": [k.value for k in ItemKind]},
                "language": {"type": "string", "examples": ["nl"]},
                "translation_kind": {"type": "string",
                                     "enum": [t.value for t in TranslationKind]},
                "organisation": {"$ref": "#/components/schemas/NamedRef"},
                **library_fields.json_properties(summary=True),
                "published_at": {"type": ["string", "null"], "format": "date-time"},
                "snippet": {"type": "string",
                            "description": "Escaped text with <mark> around the matched words"},
            },
        },
        "LibraryItem": {
            "allOf": [
                {"$ref": "#/components/schemas/LibraryItemSummary"},
                {
                    "type": "object",
                    "properties": {
                        **library_fields.json_properties(summary=False),
                        "status": {"type": "string", "enum": [s.value for s in ItemStatus]},
                        "visibility": {"type": "string",
                                       "enum": [v.value for v in Visibility]},
                        "group": {"$ref": "#/components/schemas/NamedRef"},
                        "authors": {"type": "array", "items": {"type": "string"}},
                        "translations": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "language": {"type": "string"},
                                    "translation_kind": {"type": "string"},
                                    "url": {"type": "string", "format": "uri"},
                                },
                            },
                        },
                        "related": {"type": "array", "items": {"type": "integer"}},
                        "attachments": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "name": {"type": "string"},
                                    "content_type": {"type": "string"},
                                    "size": {"type": "integer"},
                                    "text": {"type": "string",
                                             "enum": [s.value for s in ExtractionState],
                                             "description": "Whether the file's text was read"},
                                    "url": {"type": "string", "format": "uri"},
                                },
                            },
                        },
                        "updated_at": {"type": "string", "format": "date-time"},
                        **TOOLKIT_ITEM_PROPERTIES,
                    },
                },
            ]
        },
        "LibraryItemInput": {
            "type": "object",
            "required": ["kind", "title", "language"],
            "additionalProperties": False,
            "properties": {
                "kind": {"type": "string", "enum": [k.value for k in ItemKind]},
                "language": {"type": "string", "examples": ["en", "nl", "fr", "de"]},
                **library_fields.input_properties(),
                "status": {"type": "string", "enum": ["draft", "submitted", "published"],
                           "default": "draft",
                           "description": "'published' needs an organiser's token"},
                "visibility": {"type": "string", "enum": [v.value for v in Visibility],
                               "default": "members"},
                "group_id": {"type": "integer",
                             "description": "Required with visibility 'group'"},
                "organisation_id": {"type": "integer"},
                "authors": {"type": "array", "items": {"type": "string"}},
                "translation_of": {"type": "integer",
                                   "description": "The id of the item this translates"},
                "translation_kind": {"type": "string", "enum": ["member", "official"]},
            },
        },
    }


#: Operations open to visitors take a token too (it widens what they see).
OPTIONAL_TOKEN = [{}, {"bearerAuth": []}]


def _complete(paths: dict) -> dict:
    """What every operation must say, filled in where a domain left it out: its security
    (anonymous or a token), the integer range a parameter accepts (an integer column's),
    and the 400 an invalid parameter and the 404 an unknown id get."""
    from buyergroup.core.params import INT_MAX

    completed = {}
    for path, item in paths.items():
        completed[path] = {}
        for method, operation in item.items():
            operation = {**operation}
            operation.setdefault("security", OPTIONAL_TOKEN)
            parameters = []
            for parameter in operation.get("parameters", []):
                schema = dict(parameter.get("schema", {}))
                target = schema if schema.get("type") != "array" else dict(schema["items"])
                if target.get("type") == "integer":
                    target.setdefault("maximum", INT_MAX)
                    if parameter.get("in") == "path":
                        target.setdefault("minimum", 0)
                if schema.get("type") == "array":
                    schema["items"] = target
                else:
                    schema = target
                parameters.append({**parameter, "schema": schema})
            if parameters:
                operation["parameters"] = parameters
            responses = dict(operation.get("responses", {}))
            if any(p.get("in") == "query" for p in parameters) or "requestBody" in operation:
                responses.setdefault("400", {"$ref": "#/components/responses/InvalidParameter"})
            if any(p.get("in") == "path" for p in parameters):
                responses.setdefault("404", {"$ref": "#/components/responses/NotFound"})
            operation["responses"] = responses
            completed[path][method] = operation
    return completed


def build_openapi() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Buyergroup API",
            "version": "1.0.0",
            "description": (
                "Read the network's organisations, working groups and members. Create a "
                "personal token on your profile page and send it as 'Authorization: Bearer "
                "<token>'. A token's scope is 'read' (GET only) or 'write' (also POST, PUT, "
                "PATCH and DELETE); a read-only token on a write gets 403 InsufficientScope. "
                "An expired, revoked or unknown token gets 401. Errors are JSON objects with "
                "an 'error' member; a body that is not valid JSON (or not valid Unicode, or "
                "nested too deeply) is a 400."
            ),
        },
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "paths": _complete(PATHS),
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A personal token (scope read or write, optional expiry).",
            }},
            "schemas": {**SCHEMAS, **library_item_schemas(), **TOOLKIT_SCHEMAS},
            "responses": {
                "Unauthorized": {
                    "description": "Missing, invalid, revoked or expired token",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
                "InvalidParameter": {
                    "description": "A parameter's value is not one the API accepts "
                                   "('parameter' names it)",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
                "NotFound": {
                    "description": "No such resource, or not visible to you",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
                "InsufficientScope": {
                    "description": "A read-only token was sent to an endpoint that writes",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        },
    }
