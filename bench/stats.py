"""The bench's arithmetic, in one place and unit-tested (tests/unit/test_bench_arithmetic.py)."""
from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation between closest ranks (numpy's default);
    None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is not within 0-100")
    rank = (len(xs) - 1) * p / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def summary_ms(values: list[float]) -> dict:
    """p50/p95/p99 (and n, max) of durations in milliseconds, rounded to 0.1 ms."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    return {"n": len(values), **{f"p{p}": round(percentile(values, p), 1) for p in (50, 95, 99)},
            "max": round(max(values), 1)}


def ratio(numerator: float | None, denominator: float | None, digits: int = 2) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def per_minute(completed: int, wall_seconds: float) -> float | None:
    return round(completed / wall_seconds * 60, 1) if wall_seconds > 0 else None


def blend(per_path: dict[str, float], mix: dict[str, float]) -> float | None:
    """The mix-weighted mean of per-path figures over the paths measured (weights renormalised)."""
    weights = {p: w for p, w in mix.items() if p in per_path and per_path[p] is not None}
    total = sum(weights.values())
    if not total:
        return None
    return sum(per_path[p] * w for p, w in weights.items()) / total
