"""Page benchmarks, in-process: what the app's own pages cost next to a bare Flask app
measured in the same run (the machine is shared, so only same-run ratios mean much).

    python -m bench.pages                      # the demo seed, SQLite, Whoosh
    python -m bench.pages --items 10000        # plus the synthetic corpus (bench/corpus.py)
    python -m bench.pages --database postgresql --search postgresql --items 10000

Each page is fetched ``--repeat`` times with Flask's test client after two warm-up fetches;
the median and p95 latency and the SQL statements of one fetch are printed (and written as
JSON with ``--json``). The load average is printed with the figures. Not a test.

``--kinds N`` also times N different member searches of each kind (term, phrase, faceted,
cross-language): each page once ("first": nothing cached for that query or its words) and
then again ("again": from the result cache), and N faceted searches whose words were just
asked without the filters ("refined": a member ticking a filter). On a database loaded
with ``flask bench load``:

    INSTANCE_PATH=... DATABASE_URL=... python bench/pages.py --existing --kinds 20
    ... python bench/pages.py --existing --only-kinds --kinds 20 --searches-only 2

(``--searches-only R``: the searches alone through the search service, cache off, each
query's best of R runs: for 100,000 items, where the search is most of the page.)

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
# A member reads items most (a visitor gets a kept one; a member never does).
MEMBER_PAGES = ["/", "/library", "/library?q=due+diligence", "/library?q=laptop", "/library/1"]
SEARCH_KINDS = ("term", "phrase", "faceted", "cross-language")


def search_urls(per_kind: int, seed: int) -> dict[str, list[str]]:
    """``per_kind`` different member searches of each kind, as library URLs: the queries of
    ``bench/search.py`` (corpus words, planted glossary phrases), with the site's own
    filter codes (the app finds the glossary expansions itself)."""
    import random
    from urllib.parse import urlencode

    from bench.search import make_queries
    from buyergroup.vocabulary import COUNTRIES, PRODUCT_GROUPS

    rng = random.Random(seed)
    urls: dict[str, list[str]] = {kind: [] for kind in SEARCH_KINDS}
    for query in make_queries(per_kind, seed):
        if query.kind not in urls:
            continue
        params = [("q", query.text)]
        if query.kind == "faceted":
            params.append(("product_group", rng.choice(list(PRODUCT_GROUPS))))
            if "country" in query.filters:
                params.append(("country", rng.choice(list(COUNTRIES))))
        urls[query.kind].append("/library?" + urlencode(params))
    return urls


def forget_scores(app) -> None:
    """Drop the scores the search backend keeps of recent words (Whoosh's), so that a
    first search is timed as one whose words nobody asked for."""
    from buyergroup.search.service import get_backend

    with app.app_context():
        forget = getattr(get_backend(), "forget_scores", None)
        if forget is not None:
            forget()


def clocked(call) -> tuple[object, float, float]:
    """``call()``'s result, its wall-clock time and this process's CPU time, in ms."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = call()
    return (result, (time.perf_counter() - start) * 1000,
            (time.process_time() - cpu_start) * 1000)


def _p95(values) -> float:
    return round(_nearest_rank_p95(values), 2)


def _nearest_rank_p95(values) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _member_queries(urls: dict[str, list[str]]):
    """(kind, url, SearchQuery) for each library URL, as the demo member asks it; inside a
    request context, with the search backend's result cache off (every search computed)."""
    from urllib.parse import parse_qs, urlsplit

    from sqlalchemy import select
    from werkzeug.datastructures import MultiDict

    from buyergroup.accounts.models import User
    from buyergroup.extensions import db
    from buyergroup.library.browse import parse_query
    from buyergroup.search import service

    cache = getattr(service.get_backend(), "results", None)
    if cache is not None:  # (another checkout's code may have none)
        cache.size = 0
    member = db.session.scalar(select(User).where(User.email == "member@example.org"))
    for kind, kind_urls in urls.items():
        for url in kind_urls:
            args = MultiDict([(k, v) for k, values in parse_qs(urlsplit(url).query).items()
                              for v in values])
            yield kind, url, parse_query(args, member)


def timed_searches(app, urls: dict[str, list[str]], repeat: int) -> dict:
    """The same member searches through ``search.service.search`` alone (no page), the
    result cache off: each query's best of ``repeat`` runs, then median and p95 per kind.
    For large indexes, where the search is most of a page."""
    from buyergroup.search import service

    best: dict[str, list[float]] = {kind: [] for kind in urls}
    best_cpu: dict[str, list[float]] = {kind: [] for kind in urls}
    with app.test_request_context():
        for kind, _url, query in _member_queries(urls):
            runs = [clocked(lambda query=query: service.search(query))[1:]
                    for _ in range(max(repeat, 1))]
            best[kind].append(min(wall for wall, _cpu in runs))
            best_cpu[kind].append(min(cpu for _wall, cpu in runs))
    return {kind: {"queries": len(best[kind]),
                   "median_ms": round(statistics.median(best[kind]), 2),
                   "p95_ms": _p95(best[kind]),
                   "cpu_median_ms": round(statistics.median(best_cpu[kind]), 2),
                   "cpu_p95_ms": _p95(best_cpu[kind])}
            for kind in urls if best[kind]}


def estimate_errors(app, urls: dict[str, list[str]]) -> dict:
    """For the searches whose counts the backend estimated (more matches than
    SEARCH_EXACT_COUNT_LIMIT), how far the estimates are from the exact counts of the same
    search with the limit off: the total's error, and each facet value's, relative to
    itself (values of at least 5 % of the total) and to the total (every value)."""
    from buyergroup.search import service

    totals, shares, values, searches = [], [], [], []
    with app.test_request_context():
        backend = service.get_backend()
        limit = getattr(backend, "exact_limit", 0)
        for _kind, url, query in _member_queries(urls):
            estimated = service.search(query)
            if not estimated.estimated:
                continue
            backend.exact_limit = 0
            try:
                exact = service.search(query)
            finally:
                backend.exact_limit = limit
            error = abs(estimated.total - exact.total) / exact.total
            totals.append(error)
            searches.append({"url": url, "exact": exact.total, "estimate": estimated.total,
                             "error_pct": round(100 * error, 2)})
            for facet, counts in exact.facets.items():
                guessed = dict(estimated.facets.get(facet, []))
                for value, count in counts:
                    miss = abs(guessed.get(value, 0) - count)
                    shares.append(miss / exact.total)
                    if count >= 0.05 * exact.total:
                        values.append(miss / count)

    def summary(errors: list[float]) -> dict:
        if not errors:
            return {}
        # (Not _p95, which rounds to 0.01: a whole per cent of these fractions.)
        return {"n": len(errors), "median_pct": round(100 * statistics.median(errors), 2),
                "p95_pct": round(100 * _nearest_rank_p95(errors), 2),
                "max_pct": round(100 * max(errors), 2)}

    return {"searches": searches, "total": summary(totals),
            "facet_value_of_itself": summary(values), "facet_value_of_total": summary(shares)}


def refined_urls(faceted: list[str]) -> list[tuple[str, str]]:
    """(the words alone, the words with the filters): a member ticks a filter on a search
    just made."""
    return [(url.split("&", 1)[0], url) for url in faceted]


def timed_kinds(client, urls: dict[str, list[str | tuple[str, str]]], repeat: int,
                forget=None) -> dict:
    """Per kind: each URL once ("first": nothing cached for this query; ``forget()``, if
    given, drops the scores a backend keeps of recent words), then ``repeat`` times more
    ("again": the median of those); median and p95 over the URLs. A (before, url) pair
    asks ``before`` first, untimed, and times ``url`` with what it left kept."""
    out = {}
    for kind, kind_urls in urls.items():
        first, again, first_cpu, again_cpu = [], [], [], []
        for url in kind_urls:
            if forget is not None:
                forget()
            if isinstance(url, tuple):
                before, url = url
                assert client.get(before).status_code == 200, before
            response, wall, cpu = clocked(lambda url=url: client.get(url))
            assert response.status_code == 200, (url, response.status_code)
            first.append(wall)
            first_cpu.append(cpu)
            runs = [clocked(lambda url=url: client.get(url))[1:] for _ in range(repeat)]
            if runs:
                again.append(statistics.median(wall for wall, _cpu in runs))
                again_cpu.append(statistics.median(cpu for _wall, cpu in runs))

        out[kind] = {
            "queries": len(kind_urls),
            "first_median_ms": round(statistics.median(first), 2), "first_p95_ms": _p95(first),
            "first_cpu_median_ms": round(statistics.median(first_cpu), 2),
            "first_cpu_p95_ms": _p95(first_cpu),
        }
        if again:
            out[kind].update({
                "again_median_ms": round(statistics.median(again), 2),
                "again_p95_ms": _p95(again),
                "again_cpu_median_ms": round(statistics.median(again_cpu), 2),
                "again_cpu_p95_ms": _p95(again_cpu),
            })
    return out


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
    runs = [clocked(lambda: client.get(url))[1:] for _ in range(repeat)]
    times = sorted(wall for wall, _cpu in runs)
    cpu = [cpu for _wall, cpu in runs]
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
        # What a page costs to make: a visitor's kept page (core/page_cache.py) or a
        # member's kept results (core/kept_regions.py) would be timed instead.
        # bench/throughput.py measures the site as configured, caches and all.
        "PAGE_CACHE_SECONDS": 0,
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
    parser.add_argument("--kinds", type=int, default=0,
                        help="also time this many different member searches of each kind "
                             "(term, phrase, faceted, cross-language)")
    parser.add_argument("--kinds-seed", type=int, default=5)
    parser.add_argument("--kinds-repeat", type=int, default=3)
    parser.add_argument("--only-kinds", action="store_true",
                        help="skip the fixed page list")
    parser.add_argument("--searches-only", type=int, default=0, metavar="REPEAT",
                        help="time the --kinds searches through the search service alone "
                             "(no pages, result cache off), each the best of REPEAT runs")
    parser.add_argument("--estimates", action="store_true",
                        help="with --kinds: how far estimated counts are from exact ones")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    results: dict = {"load_average_before": os.getloadavg(), "args": vars(args)}
    bare = bare_app().test_client()
    results["bare"] = [timed(bare, "/", args.repeat * 5), timed(bare, "/rows", args.repeat * 5)]

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        if args.existing:
            from buyergroup import create_app

            # What a page costs to make, as make_app's: no kept page or region.
            app, cleanup = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                                       "PAGE_CACHE_SECONDS": 0}), None
        else:
            app, cleanup = make_app(args.database, args.search, args.pg_url, Path(tmp))
        try:
            if not args.existing:
                results["load_seconds"] = round(load(app, args.items, args.seed), 1)
            from buyergroup.extensions import db

            with app.app_context():
                engine = db.engine
            client = app.test_client()
            pages = not args.only_kinds
            results["visitor"] = [timed(client, url, args.repeat, engine)
                                  for url in VISITOR_PAGES if pages]
            member = app.test_client()
            response = member.post("/login", data={"email": "member@example.org",
                                                   "password": "buyergroup-demo"})
            assert response.status_code == 302, response.status_code
            results["member"] = [timed(member, url, args.repeat, engine)
                                 for url in MEMBER_PAGES if pages]
            if args.kinds:
                for url in MEMBER_PAGES:  # open the searchers, fill the glossary's cache
                    member.get(url)
                urls = search_urls(args.kinds, args.kinds_seed)
                if args.estimates:
                    results["estimates"] = estimate_errors(app, urls)
                if args.searches_only:
                    results["member_searches"] = timed_searches(app, urls, args.searches_only)
                else:
                    # "refined": other faceted searches, their words asked just before.
                    urls["refined"] = refined_urls(
                        search_urls(args.kinds, args.kinds_seed + 1)["faceted"])
                    results["member_kinds"] = timed_kinds(
                        member, urls, args.kinds_repeat, forget=lambda: forget_scores(app))
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
    for kind, row in results.get("member_kinds", {}).items():
        line = (f"m {kind:16} {row['queries']:3} searches  first: median "
                f"{row['first_median_ms']:7.2f} p95 {row['first_p95_ms']:7.2f} "
                f"(CPU {row['first_cpu_median_ms']:.2f} / {row['first_cpu_p95_ms']:.2f})")
        if "again_median_ms" in row:
            line += (f"  again: median {row['again_median_ms']:7.2f} "
                     f"p95 {row['again_p95_ms']:7.2f} (CPU {row['again_cpu_median_ms']:.2f} "
                     f"/ {row['again_cpu_p95_ms']:.2f})")
        print(line)
    for kind, row in results.get("member_searches", {}).items():
        print(f"s {kind:16} {row['queries']:3} searches  median {row['median_ms']:7.2f} "
              f"p95 {row['p95_ms']:7.2f} (CPU {row['cpu_median_ms']:.2f} / "
              f"{row['cpu_p95_ms']:.2f})")
    if "estimates" in results:
        estimates = results["estimates"]
        print(f"estimated searches: {len(estimates['searches'])}")
        for name in ("total", "facet_value_of_itself", "facet_value_of_total"):
            print(f"  error of {name}: {estimates[name]}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.path.append(str(ROOT))  # for "bench" itself when run as a script
    main()
