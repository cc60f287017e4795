"""Benchmarks (issue 9): cost per 1,000 returns, cold start, flat query cost, local throughput, package size.

Run from the repository root: `make bench` (= `.venv/bin/python -m bench`).
"""
import os


def cold_starts_as_on_lambda() -> None:
    """Every Lambda environment a benchmark starts pays its whole cold start, as on AWS: the local
    stack's pre-loaded runtimes (infra/local/workers.py), which fork environments with the libraries
    already imported, would make INITs and first invocations look cheaper than Lambda bills them.
    Set in the environment, so that every stack a part starts inherits it; called by each part's entry
    point (never on import: the tests import bench's arithmetic, and their stacks do pre-load)."""
    os.environ["LOCAL_LAMBDA_PRELOAD"] = "0"
