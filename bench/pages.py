"""Page benchmarks, in-process: what the app's own pages cost next to a bare Flask app
measured in the same run (the machine is shared, so only same-run ratios mean much).

    python -m bench.pages                      # the demo seed, SQLite, Whoosh
    python -m bench.pages --items 10000        # plus the synthetic corpus (bench/corpus.py)
    python -m bench.pages --database postgresql --search postgresql --items 10000

Each page is fetched ``--repeat`` times with Flask's test client after two warm-up fetches;
the median and p95 latency and the SQL statements of one fetch are printed (and written as
JSON with ``--json``). The load average is printed with the figures. Not a test.

The script imports ``buyergroup`` from ``sys.path``: ``PYTHONPATH=/path/to/other/checkout
python bench/pages.py`` measures another checkout's code with the same harness.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from flask import Flask, render_template_string
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent

VISITOR_PAGES = [
    "/",
    "/library",
    "/library?q=due+diligence",
    "/library?q=laptop",
    "/library?q=kinderarbeid",
    "/library?q=%22circular+economy%22",
    "/library?theme=circularity",
    "/events",
    "/groups",
]
MEMBER_PAGES = ["/", "/library", "/library?q=due+diligence", "/library?q=laptop"]


def bare_app() -> Flask:
    app = Flask("bare")
    rows = [{"id": i, "title": f"Row {i}", "summary": "A short summary " * 3}
            for i in range(20)]
    page = ("<!doctype html><title>t</title><ul>{% for r in rows %}<li><a href='/{{ r.id }}'>"
            "{{ r.title }}</a> {{ r.summary }}</li>{% endfor %}</ul>")

    @app.get("/")
    def hello():
        return "hello"

    @app.get("/rows")
    def table():
        return render_template_string(page, rows=rows)

    return app


def timed(client, url: str, repeat: int, engine=None) -> dict:
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    statements: list[str] = []
    if engine is not None:
        def record(*args):
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
    client.get(url)
    if engine is not None:
        event.remove(engine, "before_cursor_execute", record)
    times, cpu = [], []
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
    times.sort()
    return {
        "url": url,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(int(len(times) * 0.95) - 1, 0)], 2),
        "min_ms": round(times[0], 2),
        # This process's CPU time: on a shared, busy machine much steadier than the clock
        # (waiting for a core is not in it; a PostgreSQL server's own work is not either).
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "queries": len(statements) if engine is not None else None,
    }


def make_app(database: str, search: str, pg_url: str, folder: Path):
    from buyergroup import create_app
    from buyergroup.extensions import db

    cleanup = None
    if database == "postgresql":
        server_url = make_url(pg_url)
        name = f"buyergroup_bench_{uuid.uuid4().hex[:8]}"
        server = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server_url.set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        url = f"sqlite:///{folder / 'bench.sqlite'}"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough",
        "INSTANCE_PATH": str(folder),
        "INDEX_FOLDER": str(folder / "index"),
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "MAIL_FOLDER": str(folder / "mail"),
        "SEARCH_BACKEND": search,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BUYERGROUP_SEND_MAIL_ON_COMMIT": False,
    })
    with app.app_context():
        db.create_all()
        if database == "postgresql":
            from buyergroup.search import postgres_backend

            with db.engine.begin() as connection:
                postgres_backend.install(connection)
    return app, cleanup


def load(app, items: int, seed: int) -> float:
    from buyergroup.extensions import db
    from buyergroup.search.service import apply_pending, reindex
    from buyergroup.seeding import load_seed

    started = time.perf_counter()
    with app.app_context():
        load_seed(ROOT / "seed", password="buyergroup-demo")
        db.session.commit()
        while apply_pending():
            pass
        if items:
            from bench.load import load_items

            load_items(items, seed=seed)
        else:
            reindex()
        db.session.remove()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--search", choices=["whoosh", "postgresql"], default="whoosh")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--items", type=int, default=0, help="synthetic items beside the seed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--existing", action="store_true",
                        help="measure the configured database and index as they are "
                             "(DATABASE_URL, INSTANCE_PATH...; e.g. after flask bench load)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    results: dict = {"load_average_before": os.getloadavg(), "args": vars(args)}
    bare = bare_app().test_client()
    results["bare"] = [timed(bare, "/", args.repeat * 5), timed(bare, "/rows", args.repeat * 5)]

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        if args.existing:
            from buyergroup import create_app

            app, cleanup = create_app({"WTF_CSRF_ENABLED": False,
                                       "RATELIMIT_ENABLED": False}), None
        else:
            app, cleanup = make_app(args.database, args.search, args.pg_url, Path(tmp))
        try:
            if not args.existing:
                results["load_seconds"] = round(load(app, args.items, args.seed), 1)
            from buyergroup.extensions import db

            with app.app_context():
                engine = db.engine
            client = app.test_client()
            results["visitor"] = [timed(client, url, args.repeat, engine) for url in VISITOR_PAGES]
            member = app.test_client()
            response = member.post("/login", data={"email": "member@example.org",
                                                   "password": "buyergroup-demo"})
            assert response.status_code == 302, response.status_code
            results["member"] = [timed(member, url, args.repeat, engine) for url in MEMBER_PAGES]
            with app.app_context():
                db.engine.dispose()
        finally:
            if cleanup:
                cleanup()
    results["load_average_after"] = os.getloadavg()
    hello = results["bare"][0]["median_ms"]
    print(f"load average before {results['load_average_before']}, "
          f"after {results['load_average_after']}")
    print(f"{'page':45} {'median':>8} {'p95':>8} {'min':>8} {'CPU':>8} {'SQL':>4}  x hello")
    for who in ("bare", "visitor", "member"):
        for row in results[who]:
            print(f"{who[:1]} {row['url']:43} {row['median_ms']:8.2f} {row['p95_ms']:8.2f} "
                  f"{row['min_ms']:8.2f} {row['cpu_median_ms']:8.2f} "
                  f"{row['queries'] if row['queries'] is not None else '':>4}  "
                  f"{row['median_ms'] / hello:7.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.path.append(str(ROOT))  # for "bench" itself when run as a script
    main()
