"""The audit endpoint's part of the OpenAPI document (merged by ``buyergroup.api.openapi``).

Kept apart from ``api.py`` so that the document can import it without importing the API's
views (no import cycle).
"""

from __future__ import annotations

from buyergroup.audit.models import AuditAction
from buyergroup.openapi_schemas import page_of

OPENAPI_PATHS = {
    "/api/v1/audit": {
        "get": {
            "summary": "The audit log, newest first (administrators only)",
            "operationId": "listAuditEntries",
            # Read by tests/api: a member's token is refused (403); an admin's is needed.
            "x-required-role": "admin",
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"name": "page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                {"name": "actor", "in": "query", "schema": {"type": "string"},
                 "description": "Part of the actor's name or email"},
                {"name": "action", "in": "query",
                 "schema": {"type": "string", "enum": [a.value for a in AuditAction]}},
                {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"},
                 "description": "First UTC day, inclusive"},
                {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"},
                 "description": "Last UTC day, inclusive"},
            ],
            "responses": {
                "200": {
                    "description": "A page of audit entries",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/AuditPage"}}},
                },
                "400": {
                    "description": "A parameter could not be read; 'parameter' names it",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/AuditParameterError"}}},
                },
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {
                    "description": "The token's member is not an administrator",
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        }
    }
}

OPENAPI_SCHEMAS = {
    "AuditEntry": {
        "type": "object",
        "required": ["id", "at", "action", "actor", "target", "address", "details"],
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "action": {"type": "string", "enum": [a.value for a in AuditAction]},
            "actor": {
                "type": ["object", "null"],
                "description": "null for the system; name and email are null once erased",
                "required": ["id", "name", "email", "erased"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": ["string", "null"]},
                    "email": {"type": ["string", "null"]},
                    "erased": {"type": "boolean"},
                },
            },
            "target": {
                "type": ["object", "null"],
                "required": ["type", "id", "label"],
                "properties": {
                    "type": {"type": "string"},
                    "id": {"type": ["integer", "null"]},
                    "label": {"type": ["string", "null"]},
                },
            },
            "address": {"type": ["string", "null"]},
            "details": {"type": "object"},
        },
    },
    "AuditPage": page_of("AuditEntry"),
    "AuditParameterError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message", "parameter"],
                "properties": {
                    "status": {"type": "integer", "const": 400},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "parameter": {"type": "string"},
                },
            }
        },
    },
}
