"""Benchmarks (issue 9): cost per 1,000 returns, cold start, flat query cost, local throughput, package size.

Run from the repository root: `make bench` (= `.venv/bin/python -m bench`).
"""
