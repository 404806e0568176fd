"""Requests per second under gunicorn, next to a bare Flask app served the same way in the
same run (the machine is shared: only same-run ratios mean much).

    python -m bench.throughput                     # the configured site (DATABASE_URL, ...)
    python -m bench.throughput --seconds 10 --connections 16
    INSTANCE_PATH=/tmp/demo python -m bench.throughput --site-path /tmp/base   # an A/B

(``--site-path``: another checkout's code, served from its own directory; give the data
as ``INSTANCE_PATH`` or ``DATABASE_URL``, or it is that checkout's own ``instance/``.)

Starts ``gunicorn -w 2`` (sync workers) for the bare app of ``bench/pages.py`` and for
``buyergroup:create_app()``, signs a member in through the login form, and drives each page
with ``--connections`` concurrent clients for ``--seconds`` (asyncio, one connection per
request: sync workers close it after each answer). The client runs on the same two cores,
so every figure is a floor. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VISITOR = ["/", "/library", "/library?q=due+diligence", "/library?q=laptop", "/events"]
MEMBER = ["/", "/library", "/library?q=due+diligence"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, port: int, workers: int, pythonpath: str = str(ROOT)
          ) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b",
         f"127.0.0.1:{port}", "--log-level", "warning", target],
        # In the checkout served: gunicorn puts its working directory first on sys.path,
        # before PYTHONPATH (run from this one, --site-path served this checkout's code).
        cwd=pythonpath, env={**os.environ, "PYTHONPATH": pythonpath},
        start_new_session=True)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


async def one(port: int, path: str, cookie: str) -> tuple[int, float]:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if cookie:
        headers += f"Cookie: {cookie}\r\n"
    writer.write((headers + "\r\n").encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data[9:12]) if data[:5] == b"HTTP/" else 0
    return status, (time.perf_counter() - start) * 1000


async def drive(port: int, path: str, connections: int, seconds: float,
                cookie: str = "") -> dict:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0

    async def client():
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                status, ms = await one(port, path, cookie)
            except OSError:
                status, ms = 0, 0.0
            if status != 200:
                errors += 1
            else:
                latencies.append(ms)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: round(latencies[min(int(len(latencies) * q), len(latencies) - 1)], 1)  # noqa: E731
    return {"path": path, "rps": round(len(latencies) / elapsed, 1), "errors": errors,
            "p50_ms": pick(0.5) if latencies else None, "p99_ms": pick(0.99) if latencies else None,
            "requests": len(latencies)}


def sign_in(port: int, email: str, password: str) -> str:
    """The session cookie of a member signed in through the login form (with its CSRF
    token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    opener.open(f"http://127.0.0.1:{port}/login", urllib.parse.urlencode(data).encode())
    for handler in opener.handlers:
        if isinstance(handler, urllib.request.HTTPCookieProcessor):
            return "; ".join(f"{c.name}={c.value}" for c in handler.cookiejar)
    return ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--site-path", help="PYTHONPATH for the site (another checkout)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    results: dict = {"load_average_before": os.getloadavg(), "bare": [], "visitor": [],
                     "member": []}
    bare_port, app_port = free_port(), free_port()
    bare = serve("bench.pages:bare_app()", bare_port, args.workers)
    try:
        for path in ("/", "/rows"):
            results["bare"].append(asyncio.run(
                drive(bare_port, path, args.connections, args.seconds)))
    finally:
        stop(bare)
    # --site-path: serve another checkout's code (e.g. main) against the same data.
    site = serve("buyergroup:create_app()", app_port, args.workers,
                 args.site_path or str(ROOT))
    try:
        for path in VISITOR:
            results["visitor"].append(asyncio.run(
                drive(app_port, path, args.connections, args.seconds)))
        cookie = sign_in(app_port, "member@example.org", "buyergroup-demo")
        for path in MEMBER:
            results["member"].append(asyncio.run(
                drive(app_port, path, args.connections, args.seconds, cookie)))
    finally:
        stop(site)
    results["load_average_after"] = os.getloadavg()
    hello = results["bare"][0]["rps"] or 1
    print(f"load average before {results['load_average_before']}, "
          f"after {results['load_average_after']}")
    print(f"{'page':40} {'req/s':>8} {'% hello':>8} {'p50':>7} {'p99':>7} {'errors':>6}")
    for who in ("bare", "visitor", "member"):
        for row in results[who]:
            print(f"{who[:1]} {row['path']:38} {row['rps']:8.1f} {100 * row['rps'] / hello:7.1f}% "
                  f"{row['p50_ms'] or 0:7.1f} {row['p99_ms'] or 0:7.1f} {row['errors']:6}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
