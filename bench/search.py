"""Search benchmarks: index build rate and query latency on a synthetic corpus.

    python -m bench.search --items 10000
    python -m bench.search --items 10000 --items 100000 --json bench-results.json

Backends: Whoosh (``whoosh``), PostgreSQL full-text search (``postgresql``, a throw-away
database on ``--pg-url``) and, as a reference, SQLite FTS5 (``fts5``) on the same corpus.
Queries are timed through each backend's ``search()`` as a visitor would run them (public
audience, 20 hits, facet counts, snippets, and "did you mean" when nothing is found). Not a
test: the figures go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import corpus
from bench.whoosh_facets import FACET_COUNTING, GroupedFacetsBackend
from buyergroup.search import syntax
from buyergroup.search.postgres_backend import PostgresBackend, install
from buyergroup.search.types import SearchBackend, SearchQuery
from buyergroup.search.whoosh import WhooshBackend

QUERY_KINDS = ("term", "phrase", "faceted", "cross-language", "browse")
WARM_UP = 10


@dataclass
class Query:
    kind: str
    text: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    expansions: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"


def make_queries(per_kind: int, seed: int) -> list[Query]:
    """The same queries for every backend: ``per_kind`` of each kind."""
    rng = random.Random(seed)
    words = {lang: [w for w in corpus.WORDS[lang].split() if syntax.WORD_RE.fullmatch(w)]
             for lang in corpus.LANGUAGES}
    glossary = corpus.glossary_terms()
    queries: list[Query] = []

    def language() -> str:
        return rng.choices(corpus.LANGUAGES, weights=corpus.LANGUAGE_WEIGHTS)[0]

    for _ in range(per_kind):
        lang = language()
        # Term: one word, sometimes two (AND).
        terms = rng.sample(words[lang], 2 if rng.random() < 0.3 else 1)
        queries.append(Query("term", " ".join(terms)))
        # Phrase: half planted glossary phrases (found), half two vocabulary words in a row
        # (both words common, rarely adjacent: the slow path).
        if rng.random() < 0.5:
            phrase = rng.choice([g[lang] for g in glossary if " " in g[lang]]
                                or [rng.choice(words[lang]) + " " + rng.choice(words[lang])])
        else:
            phrase = " ".join(rng.sample(words[lang], 2))
        queries.append(Query("phrase", f'"{phrase}"'))
        # Faceted: a word and one or two filters.
        filters = {"product_group": [rng.choice(corpus.PRODUCT_GROUPS)]}
        if rng.random() < 0.5:
            filters["country"] = [rng.choice(corpus.COUNTRIES)]
        queries.append(Query("faceted", rng.choice(words[lang]), filters=filters))
        # Cross-language: a glossary term, expanded as the glossary would.
        concept = rng.choice(glossary)
        term = concept[lang]
        queries.append(Query("cross-language", term, expansions={
            " ".join(syntax.query_words(term)): [t for code, t in concept.items() if code != lang]
        }))
        # Browse: no words, a filter, newest first (the library's list pages).
        queries.append(Query("browse", "", sort="newest",
                             filters={"theme": [rng.choice(corpus.THEMES)]}))
    return queries


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(timings: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
    }


REPEAT = 1  # set from --repeat


def time_queries(run: Callable[[Query], Any], queries: list[Query]) -> dict[str, dict]:
    """Median, p95 and max per kind of query. With ``REPEAT`` > 1 each query's time is the
    best of that many runs (rounds over the whole list), which filters out what other
    processes on a shared machine do to single measurements."""
    for query in queries[:WARM_UP]:  # open searchers, fill caches
        run(query)
    best: list[float] = [float("inf")] * len(queries)
    partial: dict[str, int] = dict.fromkeys(QUERY_KINDS, 0)
    for round_ in range(REPEAT):
        for i, query in enumerate(queries):
            started = time.perf_counter()
            result = run(query)
            best[i] = min(best[i], (time.perf_counter() - started) * 1000)
            if round_ == 0 and getattr(result, "partial", False):
                partial[query.kind] += 1
    by_kind: dict[str, list[float]] = {kind: [] for kind in QUERY_KINDS}
    for query, elapsed in zip(queries, best, strict=True):
        by_kind[query.kind].append(elapsed)
    return {kind: {**summarise(t), "partial": partial[kind]}
            for kind, t in by_kind.items() if t}


def search_with(backend: SearchBackend) -> Callable[[Query], Any]:
    def run(query: Query):
        return backend.search(
            SearchQuery(text=query.text, filters=query.filters, audiences=["public"],
                        sort=query.sort, per_page=20),
            query.expansions,
        )
    return run


def single_updates(backend: SearchBackend, items: int, count: int = 30) -> dict[str, float]:
    """What one committed change costs to apply (the after-commit path)."""
    timings = []
    for n, document in enumerate(corpus.documents(count, seed=99), start=1):
        document.ref, document.item_id = f"bench:{n * (items // count)}", n * (items // count)
        started = time.perf_counter()
        with backend.writer_lock(30):
            backend.upsert([document])
        timings.append((time.perf_counter() - started) * 1000)
    return summarise(timings)


# --- Backends -----------------------------------------------------------------------------------


def bench_whoosh(items: int, queries: list[Query], workdir: Path, procs: int) -> dict:
    folder = workdir / f"whoosh-{items}"
    shutil.rmtree(folder, ignore_errors=True)
    # result_cache_size=0: every query timed is computed (the cache would answer repeats).
    backend = WhooshBackend(folder, reindex_procs=procs, writer_timeout=600, result_cache_size=0)
    started = time.perf_counter()
    count = backend.rebuild(corpus.documents(items))
    build = time.perf_counter() - started
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    result = {
        "build_seconds": round(build, 1),
        "docs_per_second": round(count / build),
        "procs": procs,
        "index_mb": round(size / 1e6, 1),
        "queries": time_queries(search_with(backend), queries),
        "single_update": single_updates(backend, items),
    }
    # Whoosh's own grouping for the facet counts, for comparison (term and faceted queries;
    # skipped on big corpora, where the stock grouping takes seconds per query).
    subset = [q for q in queries if q.kind in ("term", "faceted")]
    for counting in FACET_COUNTING if items <= 20_000 else ():
        variant = GroupedFacetsBackend(folder, facet_counting=counting, result_cache_size=0)
        result[f"queries_{counting}"] = time_queries(search_with(variant), subset)
    return result


def bench_postgres(items: int, queries: list[Query], server_url: str) -> dict:
    url = make_url(server_url)
    name = f"buyergroup_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name))
    try:
        with engine.begin() as connection:
            install(connection)
        backend = PostgresBackend(engine, writer_timeout=600, statement_timeout_ms=30000,
                                  result_cache_size=0)
        started = time.perf_counter()
        count = backend.rebuild(corpus.documents(items))
        build = time.perf_counter() - started
        with engine.connect() as connection:
            size = connection.execute(text(
                "SELECT pg_total_relation_size('search.search_documents')")).scalar_one()
        return {
            "build_seconds": round(build, 1),
            "docs_per_second": round(count / build),
            "index_mb": round(size / 1e6, 1),
            "queries": time_queries(search_with(backend), queries),
            "single_update": single_updates(backend, items),
        }
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def postgres_reachable(server_url: str) -> bool:
    engine = create_engine(server_url)
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means: benchmark without it
        return False
    finally:
        engine.dispose()


def _fts5_match(query: Query) -> str:
    def quoted(words: list[str]) -> str:
        return '"' + " ".join(words) + '"'

    options = [quoted(syntax.WORD_RE.findall(query.text))]
    if query.kind == "term":
        options = [" AND ".join(quoted([w]) for w in syntax.WORD_RE.findall(query.text))]
    for translations in query.expansions.values():
        options += [quoted(syntax.WORD_RE.findall(t)) for t in translations]
    return " OR ".join(options)


def bench_fts5(items: int, queries: list[Query], workdir: Path) -> dict:
    """SQLite FTS5 as a reference: hits with bm25 and snippet(), plus the total; no facet
    counts, English stemmer only (FTS5 has no other)."""
    path = workdir / f"fts5-{items}.sqlite"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, summary, body, attachments, "
               "tokenize='porter unicode61 remove_diacritics 2')")
    db.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, public INTEGER, country TEXT, "
               "product_groups TEXT, theme TEXT, published TEXT)")
    started = time.perf_counter()
    with db:
        for document in corpus.documents(items):
            db.execute("INSERT INTO docs (rowid, title, summary, body, attachments) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (document.item_id, document.title, document.summary, document.body,
                        document.attachments_text))
            db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)", (
                document.item_id, int("public" in document.audiences),
                document.facets["country"][0], "," + ",".join(document.facets["product_group"])
                + ",", "," + ",".join(document.facets["theme"]) + ",",
                document.published_at.isoformat()))
    build = time.perf_counter() - started

    def run(query: Query):
        conditions, params = ["meta.public = 1"], []
        for code in query.filters.get("product_group", []):
            conditions.append("meta.product_groups LIKE ?")
            params.append(f"%,{code},%")
        for code in query.filters.get("country", []):
            conditions.append("meta.country = ?")
            params.append(code)
        for code in query.filters.get("theme", []):
            conditions.append("meta.theme LIKE ?")
            params.append(f"%,{code},%")
        where = " AND ".join(conditions)
        if not query.text:
            rows = db.execute(f"SELECT id FROM meta WHERE {where} ORDER BY published DESC "
                              "LIMIT 20", params).fetchall()
            db.execute(f"SELECT count(*) FROM meta WHERE {where}", params).fetchone()
            return rows
        match = _fts5_match(query)
        rows = db.execute(
            "SELECT docs.rowid, snippet(docs, 2, '<mark>', '</mark>', ' … ', 12) FROM docs "
            f"JOIN meta ON meta.id = docs.rowid WHERE docs MATCH ? AND {where} "
            "ORDER BY bm25(docs, 4.0, 2.0, 1.0, 0.5) LIMIT 20", [match, *params]).fetchall()
        db.execute(f"SELECT count(*) FROM docs JOIN meta ON meta.id = docs.rowid "
                   f"WHERE docs MATCH ? AND {where}", [match, *params]).fetchone()
        return rows

    result = {
        "build_seconds": round(build, 1),
        "docs_per_second": round(items / build),
        "index_mb": round(path.stat().st_size / 1e6, 1),
        "queries": time_queries(run, queries),
    }
    db.close()
    return result


# --- Main ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "system": platform.platform()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, action="append",
                        help="corpus size (repeatable; default 10000)")
    parser.add_argument("--queries", type=int, default=100, help="queries per kind")
    parser.add_argument("--backends", default="whoosh,postgresql,fts5")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--whoosh-procs", type=int, default=1,
                        help="processes for the Whoosh rebuild")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per query; its best time counts (for busy machines)")
    args = parser.parse_args(argv)
    global REPEAT
    REPEAT = max(args.repeat, 1)

    sizes = args.items or [10_000]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    queries = make_queries(args.queries, args.seed)
    random.Random(args.seed).shuffle(queries)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="buyergroup-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "queries_per_kind": args.queries,
                              "repeat": REPEAT, "load_before": os.getloadavg(), "results": {}}
    try:
        for items in sizes:
            for backend in backends:
                print(f"== {backend}, {items} items", flush=True)
                if backend == "whoosh":
                    result = bench_whoosh(items, queries, workdir, args.whoosh_procs)
                elif backend == "postgresql":
                    if not postgres_reachable(args.pg_url):
                        print(f"   skipped: no PostgreSQL at {args.pg_url} (--pg-url)")
                        continue
                    result = bench_postgres(items, queries, args.pg_url)
                elif backend == "fts5":
                    result = bench_fts5(items, queries, workdir)
                else:
                    raise SystemExit(f"unknown backend {backend!r}")
                report["results"].setdefault(str(items), {})[backend] = result
                print(json.dumps(result, indent=2), flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
