"""Rate limits in Redis are shared by every process (with the default ``memory://`` each
process counts alone); an unreachable Redis falls back to counting in the process."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from buyergroup.extensions import db
from tests.cluster.test_cluster_check import _redis_answers
from tests.forked import ForkedProcess

ROOT = Path(__file__).resolve().parent.parent.parent
EMAIL = "guarded@example.org"


@pytest.fixture
def shared_database(app_factory, tmp_path):
    """A SQLite file both processes use, holding one member."""
    from buyergroup.accounts.models import Role
    from buyergroup.accounts.service import create_user
    from tests.conftest import TEST_PASSWORD

    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    app = app_factory(url)
    with app.app_context():
        db.create_all()
        create_user(email=EMAIL, name="Gus Guarded", password=TEST_PASSWORD, role=Role.member)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url


def attempts(url: str, storage: str, prefix: str, wrong: int, right: int) -> list[int]:
    worker = ForkedProcess(  # a process of its own, forked: see tests.forked
        [sys.executable, "-m", "tests.cluster.limiter_worker", url, storage, prefix, EMAIL,
         str(wrong), str(right)],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output[-3000:]
    return json.loads(output.strip().splitlines()[-1])


def test_failed_sign_ins_count_across_processes_in_redis(shared_database):
    if not _redis_answers():
        # CI has Redis (REQUIRE_REDIS=1 in .ci/run): there a missing one fails, never skips.
        (pytest.fail if os.environ.get("REQUIRE_REDIS") == "1" else pytest.skip)(
            "no Redis on 127.0.0.1:6379")
    storage, prefix = "redis://127.0.0.1:6379/0", f"test-{uuid.uuid4().hex[:8]}"
    assert attempts(shared_database, storage, prefix, wrong=3, right=0) == [200, 200, 200]
    # The second process sees the first one's three failures: two more, then refused.
    assert attempts(shared_database, storage, prefix, wrong=2, right=1) == [200, 200, 429]


def test_an_unreachable_redis_falls_back_to_counting_in_the_process(shared_database):
    storage = "redis://127.0.0.1:1/0"  # nothing listens there
    # Sign-ins keep working, and keep their limit, instead of answering 500.
    assert attempts(shared_database, storage, "x", wrong=5, right=1) == [200] * 5 + [429]
