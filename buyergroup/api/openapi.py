"""The OpenAPI 3 document for API v1. Later domains add their paths to ``PATHS``."""

from __future__ import annotations

from flask import current_app

from buyergroup.network.models import OrganisationKind


def _page_of(schema: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    }


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
            "email": {"type": "string", "format": "email"},
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
                },
            },
        ]
    },
    "OrganisationPage": _page_of("Organisation"),
    "GroupPage": _page_of("Group"),
    "MemberPage": _page_of("Member"),
}


def build_openapi() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Buyergroup API",
            "version": "1.0.0",
            "description": (
                "Read the network's organisations, working groups and members. Create a "
                "personal token on your profile page and send it as 'Authorization: Bearer "
                "<token>'. Errors are JSON objects with an 'error' member."
            ),
        },
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                "Unauthorized": {
                    "description": "Missing, invalid or revoked token",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
        },
    }
