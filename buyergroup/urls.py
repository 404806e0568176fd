"""Absolute links for emails, feeds and the API, and the URL rules' class. Imports no
domain, so the template helpers and every domain can use it without an import cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from flask import current_app
from werkzeug.routing import Rule


class CompiledOnceRule(Rule):
    """Werkzeug's rule, whose URL builders are compiled once per process, not once per app.

    Werkzeug writes and compiles Python code for each rule's two builders: 0.23 s for our
    213 rules, nearly all the time ``create_app`` takes once the modules are imported. A
    process that makes one app pays it once either way; one that makes several (the test
    suite makes dozens, the cluster check a few) paid it for each. The code depends only on
    the rule's parts and the names of its defaults, so rules that have the same share it;
    the converters are read from the rule each builder is bound to, at build time.
    It overrides a private method of Werkzeug 3: were it renamed, rules would simply be
    compiled per app again (``tests/core/test_compiled_once.py`` builds every rule's URL
    in two apps).
    """

    _builders: ClassVar[dict[tuple, Callable]] = {}

    def _compile_builder(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(is_dynamic and part in defaults for is_dynamic, part in self._trace):
            return super()._compile_builder(append_unknown)  # the default's value is in the code
        key = (tuple(self._trace), tuple(defaults), append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


def external_url(endpoint: str, **values) -> str:
    """An absolute link for emails, built on BASE_URL (requests may come via a proxy)."""
    # Built from the URL map, so it also works in CLI commands and jobs with no request.
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path
