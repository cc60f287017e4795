"""The default policy of issue 3, number by number."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from returns_core.rules import policy
from returns_core.rules.money import Money, MoneyError

PRICES = {"TSHIRT": 2499, "JEANS": 7999}
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def item(sku="TSHIRT", qty=1, reason="defective"):
    return {"sku": sku, "qty": qty, "reason": reason}


def test_window_is_30_days_from_delivery():
    line = {"sku": "TSHIRT", "qty": 2, "final_sale": False}
    assert policy.line_eligibility(line, NOW - timedelta(days=30), NOW, 0).eligible
    late = policy.line_eligibility(line, NOW - timedelta(days=31), NOW, 0)
    assert not late.eligible and "30-day" in late.reason and late.returnable_qty == 0


def test_final_sale_and_already_returned_lines_are_not_returnable():
    assert not policy.line_eligibility({"sku": "X", "qty": 1, "final_sale": True}, NOW, NOW, 0).eligible
    used_up = policy.line_eligibility({"sku": "X", "qty": 2}, NOW, NOW, 2)
    assert not used_up.eligible and used_up.reason
    assert policy.line_eligibility({"sku": "X", "qty": 3}, NOW, NOW, 1).returnable_qty == 2


def test_shipping_fee_once_when_every_reason_is_the_customers_choice():
    q = policy.quote_request([item(reason="too_small"), item("JEANS", reason="changed_mind")], PRICES, "EUR", "refund")
    assert (q.items_total, q.return_shipping_fee, q.refund_amount) == (10498, 495, 10003)
    mixed = policy.quote_request([item(reason="too_small"), item("JEANS", reason="defective")], PRICES, "EUR", "refund")
    assert mixed.return_shipping_fee == 0 and mixed.refund_amount == 10498


@pytest.mark.parametrize("condition,reason,expected", [
    ("resellable", "changed_mind", 2499 - 495), ("opened", "too_large", 2249 - 495),
    ("damaged", "changed_mind", 1250 - 495), ("damaged", "defective", 2499),
    ("damaged", "damaged_in_transit", 2499), ("wrong_item", "defective", 0), ("missing", "other", 0),
])
def test_refund_by_grade(condition, reason, expected):
    q = policy.quote_inspected([item(reason=reason)], [{"sku": "TSHIRT", "qty": 1, "condition": condition}],
                               PRICES, "EUR", "refund")
    assert q.refund_amount == expected


def test_store_credit_adds_ten_percent():
    q = policy.quote_request([item(qty=2)], PRICES, "EUR", "store_credit")
    assert (q.items_total, q.bonus, q.refund_amount) == (4998, 500, 5498)


def test_exchange_moves_no_money_and_a_failed_item_falls_back_to_the_graded_refund():
    items = [item(reason="too_small"), item("JEANS", reason="too_small")]
    q = policy.quote_inspected(items, [{"sku": "TSHIRT", "qty": 1, "condition": "resellable"},
                                       {"sku": "JEANS", "qty": 1, "condition": "damaged"}], PRICES, "EUR", "exchange")
    assert [x.sku for x in q.exchanged] == ["TSHIRT"]
    assert q.return_shipping_fee == 0 and q.refund_amount == 4000  # 50 % of the jeans


def test_approval_above_50000_and_risky_returns():
    assert not policy.needs_approval(50000) and policy.needs_approval(50001)
    assert policy.is_risky(order_total=100001, returns_in_90_days=0)
    assert policy.is_risky(order_total=1000, returns_in_90_days=2)   # this one is the 3rd
    assert not policy.is_risky(order_total=100000, returns_in_90_days=1)


@given(st.integers(0, 10**9), st.integers(0, 100))
def test_percent_is_integer_and_rounds_half_up(amount, pct):
    got = Money(amount, "EUR").percent(pct).amount
    assert isinstance(got, int)
    assert abs(got * 100 - amount * pct) <= 50


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(MoneyError):
        Money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(1, "EUR") + Money(1, "USD")


@given(st.lists(st.tuples(st.sampled_from(list(PRICES)), st.integers(1, 3),
                          st.sampled_from(policy.CONDITIONS), st.sampled_from(policy.REASONS)),
                min_size=1, max_size=2, unique_by=lambda t: t[0]),
       st.sampled_from(policy.RESOLUTIONS))
def test_final_refund_never_exceeds_the_announced_quote_plus_bonus(lines, resolution):
    items = [item(sku, qty, reason) for sku, qty, _c, reason in lines]
    graded = [{"sku": sku, "qty": qty, "condition": c} for sku, qty, c, _r in lines]
    before = policy.quote_request(items, PRICES, "EUR", resolution)
    after = policy.quote_inspected(items, graded, PRICES, "EUR", resolution)
    assert after.refund_amount >= 0
    if resolution != "exchange":
        assert after.refund_amount <= before.refund_amount
