"""Clients nobody here wrote: Mozilla's ical.js (node), the Nu Html Checker (vnu.jar, Java).

Both come from the npm registry into ``.cache/node`` (``BUYERGROUP_NODE_DIR``), installed
once by ``.ci/run`` and again, when missing, by the first test that needs them. Offline,
npm falls back on its own cache (``--prefer-offline``, then ``--offline``). When they
cannot be had at all, the tests skip, except on CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = Path(os.environ.get("BUYERGROUP_NODE_DIR", ROOT / ".cache" / "node"))
PACKAGES = ["ical.js@2", "vnu-jar"]
HERE = Path(__file__).resolve().parent


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(reason)
    pytest.skip(reason)


def _installed() -> bool:
    return (NODE_DIR / "node_modules" / "ical.js" / "package.json").exists() and (
        NODE_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar").exists()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are needed to run ical.js and to install vnu-jar")
    if not _installed():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        errors = []
        for mode in ("--prefer-offline", "--offline"):
            # --ignore-scripts: vnu-jar's postinstall would download a JDK; Debian's is used.
            run = subprocess.run(
                ["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund",
                 "--ignore-scripts", "--no-save", mode, *PACKAGES],
                capture_output=True, text=True, timeout=300,
            )
            if run.returncode == 0 and _installed():
                break
            errors.append(run.stderr[-500:])
        else:
            _unavailable("npm could not install ical.js and vnu-jar: " + " | ".join(errors))
    return NODE_DIR / "node_modules"


@pytest.fixture(scope="session")
def icaljs(node_modules):
    """``icaljs(ics_bytes)``: the calendar as ical.js reads it (see icaljs_read.cjs)."""
    script = HERE / "icaljs_read.cjs"
    env = {**os.environ, "ICALJS_PATH": str(node_modules / "ical.js")}

    def read(data: bytes) -> dict:
        run = subprocess.run(["node", str(script)], input=data, capture_output=True,
                             env=env, timeout=60)
        assert run.returncode == 0, run.stderr.decode()[-2000:]
        return json.loads(run.stdout)

    return read


@pytest.fixture(scope="session")
def libical():
    """``libical(ics_bytes)``: libical's parse and iTIP restriction errors (a list).

    libical is read through GObject introspection in Debian's own Python (packages
    ``gir1.2-ical-3.0`` and ``python3-gi``; .ci/run installs them)."""
    python = "/usr/bin/python3"
    probe = subprocess.run(
        [python, "-c", "import gi; gi.require_version('ICalGLib', '3.0')"],
        capture_output=True, text=True) if Path(python).exists() else None
    if probe is None or probe.returncode != 0:
        _unavailable("libical is not installed (apt-get install gir1.2-ical-3.0 python3-gi)")
    script = HERE / "libical_check.py"

    def check(data: bytes) -> list[str]:
        run = subprocess.run([python, str(script)], input=data, capture_output=True,
                             timeout=60)
        assert run.returncode == 0, run.stderr.decode()[-2000:]
        return json.loads(run.stdout)["errors"]

    return check


@pytest.fixture(scope="session")
def vnu(node_modules):
    """``vnu({name: html})``: the Nu Html Checker's errors, as ``{name: [messages]}``."""
    java = shutil.which("java")
    if java is None:
        _unavailable("Java (Debian's default-jre-headless) is needed by the Nu Html Checker")
    jar = node_modules / "vnu-jar" / "build" / "dist" / "vnu.jar"

    def check(pages: dict[str, str], tmp: Path) -> dict[str, list[str]]:
        for name, html in pages.items():
            (tmp / f"{name}.html").write_text(html, encoding="utf-8")
        run = subprocess.run(
            # C1 only and one GC thread: a run of seconds, where the optimising JIT and a
            # parallel collector cost more CPU than they win back.
            [java, "-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar),
             "--errors-only", "--format", "json",
             *[str(tmp / f"{name}.html") for name in pages]],
            capture_output=True, text=True, timeout=300,
        )
        report = json.loads(run.stderr or run.stdout or '{"messages": []}')
        found: dict[str, list[str]] = {name: [] for name in pages}
        for message in report.get("messages", []):
            name = Path((message.get("url") or "?").removeprefix("file:")).stem
            found.setdefault(name, []).append(
                f"line {message.get('lastLine')}: {message.get('message')} "
                f"[{(message.get('extract') or '').strip()[:120]}]"
            )
        return {name: errors for name, errors in found.items() if errors}

    return check


# The events domain's factories (a group with an organiser and a member, events in it).
from tests.events.conftest import group, make_event, make_member  # noqa: E402, F401


def in_own_thread(work):
    """Run ``work`` in a thread of its own. Playwright's sync API refuses to start where an
    asyncio loop runs, and a pytest-xdist worker that ran the pytest-playwright tests has
    one on its main thread; a new thread has none."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
