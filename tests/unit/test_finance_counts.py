"""What a return adds to finance's day aggregates (rules/finance_counts.py), the refund's timing included."""
from __future__ import annotations

from hypothesis import given, strategies as st

from returns_core.rules import finance_counts
from returns_core.rules.finance_counts import EarlyRefund

ITEMS = [{"sku": "COAT", "qty": 2, "reason": "defective"}]


def test_an_unpaid_return_counts_no_refund_and_a_paid_one_counts_one():
    assert "paid" not in finance_counts.return_counts("received", ITEMS, None)
    counts = finance_counts.return_counts("refunded", ITEMS, 3600.0, paid=EarlyRefund())
    assert counts["paid"] == 1 and "paid_early" not in counts and "below_refund" not in counts


def test_an_early_refund_counts_its_trigger_its_time_saved_and_a_shortfall():
    counts = finance_counts.return_counts("closed", ITEMS, None, paid=EarlyRefund(
        paid_early=True, trigger="first_scan", saved_seconds=2 * 86400, below_refund=True))
    assert (counts["paid"], counts["paid_early"], counts["paid_before_receipt"], counts["below_refund"]) == (1, 1, 1, 1)
    (saved,) = finance_counts.prefixed(counts, finance_counts.SAVED)
    assert abs(finance_counts.bucket_seconds(int(saved)) - 2 * 86400) / (2 * 86400) < 0.01
    at_receipt = finance_counts.return_counts("refunded", ITEMS, None, paid=EarlyRefund(paid_early=True,
                                                                                         trigger="receipt"))
    assert at_receipt["paid_early"] == 1 and "paid_before_receipt" not in at_receipt
    assert not finance_counts.prefixed(at_receipt, finance_counts.SAVED)   # not inspected yet: nothing saved


@given(st.lists(st.floats(0, 90 * 86400), min_size=1, max_size=50))
def test_the_median_time_saved_is_within_one_percent(seconds):
    histogram: dict[int, int] = {}
    for s in seconds:
        bucket = finance_counts.duration_bucket(s)
        histogram[bucket] = histogram.get(bucket, 0) + 1
    ordered = sorted(seconds)
    n = len(ordered)
    exact = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    median = finance_counts.median_of(histogram)
    assert median is not None
    assert abs(median - exact) <= max(0.01 * exact, 1.0)
