"""Integers from the URL that no column can hold: refused before any query runs.

Werkzeug's ``int`` converter takes any number of digits, and SQLite (OverflowError) or
PostgreSQL (NumericValueOutOfRange) then fail on ``/library/99999999999999999999`` with a
500. The converter installed here answers a number beyond an ``integer`` column with a
404 before the view runs. Query parameters that carry numbers (``page``,
``per_page`` and ids such as ``organisation``) beyond that range are a 400 naming the
parameter, on HTML pages and in the API alike.
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter

#: The largest value of a PostgreSQL ``integer`` column (ids, counts, page numbers).
INT_MAX = 2**31 - 1

#: Query parameters read as integers somewhere (pages, or ids of a filter).
INTEGER_QUERY_PARAMETERS = frozenset({
    "page", "per_page", "organisation", "organisation_id", "group", "group_id", "item",
    "item_id", "event", "event_id", "series", "series_id", "user", "user_id", "actor",
    "member", "translation_of", "id",
})

_NUMBER = re.compile(r"\s*[+-]?\d+\s*")


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that answers a number beyond an integer column with a 404.

    Not through ``max``: a converter's ValidationError lets Werkzeug try the next rule,
    and with one rule per method on a path (POST and DELETE) it then answers 405.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > INT_MAX:
            raise NotFound()
        return number


class InvalidParameter(BadRequest):
    """A query parameter whose value cannot be used; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


def out_of_range(value: str) -> bool:
    return bool(_NUMBER.fullmatch(value)) and not -INT_MAX <= int(value) <= INT_MAX


def refuse_huge_numbers() -> None:
    for name in INTEGER_QUERY_PARAMETERS.intersection(request.args):
        for value in request.args.getlist(name):
            if out_of_range(value):
                raise InvalidParameter(
                    name, f"The parameter '{name}' is out of range (at most {INT_MAX}).")


def install(app: Flask) -> None:
    """Before any blueprint is registered (rules bind their converter when added)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_huge_numbers)
