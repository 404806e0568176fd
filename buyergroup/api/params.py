"""Query parameters checked against the OpenAPI document before the view runs.

What the document declares is what the API accepts: an integer outside its ``minimum`` /
``maximum`` (or beyond an integer column), a value not in its ``enum``, a string over its
``maxLength`` is a 400 whose JSON error names the parameter, instead of being silently
replaced by a default (``per_page=0``) or ignored (``sort=null``).
"""

from __future__ import annotations

import re

from flask import current_app, request

from buyergroup.core.params import INT_MAX, InvalidParameter

_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_INTEGER = re.compile(r"[+-]?\d+")


def _index() -> dict[tuple[str, str], list[dict]]:
    """(OpenAPI path, method) -> the operation's query parameters; built once per app."""
    cached = current_app.extensions.get("buyergroup_api_parameters")
    if cached is None:
        from buyergroup.api.openapi import build_openapi

        cached = {}
        for path, item in build_openapi()["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict):
                    cached[(path, method.upper())] = [
                        p for p in operation.get("parameters", []) if p.get("in") == "query"
                    ]
        current_app.extensions["buyergroup_api_parameters"] = cached
    return cached


def _check(name: str, schema: dict, value: str) -> None:
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(value.strip()):
            raise InvalidParameter(name, f"The parameter '{name}' must be a whole number.")
        number = int(value)
        low = schema.get("minimum", -INT_MAX)
        high = min(schema.get("maximum", INT_MAX), INT_MAX)
        if not low <= number <= high:
            raise InvalidParameter(
                name, f"The parameter '{name}' must be between {low} and {high}.")
    elif kind == "array":
        _check(name, schema.get("items", {}), value)
    elif kind == "string":
        if "enum" in schema and value not in schema["enum"]:
            raise InvalidParameter(
                name, f"The parameter '{name}' must be one of: {', '.join(schema['enum'])}.")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise InvalidParameter(
                name, f"The parameter '{name}' is longer than {schema['maxLength']} characters.")


def check_query_parameters() -> None:
    """A before-request hook of the API blueprint."""
    if request.url_rule is None:
        return
    path = _RULE_ARGUMENT.sub(r"{\1}", request.url_rule.rule)
    method = "GET" if request.method == "HEAD" else request.method
    for parameter in _index().get((path, method), []):
        name = parameter["name"]
        for value in request.args.getlist(name):
            _check(name, parameter.get("schema", {}), value)
