"""The search index in Whoosh 2.7.4: the only package that imports Whoosh.

* ``schema``: the fields (one set of text fields per language) and a document's values;
* ``query``: compiling the parsed query per language, collecting and scoring matches;
* ``facets``: facet counts from per-segment posting sets;
* ``snippets``: fragments around the first matches, with ``<mark>``;
* ``suggestions``: did you mean;
* ``backend``: ``WhooshBackend``, the files, the writer and the searchers.
"""

from buyergroup.search.whoosh.backend import WhooshBackend
from buyergroup.search.whoosh.schema import build_schema

__all__ = ["WhooshBackend", "build_schema"]
