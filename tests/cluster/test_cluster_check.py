"""The small version of ``make cluster-check``: two web servers, two schedulers, kill -9."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.committing
@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_two_instances_and_two_schedulers_survive_a_kill(tmp_path):
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set (the cluster runs on PostgreSQL)")
    if not _redis_answers():
        # CI has Redis (REQUIRE_REDIS=1 in .ci/run): there a missing one fails, never skips.
        (pytest.fail if os.environ.get("REQUIRE_REDIS") == "1" else pytest.skip)(
            "no Redis on 127.0.0.1:6379 (the cluster's rate limits live there)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cluster_check.py"), "--small"],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )
    summary = run.stdout[run.stdout.find("Cluster check:"):]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "PASSED: 13 of 13 checks" in summary
    for check in ("rate limits shared by both instances", "no lost or duplicate registrations",
                  "no lost or duplicate emails", "no lost or duplicate index entries",
                  "search results equal to the database, on both instances",
                  "the waiting scheduler takes over within a minute"):
        assert any(line.startswith("  [PASS]") and f" {check}: " in line
                   for line in summary.splitlines()), summary
