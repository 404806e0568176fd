"""The privacy endpoints' part of the OpenAPI document (merged by ``buyergroup.api.openapi``)."""

from __future__ import annotations

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

OPENAPI_PATHS = {
    "/api/v1/me/export": {
        "get": {
            "summary": "Everything the site keeps about the token's member (data export)",
            "description": (
                "The same data as the ZIP on /profile/data, as JSON; uploaded files are links "
                "in 'files'. Each export is recorded in the audit log (data_exported)."
            ),
            "operationId": "exportMe",
            "security": [{"bearerAuth": []}],
            "responses": {
                "200": {"description": "The member's data",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/MemberExport"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }
    },
}

#: Merged into the existing "/api/v1/me" path item (its GET is the API's own).
OPENAPI_ME_DELETE = {
    "summary": "Erase the token's member's account",
    "description": (
        "Send {\"confirm\": \"<the member's email>\"}. Deletes the profile, sessions, tokens, "
        "calendar feeds, registrations (seats go to the waiting list) and memberships; "
        "published library items and comments stay, shown as by a former member. Refused "
        "with 409 while the member is the last administrator or a group's last organiser. "
        "Needs a token with the 'write' scope. Recorded in the audit log (account_erased)."
    ),
    "operationId": "eraseMe",
    "security": [{"bearerAuth": []}],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["confirm"],
            "properties": {"confirm": {"type": "string", "format": "email",
                                       "description": "The member's own email address"}},
        }}},
    },
    "responses": {
        "200": {"description": "The account is erased",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["erased", "id"],
                    "properties": {
                        "erased": {"type": "boolean"},
                        "id": {"type": "integer"},
                        "registrations_released": {"type": "integer"},
                        "drafts_deleted": {"type": "integer"},
                    }}}}},
        "400": {"description": "The confirmation is missing or is not the member's email",
                "content": _ERROR},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/InsufficientScope"},
        "409": {"description": "Hand over first: the last administrator, or the last "
                               "organiser of a group", "content": _ERROR},
    },
}

_LIST = {"type": "array", "items": {"type": "object"}}

OPENAPI_SCHEMAS = {
    "MemberExport": {
        "type": "object",
        "required": ["format", "exported_at", "profile", "privacy_choices", "files"],
        "properties": {
            "format": {"type": "string", "const": "buyergroup-member-export/1"},
            "exported_at": {"type": "string", "format": "date-time"},
            "profile": {"type": "object"},
            "privacy_choices": {
                "type": "object",
                "properties": {
                    "email_visible_to_members": {"type": "boolean"},
                    "listed_in_directory": {"type": "boolean"},
                    "name_on_participant_lists_by_default": {"type": "boolean"},
                },
            },
            "group_memberships": _LIST,
            "event_registrations": _LIST,
            "calendar_feeds": _LIST,
            "api_tokens": _LIST,
            "sessions": _LIST,
            "library_items": _LIST,
            "comments": _LIST,
            "requests_to_join": _LIST,
            "invitations": _LIST,
            "audit_log": _LIST,
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "kind", "size", "in_archive", "url"],
                    "properties": {
                        "name": {"type": "string"},
                        "kind": {"type": "string",
                                 "enum": ["library_attachment", "event_material"]},
                        "size": {"type": "integer"},
                        "in_archive": {"type": "string"},
                        "url": {"type": "string", "format": "uri"},
                    },
                },
            },
        },
    },
}
