"""The store's policy document (rules/policy_document.py): validation by path, rule precedence,
per-currency amounts, keep_item, and a quote that never exceeds what was paid."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from returns_core.rules import paid, policy
from returns_core.rules.policy_document import (
    BUILT_IN,
    BUILT_IN_DOCUMENT,
    LineFacts,
    OrderFacts,
    PolicyInvalid,
    decide,
    parse,
    warnings,
)

EUR = OrderFacts("EUR", "FR", date(2026, 12, 1), 0)
JPY = OrderFacts("JPY", "JP", date(2026, 12, 1), 0)


def line(sku="S1", price=5000, category=None, tags=(), reason=None, resolution=None):
    return LineFacts(sku, price, category, tuple(tags), reason, resolution)


def problems(doc):
    with pytest.raises(PolicyInvalid) as exc:
        parse(doc)
    return [p for p, _ in exc.value.problems]


def test_the_built_in_document_decides_exactly_the_old_default_terms():
    got = decide(BUILT_IN_DOCUMENT, line(), EUR)
    assert got.rule is None and got.terms == policy.DEFAULT
    assert decide(BUILT_IN_DOCUMENT, line(), JPY).terms == policy.DEFAULT


def test_rules_apply_in_list_order_a_later_one_overriding_key_by_key():
    doc = parse({"rules": [
        {"id": "shoes-long", "match": {"category": ["shoes"]}, "set": {"window_days": 60, "restocking_fee_percent": 5}},
        {"id": "clearance", "match": {"tags": ["clearance"]}, "set": {"window_days": 14}},
        {"id": "not-matching", "match": {"sku": ["OTHER"]}, "set": {"window_days": 1}},
    ]})
    both = decide(doc, line(category="shoes", tags=("clearance", "x")), EUR)
    assert both.rule == "clearance"                       # the last rule that matched decides
    assert both.terms.window_days == 14                   # overridden by the later rule
    assert both.terms.restocking_fee_percent == 5         # kept from the earlier one: key by key
    only_first = decide(doc, line(category="shoes"), EUR)
    assert (only_first.rule, only_first.terms.window_days) == ("shoes-long", 60)
    assert decide(doc, line(category="bags"), EUR).rule is None


def test_every_match_key_must_hold():
    doc = parse({"rules": [{"id": "r", "match": {
        "country": ["FR"], "reason": ["defective"], "resolution": ["refund"], "unit_price_below": 1000,
        "delivered_from": "2026-11-15", "delivered_to": "2026-12-31", "customer_returns_in_90_days_above": 1},
        "set": {"keep_item": True}}]})
    hit = line(price=999, reason="defective", resolution="refund")
    facts = OrderFacts("EUR", "FR", date(2026, 12, 1), 2)
    assert decide(doc, hit, facts).terms.keep_item
    for facts_miss in (OrderFacts("EUR", "DE", date(2026, 12, 1), 2), OrderFacts("EUR", "FR", date(2026, 11, 14), 2),
                       OrderFacts("EUR", "FR", date(2027, 1, 1), 2), OrderFacts("EUR", "FR", date(2026, 12, 1), 1),
                       OrderFacts("EUR", "FR", None, 2)):
        assert decide(doc, hit, facts_miss).rule is None, facts_miss
    for line_miss in (line(price=1000, reason="defective", resolution="refund"),
                      line(price=999, reason="changed_mind", resolution="refund"),
                      line(price=999, reason=None, resolution="refund"),          # at the lookup: no reason yet
                      line(price=999, reason="defective", resolution="store_credit")):
        assert decide(doc, line_miss, facts).rule is None, line_miss


def test_unreturnable_with_its_message():
    doc = parse({"rules": [{"id": "no-swimwear", "match": {"category": ["swimwear"]},
                            "set": {"returnable": False, "message": "Swimwear cannot be returned."}}]})
    got = decide(doc, line(category="swimwear"), EUR)
    assert not got.eligible and got.rule == "no-swimwear"
    e = policy.line_eligibility({"qty": 1}, None, None, 0, got.terms)
    assert (e.eligible, e.reason) == (False, "Swimwear cannot be returned.")


def test_amounts_per_currency_zero_decimal_currencies_in_their_own_minor_units():
    doc = parse({"defaults": {"approval_above": {"EUR": 20000, "JPY": 30000},
                              "return_shipping_fee": {"amount": {"EUR": 395, "JPY": 500}}},
                 "rules": [{"id": "cheap", "match": {"unit_price_below": {"JPY": 1000}}, "set": {"keep_item": True}}]})
    eur, jpy = decide(doc, line(price=500), EUR), decide(doc, line(price=500), JPY)
    assert (eur.terms.approval_threshold, eur.terms.return_shipping_fee) == (20000, 395)
    assert (jpy.terms.approval_threshold, jpy.terms.return_shipping_fee) == (30000, 500)   # ¥30,000 and ¥500
    assert jpy.terms.keep_item and not eur.terms.keep_item   # a currency the match does not name: no match
    usd = decide(doc, line(price=500), OrderFacts("USD"))
    assert usd.terms.approval_threshold == policy.DEFAULT.approval_threshold   # not covered: the built-in value
    star = parse({"defaults": {"approval_above": {"JPY": 60000, "*": 40000}}})
    assert decide(star, line(), OrderFacts("USD")).terms.approval_threshold == 40000
    assert decide(star, line(), JPY).terms.approval_threshold == 60000


def test_a_rule_amount_map_overrides_only_the_currencies_it_names():
    doc = parse({"rules": [{"id": "jp", "match": {}, "set": {"approval_above": {"JPY": 10000}}}]})
    assert decide(doc, line(), JPY).terms.approval_threshold == 10000
    assert decide(doc, line(), EUR).terms.approval_threshold == policy.DEFAULT.approval_threshold


@pytest.mark.parametrize("doc, path", [
    ({"rules": [{"id": "a", "set": {}}, {"id": "b", "set": {}}, {"id": "c", "set": {"window_days": -1}}]},
     "policy.rules[2].set.window_days"),
    ({"rules": [{"id": "a", "set": {"window_days": "30"}}]}, "policy.rules[0].set.window_days"),
    ({"defaults": {"grades": {"opened": 101}}}, "policy.defaults.grades.opened"),
    ({"defaults": {"grades": {"scratched": 10}}}, "policy.defaults.grades.scratched"),
    ({"defaults": {"approval_above": {"eur": 1}}}, "policy.defaults.approval_above.eur"),
    ({"defaults": {"approval_above": 12.5}}, "policy.defaults.approval_above"),
    ({"defaults": {"resolutions": ["cash"]}}, "policy.defaults.resolutions[0]"),
    ({"defaults": {"keep_item": "yes"}}, "policy.defaults.keep_item"),
    ({"rules": [{"id": "a", "match": {"reason": ["bored"]}, "set": {}}]}, "policy.rules[0].match.reason[0]"),
    ({"rules": [{"id": "a", "match": {"delivered_from": "2026-13-01"}, "set": {}}]},
     "policy.rules[0].match.delivered_from"),
    ({"rules": [{"id": "a", "match": {"colour": ["red"]}, "set": {}}]}, "policy.rules[0].match.colour"),
    ({"rules": [{"id": "a", "set": {}}, {"id": "a", "set": {}}]}, "policy.rules[1].id"),
    ({"rules": [{"id": "a", "set": {"message": ""}}]}, "policy.rules[0].set.message"),
    ({"rules": [{"id": "a"}]}, "policy.rules[0].set"),
    ({"rules": "none"}, "policy.rules"),
    ({"extra": 1}, "policy.extra"),
])
def test_every_bad_field_is_named_by_its_path(doc, path):
    assert path in problems(doc)


def test_every_problem_is_reported_not_only_the_first():
    found = problems({"defaults": {"window_days": -1}, "rules": [{"id": "x", "set": {"restocking_fee_percent": 200}}]})
    assert found == ["policy.defaults.window_days", "policy.rules[0].set.restocking_fee_percent"]


def test_a_policy_that_makes_everything_unreturnable_is_valid_but_warned_about():
    doc = parse({"rules": [{"id": "stop", "match": {}, "set": {"returnable": False, "message": "Closed."}}]})
    assert [w["path"] for w in warnings(doc)] == ["policy.rules[0]"]
    rescued = parse({"rules": [{"id": "stop", "match": {}, "set": {"returnable": False, "message": "Closed."}},
                               {"id": "shoes", "match": {"category": ["shoes"]}, "set": {"returnable": True}}]})
    assert warnings(rescued) == []
    assert warnings(BUILT_IN_DOCUMENT) == []


def test_per_line_terms_in_the_quote_keep_the_old_quote_when_all_lines_share_them():
    items = [{"sku": "A", "qty": 1, "reason": "changed_mind"}, {"sku": "B", "qty": 3, "reason": "too_small"}]
    prices = {"A": 3333, "B": 1667}
    old = policy.quote_request(items, prices, "EUR", "store_credit")
    same = policy.quote_request(items, prices, "EUR", "store_credit",
                                terms={"A": policy.DEFAULT, "B": policy.DEFAULT})
    assert old == same


def test_keep_item_returns_pay_no_return_shipping():
    items = [{"sku": "A", "qty": 1, "reason": "changed_mind"}]
    kept = policy.Policy(keep_item=True)
    assert policy.quote_request(items, {"A": 5000}, "EUR", "refund", terms={"A": kept}).return_shipping_fee == 0
    assert policy.quote_request(items, {"A": 5000}, "EUR", "refund").return_shipping_fee == 495


percent = st.integers(0, 100)
terms_st = st.builds(policy.Policy, restocking_fee_percent=percent, store_credit_bonus_percent=percent,
                     return_shipping_fee=st.integers(0, 10**6), keep_item=st.booleans(),
                     shipping_fee_reasons=st.sampled_from([(), tuple(policy.REASONS)]))


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 10**6), st.one_of(st.none(), st.integers(0, 10**7))),
                      min_size=1, max_size=5),
       captured=st.integers(0, 10**8), resolution=st.sampled_from(policy.RESOLUTIONS),
       reasons=st.lists(st.sampled_from(policy.REASONS), min_size=5, max_size=5),
       terms=st.lists(terms_st, min_size=5, max_size=5))
def test_a_quote_never_exceeds_what_was_paid_for_the_lines(lines, captured, resolution, reasons, terms):
    order_lines = []
    for n, (qty, price, got) in enumerate(lines):
        entry = {"sku": f"S{n}", "qty": qty, "unit_price": price}
        if got is not None:
            entry["paid_amount"] = min(got, qty * price)
        order_lines.append(entry)
    if paid.order_problems(order_lines, captured, None):
        return
    items = [{"sku": x["sku"], "qty": x["qty"], "reason": reasons[n]} for n, x in enumerate(order_lines)]
    amounts = paid.items_paid(order_lines, captured, None, items, {})
    q = policy.quote_request(items, {x["sku"]: x["unit_price"] for x in order_lines}, "EUR", resolution,
                             paid=amounts, terms={x["sku"]: terms[n] for n, x in enumerate(order_lines)})
    paid_total = sum(amounts.values())
    assert 0 <= q.items_total <= paid_total
    # The store credit bonus is the store's own money, never taken from the capture (rules/settlement.py).
    assert 0 <= q.refund_amount - q.bonus <= paid_total
    assert q.refund_amount >= 0


def test_the_built_in_document_is_the_api_md_defaults_document():
    assert BUILT_IN["defaults"] == {
        "window_days": 30, "resolutions": ["refund", "store_credit", "exchange"],
        "store_credit_bonus_percent": 10, "restocking_fee_percent": 0,
        "return_shipping_fee": {"amount": 495, "reasons": ["too_small", "too_large", "changed_mind"]},
        "grades": {"resellable": 100, "opened": 90, "damaged": 50, "wrong_item": 0, "missing": 0},
        "keep_item": False, "approval_above": 50000, "review": {"order_above": 100000, "returns_in_90_days": 3}}
