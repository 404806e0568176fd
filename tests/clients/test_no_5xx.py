"""No parameter value gives a 5xx: ids and pages beyond any integer column on every route
with an integer in its path or query, HTML and API, for a visitor and for an admin."""

from __future__ import annotations

import re

import pytest

HUGE = ["99999999999999999999", str(2**63), str(2**31)]
OK = {200, 301, 302, 303, 304, 400, 401, 403, 404, 405}
UNKNOWN = {302, 303, 401, 403, 404}  # a huge id: not found (or sign in first)


def int_rules(app):
    for rule in app.url_map.iter_rules():
        if any(type(c).__name__.endswith("IntegerConverter") or "Int" in type(c).__name__
               for c in rule._converters.values()):
            yield rule


def url_for_rule(rule, number: str) -> str:
    path = rule.rule
    for name, converter in rule._converters.items():
        value = number if "Int" in type(converter).__name__ else "anything"
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def test_every_integer_route_has_a_bounded_converter(app):
    from buyergroup.core.params import BoundedIntegerConverter

    rules = list(int_rules(app))
    assert len(rules) > 20
    for rule in rules:
        for converter in rule._converters.values():
            if "Int" in type(converter).__name__:
                assert isinstance(converter, BoundedIntegerConverter), rule.rule


@pytest.mark.parametrize("who", ["visitor", "admin"])
def test_huge_ids_in_paths_are_404_never_500(app, client, auth, admin, who):
    if who == "admin":
        auth.login(admin)
    failures = []
    for rule in int_rules(app):
        for number in HUGE:
            url = url_for_rule(rule, number)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                if response.status_code not in UNKNOWN:
                    failures.append(f"{method} {url}: {response.status_code}")
    assert not failures, failures


def get_rules_without_arguments(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(
            ("/static", "/logout")
        ):
            yield rule


@pytest.mark.parametrize("who", ["visitor", "admin"])
def test_huge_pages_in_queries_are_never_500(app, client, auth, admin, who):
    if who == "admin":
        auth.login(admin)
    failures = []
    for rule in get_rules_without_arguments(app):
        for query in ("page=99999999999999999999", "per_page=99999999999999999999",
                      f"page={2**31}", "page=-1", "page=abc", "organisation=99999999999999999999",
                      "group=99999999999999999999"):
            response = client.get(f"{rule.rule}?{query}")
            if response.status_code not in OK:
                failures.append(f"GET {rule.rule}?{query}: {response.status_code}")
    assert not failures, failures


INVALID = [("per_page=0", "per_page"), ("per_page=101", "per_page"),
           ("per_page=abc", "per_page"), ("page=0", "page"),
           ("page=99999999999999999999", "page")]


@pytest.mark.parametrize("path, query, parameter", [
    *((path, query, parameter) for path in ("/api/v1/library", "/api/v1/events",
                                            "/api/v1/groups") for query, parameter in INVALID),
    ("/api/v1/library", "sort=null", "sort"), ("/api/v1/events", "when=tomorrow", "when"),
])
def test_invalid_api_parameters_are_400_naming_the_parameter(client, path, query, parameter):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400, (path, query, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert error["parameter"] == parameter
    assert parameter in error["message"]


def test_huge_api_ids_are_404_json(client):
    for path in ("/api/v1/library/99999999999999999999", "/api/v1/events/99999999999999999999"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["status"] == 404


def test_405_says_what_is_allowed(client):
    response = client.delete("/api/v1/library")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    page = client.put("/events")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


def test_every_operation_declares_its_security(client):
    document = client.get("/api/v1/openapi.json").get_json()
    missing = [f"{method.upper()} {path}" for path, item in document["paths"].items()
               for method, operation in item.items()
               if method in ("get", "post", "put", "patch", "delete")
               and "security" not in operation]
    assert not missing
