"""Full-text search over the library (and any other registered source).

The rest of the application uses ``buyergroup.search.service`` only; the contract types are
in ``types.py``. Engines: Whoosh (the ``whoosh`` package, the default, one machine) and
PostgreSQL full-text search (``postgres_backend.py``).
"""
