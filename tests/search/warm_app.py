"""Imported by the forkserver of ``tests/search/test_concurrency.py`` only (``PRELOAD`` in
``tests/search/workers.py``): it builds one throwaway app, so that every worker forked from
the server finds the app's modules imported and its URL rules' builders compiled
(``buyergroup.urls.CompiledOnceRule``). Without it each of the twelve workers of a run spent
about a second in ``create_app`` (imports made inside it, 213 rules compiled), on the two
cores the rest of the suite needs.
"""

from __future__ import annotations

import tempfile

from buyergroup import create_app

with tempfile.TemporaryDirectory() as _folder:
    create_app({
        "TESTING": True,
        "SECRET_KEY": "warm-up-secret-key-that-is-long-enough",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "INSTANCE_PATH": _folder,
        "RATELIMIT_STORAGE_URI": "memory://",
    })
