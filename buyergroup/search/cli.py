"""``flask search ...``: rebuild the index, drain the update queue, show the state."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from buyergroup.search.service import apply_pending, index_status, reindex
from buyergroup.search.types import IndexBusy


def register_search_cli(app: Flask) -> None:
    """Add the ``search`` command group (call from ``buyergroup.cli.register_cli``)."""
    search = AppGroup("search", help="The search index.")

    @search.command("reindex")
    @click.option("--procs", type=click.IntRange(min=1), default=None,
                  help="Whoosh indexing processes (default SEARCH_REINDEX_PROCS; 2 is "
                       "about twice as fast on two cores), or the connections a "
                       "PostgreSQL index is written on (default 2).")
    def search_reindex(procs: int | None) -> None:
        """Rebuild the whole index from the database; searches keep working meanwhile."""
        try:
            count = reindex(procs=procs)
        except IndexBusy as busy:
            raise click.ClickException(f"The index writer is busy: {busy}") from None
        click.echo(f"Indexed {count} document(s).")

    @search.command("apply")
    @click.option("--limit", default=500, show_default=True, help="Updates per batch.")
    def search_apply(limit: int) -> None:
        """Apply every queued index update now (what the scheduler does each tick)."""
        total = 0
        while True:
            applied = apply_pending(limit=limit)
            total += applied
            if applied == 0:
                break
        click.echo(f"Applied {total} update(s).")

    @search.command("status")
    def search_status() -> None:
        """Documents in the index and updates waiting in the queue."""
        status = index_status()
        click.echo(f"Backend: {status['backend']}")
        click.echo(f"Documents in the index: {status['documents']}")
        click.echo(f"Pending updates: {status['pending']} ({status['failing']} failing)")
        if status["oldest_pending"] is not None:
            click.echo(f"Oldest pending update: {status['oldest_pending']:%Y-%m-%d %H:%M:%S} UTC")

    app.cli.add_command(search)
    app.cli.add_command(_bench_group())


def _bench_group() -> AppGroup:
    bench = AppGroup("bench", help="Benchmark data (bench/, in a source checkout).")

    @bench.command("load")
    @click.option("--items", type=click.IntRange(min=1), required=True,
                  help="Synthetic library items to add.")
    @click.option("--seed", type=int, default=7, show_default=True,
                  help="Same seed, same corpus.")
    @click.option("--batch", type=click.IntRange(min=1), default=2000, show_default=True,
                  help="Items per transaction.")
    def bench_load(items: int, seed: int, batch: int) -> None:
        """Fill the database and the search index with the synthetic corpus of
        bench/corpus.py (published items, a fifth of them translations)."""
        import sys
        from pathlib import Path

        root = str(Path(__file__).resolve().parents[2])
        if root not in sys.path:
            sys.path.append(root)  # bench/ sits beside the package in a checkout
        try:
            from bench.load import load_items
        except ImportError as error:
            raise click.ClickException(
                f"bench/ is not importable here ({error}); run from a source checkout"
            ) from None

        def progress(done: int, seconds: float, cpu: float) -> None:
            click.echo(f"  {done} items, {done / seconds:.0f} items/s "
                       f"({done / max(cpu, 1e-9):.0f} per CPU second of this process)")

        rate, cpu_rate = load_items(items, seed=seed, batch=batch, progress=progress)
        click.echo(f"Loaded {items} items at {rate:.0f} items/s "
                   f"({cpu_rate:.0f} per CPU second of this process).")

    return bench
