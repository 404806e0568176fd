"""The glossary tests search too: give each test an index of its own."""

from tests.library.conftest import fresh_search_index, make_item  # noqa: F401
