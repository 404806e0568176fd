"""Schema pieces every domain's part of the OpenAPI document uses (api/openapi.py gathers
them). It imports nothing, so a domain's API module can use it without an import cycle
(api/openapi.py imports those modules)."""

from __future__ import annotations


def page_of(schema: str) -> dict:
    """The schema of one page of a list of ``schema`` objects, as every list endpoint
    answers it (``items``, ``page``, ``per_page``, ``total``, ``pages``)."""
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
