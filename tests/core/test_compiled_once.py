"""What every app of a process shares: URL builders and compiled templates (issue 7).

Each ``create_app`` compiled the URL rules' builders again (0.23 s) and each app's Jinja
environment every template (1.4 s); they are compiled once per process now. These tests
check that sharing never mixes two rules or two versions of a template up.
"""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment
from werkzeug.routing import Map

from buyergroup.templating import CompiledTemplates
from buyergroup.urls import CompiledOnceRule


def _map(*rules: CompiledOnceRule) -> Map:
    return Map(list(rules))


def test_rules_of_different_paths_build_their_own_urls():
    first = _map(CompiledOnceRule("/library/<int:item_id>", endpoint="item"),
                 CompiledOnceRule("/events/<int:item_id>", endpoint="event"))
    second = _map(CompiledOnceRule("/events/<int:item_id>", endpoint="event"),
                  CompiledOnceRule("/library/<int:item_id>", endpoint="item"))
    for urls in (first.bind("localhost"), second.bind("localhost")):
        assert urls.build("item", {"item_id": 7}) == "/library/7"
        assert urls.build("event", {"item_id": 7}) == "/events/7"
        assert urls.build("item", {"item_id": 7, "lang": "nl"}) == "/library/7?lang=nl"


def test_a_default_in_the_path_keeps_its_own_value():
    one = _map(CompiledOnceRule("/page/<int:page>", endpoint="list", defaults={"page": 1}),
               CompiledOnceRule("/page/<int:page>/all", endpoint="all"))
    two = _map(CompiledOnceRule("/page/<int:page>", endpoint="list", defaults={"page": 2}),
               CompiledOnceRule("/page/<int:page>/all", endpoint="all"))
    assert one.bind("localhost").build("list", {}) == "/page/1"
    assert two.bind("localhost").build("list", {}) == "/page/2"


def test_a_second_app_links_and_routes_as_the_first(app_factory, tmp_path):
    first = app_factory(f"sqlite:///{tmp_path / 'one.sqlite'}")
    second = app_factory(f"sqlite:///{tmp_path / 'two.sqlite'}")
    values = {"item_id": 12, "group_id": 3, "event_id": 5, "slug": "fair-ict", "token": "abc",
              "filename": "css/site.css", "page": 2, "q": "due diligence"}
    built = 0
    for rule in first.url_map.iter_rules():
        arguments = {name: values.get(name, 1) for name in rule.arguments}
        try:
            url = first.url_map.bind("localhost").build(rule.endpoint, arguments)
        except Exception:  # noqa: BLE001 - a converter that takes no such value
            continue
        assert second.url_map.bind("localhost").build(rule.endpoint, arguments) == url
        if "GET" in rule.methods:
            path = url.split("?")[0]
            assert (second.url_map.bind("localhost").match(path)
                    == first.url_map.bind("localhost").match(path))
        built += 1
    assert built > 150  # nearly every one of the site's rules


@pytest.fixture
def templates() -> CompiledTemplates:
    return CompiledTemplates()


def test_an_edited_template_is_compiled_again(templates):
    before = Environment(loader=DictLoader({"page.html": "Hello {{ name }}"}),
                         bytecode_cache=templates)
    after = Environment(loader=DictLoader({"page.html": "Goodbye {{ name }}"}),
                        bytecode_cache=templates)
    assert before.get_template("page.html").render(name="Ana") == "Hello Ana"
    assert after.get_template("page.html").render(name="Ana") == "Goodbye Ana"


def test_another_environment_uses_the_compiled_code(templates):
    source = {"page.html": "{% for n in range(3) %}{{ n }}{% endfor %}"}
    Environment(loader=DictLoader(source), bytecode_cache=templates).get_template("page.html")
    later = Environment(loader=DictLoader(source), bytecode_cache=templates)

    def compile_again(*args, **kwargs):
        raise AssertionError("compiled again")

    later.compile = compile_again
    assert later.get_template("page.html").render() == "012"

