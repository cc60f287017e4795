"""What a return and a ledger entry add to finance's day aggregates, and the figures read back from them.

A return is counted on the day its current status began (`status_since`), once: when its status changes
it leaves its old day's counts and joins the new day's, so the sum over a range is exactly "returns whose
current status began in the range", as /analytics/returns always answered. A ledger entry is counted on
its issue day, by currency and kind.

Counts are flat attributes of one item per day (`status:refunded`, `reason:defective`, `sku:JEANS-32`,
`dur:412`): DynamoDB's ADD creates a missing attribute at zero, and a day is one GetItem.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

RETURNS = "returns"
UNITS = "units"
ORDERED = "ordered"
STATUS, REASON, SKU, DURATION = "status:", "reason:", "sku:", "dur:"
# Refunds paid before the inspection (rules/refund_timing.py, issue 33): of the paid returns (PAID), those
# paid early (PAID_EARLY: at the carrier's first scan or at receipt; PAID_BEFORE_RECEIPT: at the first scan),
# the time saved once the parcel was inspected (a histogram like the durations', SAVED), and the inspections
# that found less than was paid (BELOW_REFUND).
PAID, PAID_EARLY, PAID_BEFORE_RECEIPT, SAVED, BELOW_REFUND = (
    "paid", "paid_early", "paid_before_receipt", "saved:", "below_refund")
# A day item holds at most this many SKUs by name; the day's further SKUs add to OTHER_SKUS (an item is at
# most 400 KB: 1,000 SKUs of up to 64 characters and their counts are about 75 KB).
MAX_SKUS_PER_DAY = 1000
OTHER_SKUS = "sku_other"
# Durations are kept as a histogram of buckets growing by 2 %: bucket b >= 1 holds [BASE**(b-1), BASE**b)
# seconds, bucket 0 [0, 1). The median read back is the bucket's geometric middle: within 1 % of the
# true value (for a duration of a second or more; under a second it is 0.5).
DURATION_BASE = 1.02


def duration_bucket(seconds: float) -> int:
    if seconds < 1:
        return 0
    return 1 + int(math.floor(math.log(seconds) / math.log(DURATION_BASE)))


def bucket_seconds(bucket: int) -> float:
    """The value a bucket stands for: its geometric middle."""
    if bucket <= 0:
        return 0.5
    return round(float(DURATION_BASE ** (bucket - 0.5)), 1)


def median_of(histogram: Mapping[int, int]) -> float | None:
    """The median of the durations a histogram counts (the mean of the two middle ones for an even count,
    as statistics.median), each read as its bucket's middle; None when it counts nothing."""
    total = sum(n for n in histogram.values() if n > 0)
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[float] = []
    seen = 0
    for bucket in sorted(b for b, n in histogram.items() if n > 0):
        seen += histogram[bucket]
        while wanted and wanted[0] < seen:
            found.append(bucket_seconds(bucket))
            wanted.pop(0)
    return (found[0] + found[1]) / 2


@dataclass(frozen=True)
class EarlyRefund:
    """How a paid return's refund was timed (read from its timeline): paid early, at which trigger
    (`first_scan` or `receipt`), the seconds from that refund to the inspection (None until inspected),
    and whether the inspection found less than was paid."""
    paid_early: bool = False
    trigger: str | None = None
    saved_seconds: float | None = None
    below_refund: bool = False


def return_counts(status: str, items: Iterable[Mapping[str, object]], duration_seconds: float | None,
                  sku_attribute: Mapping[str, str] | None = None, paid: EarlyRefund | None = None) -> dict[str, int]:
    """What one return adds to its day: the return, its status, each item's reason (one per line, as
    by_reason always counted) and its SKU's units, its units, its drop-off-to-refund bucket if paid, and
    when paid (`paid`) how early. `sku_attribute` maps a SKU to the attribute it is counted under (its
    own or OTHER_SKUS)."""
    counts: dict[str, int] = {RETURNS: 1, STATUS + status: 1}
    if paid is not None:
        counts[PAID] = 1
        if paid.paid_early:
            counts[PAID_EARLY] = 1
            if paid.trigger == "first_scan":
                counts[PAID_BEFORE_RECEIPT] = 1
            if paid.saved_seconds is not None:
                counts[SAVED + str(duration_bucket(max(0.0, paid.saved_seconds)))] = 1
            if paid.below_refund:
                counts[BELOW_REFUND] = 1
    for item in items:
        qty = int(str(item.get("qty") or 0))
        reason = str(item.get("reason") or "other")
        sku = str(item.get("sku"))
        counts[REASON + reason] = counts.get(REASON + reason, 0) + 1
        attribute = (sku_attribute or {}).get(sku, SKU + sku)
        counts[attribute] = counts.get(attribute, 0) + qty
        counts[UNITS] = counts.get(UNITS, 0) + qty
    if duration_seconds is not None:
        counts[DURATION + str(duration_bucket(duration_seconds))] = 1
    return counts


def entry_counts(kind: str, currency: str, amount: int, from_capture: int) -> dict[str, int]:
    """What one ledger entry adds to its issue day: what the customer got (`paid`, a store credit bonus
    included), what came from the order's capture (`captured`), one entry; by currency and kind."""
    return {f"paid:{currency}:{kind}": amount, f"captured:{currency}:{kind}": from_capture,
            f"entries:{currency}:{kind}": 1}


def prefixed(counts: Mapping[str, int], prefix: str) -> dict[str, int]:
    """The counts under `prefix`, by the rest of their name, sorted, zeros left out (a return that moved
    on leaves a zero behind)."""
    return {name[len(prefix):]: int(n) for name, n in sorted(counts.items()) if name.startswith(prefix) and n}


def add(into: dict[str, int], counts: Mapping[str, int], sign: int = 1) -> dict[str, int]:
    for name, n in counts.items():
        into[name] = into.get(name, 0) + sign * int(n)
    return into


def totals(counts: Mapping[str, int]) -> dict[str, dict[str, dict[str, int]]]:
    """A ledger day's (or range's) counts as {currency: {kind: {paid, captured, entries}}}."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for name, n in sorted(counts.items()):
        parts = name.split(":", 2)
        if len(parts) != 3 or parts[0] not in ("paid", "captured", "entries"):
            continue
        what, currency, kind = parts
        out.setdefault(currency, {}).setdefault(kind, {"paid": 0, "captured": 0, "entries": 0})[what] = int(n)
    return out
