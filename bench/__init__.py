"""Benchmarks (not tests): ``python -m bench`` or ``python -m bench.search --items 10000``."""
